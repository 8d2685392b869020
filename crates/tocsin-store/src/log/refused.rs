//! Log entries the engine refused: people's changes that were logged, then answered 503
//! because the state store could not be written (a full disk). A refused change must never
//! be applied later, after the sender was told it failed; these marks keep that true across
//! a crash, when the log is read again from the store's position.
//!
//! The marks are LSNs in a small file of fixed size, made (zero-filled, synced) when the
//! engine starts, so adding a mark overwrites bytes already on disk and needs no free space:
//! it works on the full disk that caused the refusal. A slot is free when it is zero or
//! holds an LSN the store has already passed.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// Marks the file holds: refusals only happen in the moment before the gate closes (see
/// [`super::WriteGate`]), so a few are plenty.
const SLOTS: usize = 512;
const FILE_NAME: &str = "refused-lsns";

pub struct RefusedMarks {
    file: File,
    slots: Vec<u64>,
}

impl RefusedMarks {
    /// Opens the marks in the log directory, creating the file if needed.
    pub fn open(log_dir: &Path) -> io::Result<RefusedMarks> {
        let path = log_dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        let mut bytes = vec![0u8; SLOTS * 8];
        let len = file.metadata()?.len() as usize;
        if len < bytes.len() {
            // New (or cut short): fill it now, while there is space, and make it durable.
            file.read_exact_at(&mut bytes[..len], 0)?;
            file.write_all_at(&bytes, 0)?;
            file.sync_all()?;
            super::segment::sync_dir(log_dir)?;
        } else {
            file.read_exact_at(&mut bytes, 0)?;
        }
        let slots = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        Ok(RefusedMarks { file, slots })
    }

    /// The refused LSNs above `applied`: what re-reading the log from there must skip.
    pub fn after(&self, applied: u64) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().copied().filter(move |&lsn| lsn > applied)
    }

    /// Records that `lsn` was refused, durably, in a slot no longer needed (zero, or at or
    /// below `applied`).
    pub fn add(&mut self, lsn: u64, applied: u64) -> io::Result<()> {
        let Some(slot) = self.slots.iter().position(|&l| l <= applied || l == lsn) else {
            return Err(io::Error::other(format!(
                "all {SLOTS} marks of refused entries are in use"
            )));
        };
        // Eight aligned bytes within one sector: written whole or not at all.
        self.file
            .write_all_at(&lsn.to_le_bytes(), (slot * 8) as u64)?;
        self.file.sync_data()?;
        self.slots[slot] = lsn;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_survive_reopening_and_free_slots_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut marks = RefusedMarks::open(dir.path()).unwrap();
        assert_eq!(marks.after(0).count(), 0);
        marks.add(7, 5).unwrap();
        marks.add(9, 5).unwrap();
        let marks = RefusedMarks::open(dir.path()).unwrap();
        assert_eq!(marks.after(5).collect::<Vec<_>>(), vec![7, 9]);
        assert_eq!(marks.after(7).collect::<Vec<_>>(), vec![9]);
        let mut marks = marks;
        for lsn in 10..10 + SLOTS as u64 - 1 {
            marks.add(lsn, 8).unwrap();
        }
        assert!(
            marks.add(100_000, 8).is_err(),
            "every slot holds a needed mark"
        );
        marks.add(100_000, 9).unwrap();
        assert_eq!(marks.after(99_999).collect::<Vec<_>>(), vec![100_000]);
        assert_eq!(
            std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().len(),
            (SLOTS * 8) as u64
        );
    }
}
