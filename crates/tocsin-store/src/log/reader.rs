//! Reading the log back: recovery after a crash, and replay into the engine.

use super::segment::{
    checksum, create_segment, list_segments, segment_path, FORMAT, HEADER_LEN, MAX_RECORD_BYTES,
};
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Where the writer resumes after recovery.
#[derive(Debug)]
pub struct Recovered {
    /// The LSN the next record gets.
    pub next_lsn: u64,
    /// The segment to append to and its valid length.
    pub segment: PathBuf,
    pub segment_len: u64,
}

/// One parsed record, or where the valid data ends.
enum Next {
    /// The record's LSN and where the next one starts.
    Record(u64, usize),
    End,
}

fn next_record(data: &[u8], at: usize) -> Next {
    let rest = &data[at..];
    if rest.len() < HEADER_LEN {
        return Next::End;
    }
    let len = u32::from_le_bytes(rest[0..4].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
    let lsn = u64::from_le_bytes(rest[8..16].try_into().unwrap());
    if len > MAX_RECORD_BYTES || rest.len() < HEADER_LEN + len {
        return Next::End;
    }
    let payload = &rest[HEADER_LEN..HEADER_LEN + len];
    if checksum(lsn, payload) != crc {
        return Next::End;
    }
    Next::Record(lsn, at + HEADER_LEN + len)
}

/// Opens (or creates) the log in `dir`, clears a torn record at the tail of the newest
/// segment (a write that was never acknowledged), and tells where to continue.
pub fn recover(dir: &Path) -> io::Result<Recovered> {
    // Owner only: the log holds alerts, contacts and who did what.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let segments = list_segments(dir)?;
    let Some((first, path)) = segments.last().cloned() else {
        let path = segment_path(dir, 1);
        let (_, _, start) = create_segment(&path)?;
        super::segment::sync_dir(dir)?;
        return Ok(Recovered {
            next_lsn: 1,
            segment: path,
            segment_len: start,
        });
    };
    // A header the writer had no time to write is written now; a segment of a format newer
    // than this binary reads stops the start here, before anything is appended to it.
    let (_, format, start) = create_segment(&path)?;
    let data = fs::read(&path)?;
    let start = start as usize;
    let mut at = start;
    let mut next_lsn = first;
    while let Next::Record(lsn, end) = next_record(&data, at) {
        // Records run on without gaps; anything else is the end of what was written.
        if at > start && lsn != next_lsn {
            break;
        }
        next_lsn = lsn + 1;
        at = end;
    }
    // Past the end there should be only the zeros the writer preallocated. Anything else is
    // a write that never completed (never acknowledged): zero it, so it can never be read
    // as a record later.
    if data[at..].iter().any(|&b| b != 0) {
        tracing::warn!(
            segment = %path.display(),
            valid = at,
            total = data.len(),
            "clearing an incomplete record at the end of the event log"
        );
        let f = OpenOptions::new().write(true).open(&path)?;
        std::os::unix::fs::FileExt::write_all_at(&f, &vec![0; data.len() - at], at as u64)?;
        f.sync_all()?;
    }
    if format != FORMAT {
        // An older binary wrote this segment: new records go to a segment of this format,
        // so that no file mixes two.
        let path = segment_path(dir, next_lsn);
        let (_, _, start) = create_segment(&path)?;
        super::segment::sync_dir(dir)?;
        return Ok(Recovered {
            next_lsn,
            segment: path,
            segment_len: start,
        });
    }
    Ok(Recovered {
        next_lsn,
        segment: path,
        segment_len: at as u64,
    })
}

impl Recovered {
    /// Makes the next record get at least `lsn`. Needed when the state store has applied
    /// more than the log holds (the log was lost or the store restored from elsewhere): new
    /// entries must not be numbered below what the engine has already applied, or it
    /// would skip them. The writer then starts a new segment at `lsn`.
    pub fn continue_after(&mut self, dir: &Path, applied: u64) -> io::Result<()> {
        if self.next_lsn > applied {
            return Ok(());
        }
        tracing::warn!(
            log_end = self.next_lsn - 1,
            applied,
            "the state store is ahead of the event log; numbering continues after it"
        );
        self.next_lsn = applied + 1;
        self.segment = segment_path(dir, self.next_lsn);
        let (_, _, start) = create_segment(&self.segment)?;
        super::segment::sync_dir(dir)?;
        self.segment_len = start;
        Ok(())
    }
}
