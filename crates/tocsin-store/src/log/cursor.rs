//! A cursor that tails the log: the engine reads every entry from disk in LSN order, both
//! when it recovers and while it runs. Reading back from the page cache is cheap, and it
//! bounds memory: an engine that falls behind during a storm leaves its backlog on disk, not
//! in a queue.

use super::entry::{decode_entry, LogEntry};
use super::segment::{checksum, is_unwritten, list_segments, HEADER_LEN, MAX_RECORD_BYTES};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;

pub struct LogCursor {
    dir: PathBuf,
    reader: Option<BufReader<File>>,
    /// The LSN of the next record to return.
    next_lsn: u64,
    header: [u8; HEADER_LEN],
    payload: Vec<u8>,
    /// The LSN for which the segments were searched again after an end of file, so a
    /// missing record is an error instead of an endless search.
    searched_for: Option<u64>,
}

fn corrupt(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl LogCursor {
    /// A cursor whose first record is the one after `after`.
    pub fn open(dir: PathBuf, after: u64) -> LogCursor {
        LogCursor {
            dir,
            reader: None,
            next_lsn: after + 1,
            header: [0; HEADER_LEN],
            payload: Vec::new(),
            searched_for: None,
        }
    }

    /// The next entry if its LSN is at most `upto` (the last durable LSN), else `None`.
    pub fn next(&mut self, upto: u64) -> io::Result<Option<(u64, LogEntry)>> {
        while self.next_lsn <= upto {
            if self.reader.is_none() {
                self.open_segment()?;
            }
            let reader = self.reader.as_mut().expect("a segment is open");
            let read = match reader.read_exact(&mut self.header) {
                Ok(()) if is_unwritten(&self.header) => Err(io::ErrorKind::UnexpectedEof.into()),
                other => other,
            };
            match read {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // The rest of this segment is unwritten: the record is in the next
                    // segment (the writer rotated).
                    if self.searched_for == Some(self.next_lsn) {
                        return Err(corrupt(format!("log record {} is missing", self.next_lsn)));
                    }
                    self.searched_for = Some(self.next_lsn);
                    self.reader = None;
                    self.open_segment()?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let len = u32::from_le_bytes(self.header[0..4].try_into().unwrap()) as usize;
            let crc = u32::from_le_bytes(self.header[4..8].try_into().unwrap());
            let lsn = u64::from_le_bytes(self.header[8..16].try_into().unwrap());
            let valid = len <= MAX_RECORD_BYTES && {
                self.payload.resize(len, 0);
                reader.read_exact(&mut self.payload).is_ok() && checksum(lsn, &self.payload) == crc
            };
            if !valid {
                // What a failed write left behind; the writer went on in a new segment that
                // starts with the record we want.
                if self.searched_for != Some(self.next_lsn) && self.segment_starts(self.next_lsn)? {
                    self.searched_for = Some(self.next_lsn);
                    self.reader = None;
                    continue;
                }
                return Err(corrupt(format!("log record {}: damaged", self.next_lsn)));
            }
            if lsn < self.next_lsn {
                continue; // before the starting point, in the first segment read
            }
            if lsn != self.next_lsn {
                return Err(corrupt(format!(
                    "log record {lsn} found where {} was expected",
                    self.next_lsn
                )));
            }
            self.next_lsn += 1;
            let entry = decode_entry(&self.payload)
                .map_err(|e| corrupt(format!("log record {lsn}: {e}")))?;
            return Ok(Some((lsn, entry)));
        }
        Ok(None)
    }

    fn segment_starts(&self, lsn: u64) -> io::Result<bool> {
        Ok(list_segments(&self.dir)?
            .iter()
            .any(|(first, _)| *first == lsn))
    }

    /// Opens the segment that holds `next_lsn`: the last one starting at or before it.
    fn open_segment(&mut self) -> io::Result<()> {
        let segments = list_segments(&self.dir)?;
        let (_, path) = segments
            .iter()
            .rev()
            .find(|(first, _)| *first <= self.next_lsn)
            .ok_or_else(|| corrupt(format!("no log segment holds record {}", self.next_lsn)))?;
        // A segment that ends before next_lsn is skipped by reading; rotation means the
        // wanted record starts a later segment, which the search above already prefers.
        self.reader = Some(BufReader::with_capacity(1 << 20, File::open(path)?));
        Ok(())
    }
}
