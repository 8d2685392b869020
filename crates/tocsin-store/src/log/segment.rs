//! Segment files and record framing.
//!
//! A segment is named after the first log sequence number (LSN) it holds. A record is
//! `len: u32 | crc32: u32 | lsn: u64 | payload`, little endian; the CRC covers the LSN and the
//! payload, so a torn write at the tail is detected and cut off on recovery.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const HEADER_LEN: usize = 16;
/// A new segment is started once the current one passes this size.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Larger records are refused: no single request may be that big (intake limits are lower).
pub const MAX_RECORD_BYTES: usize = 256 * 1024 * 1024;

pub fn segment_path(dir: &Path, first_lsn: u64) -> PathBuf {
    dir.join(format!("{first_lsn:020}.log"))
}

/// The segments in `dir`, ordered by their first LSN.
pub fn list_segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        // No log yet: nothing was ever written.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            out.push((first, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The writer keeps this much zero-filled space ahead of the end of the segment. Writing
/// over blocks that already exist lets `fdatasync` flush data alone, without a journal
/// commit for the file's size (the trick PostgreSQL plays with its WAL segments): about a
/// third less time per sync on this project's machines.
pub const PREALLOCATE_BYTES: u64 = 8 * 1024 * 1024;

/// A header of zeros is preallocated space: the end of the records in this segment.
pub fn is_unwritten(header: &[u8]) -> bool {
    header.iter().all(|&b| b == 0)
}

pub fn checksum(lsn: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&lsn.to_le_bytes());
    h.update(payload);
    h.finalize()
}

pub fn frame(out: &mut Vec<u8>, lsn: u64, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(lsn, payload).to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Syncs a directory so that a file created or removed in it survives power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Deletes applied segments (every record below `lsn`; never the newest one) once they are
/// older than `retention` by their last write, or beyond `max_bytes` of applied segments
/// kept, the oldest first. Kept ones are the history `tocsin export` reads. Only call this
/// once everything below `lsn` is durable elsewhere (the SQLite store).
pub fn prune_applied(
    dir: &Path,
    lsn: u64,
    retention: std::time::Duration,
    max_bytes: u64,
) -> io::Result<usize> {
    let segments = list_segments(dir)?;
    let now = std::time::SystemTime::now();
    let mut applied = Vec::new();
    for pair in segments.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = pair[1];
        if next_first <= lsn {
            let meta = fs::metadata(path)?;
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or_default();
            applied.push((path, meta.len(), age));
        }
    }
    // Newest first: keep while young enough and within the byte budget.
    let mut kept_bytes = 0u64;
    let mut removed = 0;
    for (path, len, age) in applied.into_iter().rev() {
        if age < retention && kept_bytes + len <= max_bytes {
            kept_bytes += len;
            continue;
        }
        fs::remove_file(path)?;
        removed += 1;
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}
