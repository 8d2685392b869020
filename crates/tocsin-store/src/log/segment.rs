//! Segment files and record framing.
//!
//! A segment is named after the first log sequence number (LSN) it holds. It starts with a
//! header, `magic "tocsinlg" | format: u32 | 0u32`, then records. A record is
//! `len: u32 | crc32: u32 | lsn: u64 | payload`, little endian; the CRC covers the LSN and the
//! payload, so a torn write at the tail is detected and cut off on recovery.
//!
//! The format version says how payloads are encoded, so that a binary whose log entries
//! gained a field still reads the segments an older one wrote (the kept week `tocsin export`
//! reads). Segments written before the header existed are format 0: records from byte 0.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub const HEADER_LEN: usize = 16;

/// The first bytes of every segment since format 1. As a format-0 record header, "tocs"
/// would be a length of 1.9 GB, above [`MAX_RECORD_BYTES`]: the two cannot be confused.
pub const MAGIC: [u8; 8] = *b"tocsinlg";
/// The format this binary writes.
pub const FORMAT: u32 = 1;
/// The formats this binary reads: 0 (no header) and 1 have the same records and payloads.
pub const FORMATS_READ: std::ops::RangeInclusive<u32> = 0..=FORMAT;
/// Bytes before the first record of a segment of the current format.
pub const SEGMENT_HEADER_LEN: u64 = 16;

/// The header a new segment starts with.
pub fn segment_header() -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0; SEGMENT_HEADER_LEN as usize];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&FORMAT.to_le_bytes());
    h
}

/// A segment's format and where its records start, from its first bytes (fewer than 16
/// when the file is shorter). A segment not written yet (empty or zeros: the writer
/// creates it, then writes its header) is of the current format.
pub fn segment_format(first: &[u8]) -> Result<(u32, u64), String> {
    if first.len() < SEGMENT_HEADER_LEN as usize || is_unwritten(first) {
        return Ok((FORMAT, SEGMENT_HEADER_LEN));
    }
    if first[..8] != MAGIC {
        return Ok((0, 0));
    }
    let format = u32::from_le_bytes(first[8..12].try_into().unwrap());
    if !FORMATS_READ.contains(&format) {
        return Err(format!(
            "written in event log format {format} by a newer tocsin; this one reads formats {} to {}",
            FORMATS_READ.start(),
            FORMATS_READ.end()
        ));
    }
    Ok((format, SEGMENT_HEADER_LEN))
}

/// Reads the format of the segment at `path`.
pub fn read_segment_format(path: &Path) -> io::Result<(u32, u64)> {
    use std::io::Read;
    let mut first = Vec::with_capacity(SEGMENT_HEADER_LEN as usize);
    fs::File::open(path)?
        .take(SEGMENT_HEADER_LEN)
        .read_to_end(&mut first)?;
    format_of(path, &first)
}

/// [`segment_format`] of the first bytes of the segment at `path`, as an I/O error naming it.
fn format_of(path: &Path, first: &[u8]) -> io::Result<(u32, u64)> {
    segment_format(first).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

/// Creates the segment at `path` with its header, readable by its owner only, and syncs
/// it; the caller syncs the directory. An existing file keeps its contents, and gets a
/// header if it has none yet (a creation cut short). Returns the file, its format and where
/// records start.
pub fn create_segment(path: &Path) -> io::Result<(fs::File, u32, u64)> {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    let mut first = [0; SEGMENT_HEADER_LEN as usize];
    let len = file.read_at(&mut first, 0)?;
    let (format, start) = format_of(path, &first[..len])?;
    if start == SEGMENT_HEADER_LEN && (len < first.len() || is_unwritten(&first)) {
        file.write_all_at(&segment_header(), 0)?;
        file.sync_data()?;
    }
    Ok((file, format, start))
}
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_says_its_format_and_where_records_start() {
        assert_eq!(segment_format(&segment_header()), Ok((FORMAT, 16)));
        // Created but not written yet, or preallocated: the current format.
        assert_eq!(segment_format(&[]), Ok((FORMAT, 16)));
        assert_eq!(segment_format(&[0; 16]), Ok((FORMAT, 16)));
        // Written before headers: a record from byte 0.
        let mut old = Vec::new();
        frame(&mut old, 1, b"payload");
        assert_eq!(segment_format(&old[..16]), Ok((0, 0)));
    }

    #[test]
    fn a_newer_format_is_refused_by_name() {
        let mut h = segment_header();
        h[8..12].copy_from_slice(&7u32.to_le_bytes());
        let err = segment_format(&h).unwrap_err();
        assert!(
            err.contains("format 7") && err.contains("newer tocsin"),
            "{err}"
        );
    }

    #[test]
    fn the_magic_cannot_be_read_as_a_record_length() {
        let len = u32::from_le_bytes(MAGIC[..4].try_into().unwrap()) as usize;
        assert!(len > MAX_RECORD_BYTES);
    }
}
