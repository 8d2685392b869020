//! A cursor that tails the log: the engine reads every entry from disk in LSN order, both
//! when it recovers and while it runs. Reading back from the page cache is cheap, and it
//! bounds memory: an engine that falls behind during a storm leaves its backlog on disk, not
//! in a queue.

use super::entry::{decode_entry_of, LogEntry};
use super::segment::{
    checksum, is_unwritten, list_segments, read_segment_format, HEADER_LEN, MAX_RECORD_BYTES,
};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

pub struct LogCursor {
    dir: PathBuf,
    /// The open segment: its first LSN and a reader positioned at `pos`.
    reader: Option<(u64, BufReader<File>)>,
    /// The first LSN of the segment after the open one, when there was one at opening.
    /// Records from there on in the open segment are what a failed write left: the writer
    /// refused them and went on in that segment, reusing their LSNs.
    next_first: Option<u64>,
    pos: u64,
    /// The open segment's format: how its payloads are decoded.
    format: u32,
    /// The LSN of the next record to return.
    next_lsn: u64,
    header: [u8; HEADER_LEN],
    payload: Vec<u8>,
    /// The position already read again from disk after finding nothing there, so a stale
    /// buffer is refreshed once, and a record that is really missing is an error.
    refreshed_at: Option<u64>,
}

fn corrupt(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// What is at the cursor's position.
enum Found {
    Record {
        lsn: u64,
        size: u64,
    },
    /// Nothing valid: preallocated zeros, the end of the file, or what a failed write left.
    Gap,
}

impl LogCursor {
    /// A cursor whose first record is the one after `after`.
    pub fn open(dir: PathBuf, after: u64) -> LogCursor {
        LogCursor {
            dir,
            reader: None,
            next_first: None,
            pos: 0,
            format: 0,
            next_lsn: after + 1,
            header: [0; HEADER_LEN],
            payload: Vec::new(),
            refreshed_at: None,
        }
    }

    /// The next entry if its LSN is at most `upto` (the last durable LSN), else `None`.
    pub fn next(&mut self, upto: u64) -> io::Result<Option<(u64, LogEntry)>> {
        while self.next_lsn <= upto {
            if self.reader.is_none() {
                self.open_segment(None)?;
            }
            match self.read_record()? {
                Found::Record { lsn, size } => {
                    self.pos += size;
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
                    let entry = decode_entry_of(self.format, &self.payload)
                        .map_err(|e| corrupt(format!("log record {lsn}: {e}")))?;
                    return Ok(Some((lsn, entry)));
                }
                Found::Gap if self.refreshed_at != Some(self.pos) => {
                    // The buffer may hold what was there before the writer wrote: read again.
                    self.refreshed_at = Some(self.pos);
                    let (_, reader) = self.reader.as_mut().expect("a segment is open");
                    reader.seek(SeekFrom::Start(self.pos))?;
                }
                Found::Gap => {
                    // The record is not in this segment: the writer went on in a new one
                    // that starts with it (rotation, or after a failed write).
                    let current = self.reader.as_ref().map(|(first, _)| *first);
                    if current == Some(self.next_lsn) || !self.open_segment(Some(self.next_lsn))? {
                        return Err(corrupt(format!("log record {} is missing", self.next_lsn)));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Reads the record at the position into `payload`.
    fn read_record(&mut self) -> io::Result<Found> {
        let (_, reader) = self.reader.as_mut().expect("a segment is open");
        if let Err(e) = reader.read_exact(&mut self.header) {
            return if e.kind() == io::ErrorKind::UnexpectedEof {
                Ok(Found::Gap)
            } else {
                Err(e)
            };
        }
        if is_unwritten(&self.header) {
            return Ok(Found::Gap);
        }
        let len = u32::from_le_bytes(self.header[0..4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(self.header[4..8].try_into().unwrap());
        let lsn = u64::from_le_bytes(self.header[8..16].try_into().unwrap());
        if len > MAX_RECORD_BYTES {
            return Ok(Found::Gap);
        }
        self.payload.resize(len, 0);
        if let Err(e) = reader.read_exact(&mut self.payload) {
            return if e.kind() == io::ErrorKind::UnexpectedEof {
                Ok(Found::Gap)
            } else {
                Err(e)
            };
        }
        if checksum(lsn, &self.payload) != crc {
            return Ok(Found::Gap);
        }
        // The writer zeroes a failed group before it moves on, but those zeros may not have
        // reached the disk (a failed sync, then a crash): never read a refused record back.
        if self.next_first.is_some_and(|next| lsn >= next) {
            return Ok(Found::Gap);
        }
        Ok(Found::Record {
            lsn,
            size: (HEADER_LEN + len) as u64,
        })
    }

    /// Opens the segment starting exactly at `exactly`, or (`None`) the last one starting at
    /// or before `next_lsn`. Returns false when there is no such segment to open.
    fn open_segment(&mut self, exactly: Option<u64>) -> io::Result<bool> {
        let segments = list_segments(&self.dir)?;
        let found = match exactly {
            Some(lsn) => segments.iter().position(|(first, _)| *first == lsn),
            None => segments
                .iter()
                .rposition(|(first, _)| *first <= self.next_lsn),
        };
        let Some((first, path)) = found.map(|i| &segments[i]) else {
            if exactly.is_some() {
                return Ok(false);
            }
            return Err(corrupt(format!(
                "no log segment holds record {}",
                self.next_lsn
            )));
        };
        self.next_first = found
            .and_then(|i| segments.get(i + 1))
            .map(|(next, _)| *next);
        let (format, start) = read_segment_format(path)?;
        let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
        reader.seek(SeekFrom::Start(start))?;
        self.reader = Some((*first, reader));
        self.format = format;
        self.pos = start;
        self.refreshed_at = None;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::entry::encode_entry;
    use super::super::segment::{frame, segment_path};
    use super::*;
    use tocsin_core::command::{Command, IncidentAction};

    fn comment(text: &str) -> LogEntry {
        LogEntry::Command(Command {
            incident_id: 1,
            action: IncidentAction::Comment(text.into()),
            actor: "test".into(),
            reason: String::new(),
            at: 1,
        })
    }

    fn segment(dir: &std::path::Path, first: u64, records: &[(u64, &str)]) {
        let mut bytes = Vec::new();
        for (lsn, text) in records {
            frame(&mut bytes, *lsn, &encode_entry(&comment(text)));
        }
        bytes.resize(bytes.len() + 4096, 0);
        std::fs::write(segment_path(dir, first), bytes).unwrap();
    }

    /// A group whose write or sync failed was refused, and the writer went on in a new
    /// segment from the group's first LSN. If the zeros meant to clear the group never reached
    /// the disk, the refused record is still in the old segment after a crash: the cursor
    /// must read the new segment's record with that LSN, never the refused one.
    #[test]
    fn a_refused_record_left_in_an_older_segment_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        segment(dir.path(), 1, &[(1, "one"), (2, "two"), (3, "refused")]);
        segment(dir.path(), 3, &[(3, "three"), (4, "four")]);
        let mut cursor = LogCursor::open(dir.path().to_path_buf(), 0);
        let mut seen = Vec::new();
        while let Some((lsn, entry)) = cursor.next(4).unwrap() {
            seen.push((lsn, entry));
        }
        let expected: Vec<(u64, LogEntry)> = [(1, "one"), (2, "two"), (3, "three"), (4, "four")]
            .into_iter()
            .map(|(lsn, text)| (lsn, comment(text)))
            .collect();
        assert_eq!(seen, expected);
    }
}
