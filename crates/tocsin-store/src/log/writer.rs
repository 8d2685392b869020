//! The group-commit writer: one thread owns the log file. Requests that arrive while a sync
//! is in progress queue up and share the next write and `fdatasync`.
//!
//! The queue, the handle and the loop that answers each group ([`serve`]) are the same for
//! every place a log can live: the PostgreSQL store's writer thread runs the same loop with
//! its own way of making a group durable, so intake holds one [`LogWriter`] either way.

use super::gate::WriteGate;
use super::reader::Recovered;
use super::segment::{
    create_segment, frame, segment_path, sync_dir, PREALLOCATE_BYTES, SEGMENT_BYTES,
};
use crossbeam_channel::{Receiver, Sender};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// At most this many requests share one sync, so one slow group cannot grow without bound.
const MAX_GROUP: usize = 8192;

/// Receives what the writer made durable, in LSN order.
pub trait Sink<T>: Send + 'static {
    /// Called once per record after its group is on disk.
    fn committed(&mut self, lsn: u64, item: T);
    /// Called once per group, after `committed` for each of its records and before their
    /// senders are answered, with the time the write and sync took.
    fn synced(&mut self, took: Duration, records: usize);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// The log could not be written or synced; the request was not accepted.
    Io(String),
    /// The writer has stopped (shutdown in progress).
    Closed,
    /// The gate is closed (the state store cannot be written); nothing was logged.
    Refused(String),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppendError::Io(e) => write!(f, "the event log could not be written: {e}"),
            AppendError::Closed => f.write_str("the server is shutting down"),
            AppendError::Refused(why) => write!(
                f,
                "the server is read-only: {why}; nothing was stored, send it again later"
            ),
        }
    }
}

pub(crate) struct Request<T> {
    pub(crate) payload: Vec<u8>,
    item: T,
    done: oneshot::Sender<Result<u64, AppendError>>,
}

pub(crate) enum Message<T> {
    Append(Request<T>),
    /// Write what is queued before this, then stop; later appends are refused.
    Close,
}

/// A handle for appending; cheap to clone. The writer thread ends when every handle is
/// dropped, after it has written what was queued.
pub struct LogWriter<T> {
    tx: Sender<Message<T>>,
    gate: Arc<WriteGate>,
}

impl<T> Clone for LogWriter<T> {
    fn clone(&self) -> Self {
        LogWriter {
            tx: self.tx.clone(),
            gate: self.gate.clone(),
        }
    }
}

impl<T: Send + 'static> LogWriter<T> {
    pub fn start(
        dir: PathBuf,
        recovered: Recovered,
        sink: impl Sink<T>,
    ) -> io::Result<(LogWriter<T>, std::thread::JoinHandle<()>)> {
        Self::start_gated(dir, recovered, sink, Arc::default())
    }

    /// [`Self::start`], refusing appends while `gate` is closed and telling it whether
    /// the log could be written.
    pub fn start_gated(
        dir: PathBuf,
        recovered: Recovered,
        sink: impl Sink<T>,
        gate: Arc<WriteGate>,
    ) -> io::Result<(LogWriter<T>, std::thread::JoinHandle<()>)> {
        let file = OpenOptions::new().write(true).open(&recovered.segment)?;
        let allocated = file.metadata()?.len();
        let mut state = WriterThread {
            dir,
            file,
            segment: recovered.segment,
            must_rotate: false,
            len: recovered.segment_len,
            allocated,
            next_lsn: recovered.next_lsn,
            buf: Vec::with_capacity(1 << 20),
        };
        let (writer, rx) = LogWriter::channel(gate.clone());
        let handle = std::thread::Builder::new()
            .name("tocsin-log".into())
            .spawn(move || {
                super::priority::raise();
                serve(&rx, sink, &gate, |group| {
                    let first = state.write_group(group)?;
                    Ok::<_, io::Error>((first..first + group.len() as u64).collect())
                })
            })?;
        Ok((writer, handle))
    }

    /// A handle and the queue it feeds, for a writer thread that runs [`serve`].
    pub(crate) fn channel(gate: Arc<WriteGate>) -> (LogWriter<T>, Receiver<Message<T>>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (LogWriter { tx, gate }, rx)
    }

    /// Queues one encoded entry; the receiver gets its LSN once it is durable.
    fn enqueue(&self, payload: Vec<u8>, item: T) -> Result<Pending, AppendError> {
        if let Some(why) = self.gate.refusal() {
            return Err(AppendError::Refused(why));
        }
        let (done, wait) = oneshot::channel();
        let request = Request {
            payload,
            item,
            done,
        };
        self.tx
            .send(Message::Append(request))
            .map_err(|_| AppendError::Closed)?;
        Ok(wait)
    }

    /// Appends one encoded entry; resolves with its LSN once it is durable.
    pub async fn append(&self, payload: Vec<u8>, item: T) -> Result<u64, AppendError> {
        let wait = self.enqueue(payload, item)?;
        wait.await.unwrap_or(Err(AppendError::Closed))
    }

    /// The same, for callers outside the async runtime.
    pub fn append_blocking(&self, payload: Vec<u8>, item: T) -> Result<u64, AppendError> {
        let wait = self.enqueue(payload, item)?;
        wait.blocking_recv().unwrap_or(Err(AppendError::Closed))
    }

    /// Stops the writer after what is queued now; the thread ends once that is written.
    pub fn close(&self) {
        let _ = self.tx.send(Message::Close);
    }
}

type Pending = oneshot::Receiver<Result<u64, AppendError>>;

/// The loop of a writer thread: takes what is queued as one group (at most [`MAX_GROUP`]),
/// has `write` make it durable, and answers each request with its LSN (or the error), after
/// telling `sink`. `write` returns one LSN per request, in the group's order. Returns when
/// every handle is dropped or after a [`LogWriter::close`].
pub(crate) fn serve<T, S: Sink<T>, E: std::fmt::Display>(
    rx: &Receiver<Message<T>>,
    mut sink: S,
    gate: &WriteGate,
    mut write: impl FnMut(&[Request<T>]) -> Result<Vec<u64>, E>,
) {
    let mut group = Vec::new();
    let mut closing = false;
    while let Ok(first) = rx.recv() {
        match first {
            Message::Append(r) => group.push(r),
            Message::Close => closing = true,
        }
        while !closing && group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Message::Append(r)) => group.push(r),
                Ok(Message::Close) => closing = true,
                Err(_) => break,
            }
        }
        if group.is_empty() {
            break;
        }
        let started = Instant::now();
        let written = write(&group);
        let outcome = written.as_ref().map(|_| ()).map_err(|e| e.to_string());
        gate.log_written(outcome);
        match written {
            Ok(lsns) => {
                debug_assert_eq!(lsns.len(), group.len());
                let mut answers = Vec::with_capacity(group.len());
                for (lsn, r) in lsns.into_iter().zip(group.drain(..)) {
                    sink.committed(lsn, r.item);
                    answers.push((lsn, r.done));
                }
                sink.synced(started.elapsed(), answers.len());
                for (lsn, done) in answers {
                    let _ = done.send(Ok(lsn));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "event log write failed; requests refused");
                for r in group.drain(..) {
                    let _ = r.done.send(Err(AppendError::Io(e.to_string())));
                }
            }
        }
        if closing {
            break;
        }
    }
}

/// What the file writer's thread owns besides the queue.
struct WriterThread {
    dir: PathBuf,
    file: File,
    /// The segment `file` is.
    segment: PathBuf,
    /// A write failed: the next group starts a segment afresh rather than trusting this
    /// file's tail (a failed fdatasync may have dropped dirty pages).
    must_rotate: bool,
    /// Where the records end.
    len: u64,
    /// How far the file is filled (records, then preallocated zeros).
    allocated: u64,
    next_lsn: u64,
    buf: Vec<u8>,
}

impl WriterThread {
    /// Writes and syncs a group; on failure the group's bytes are cleared and writing goes
    /// on in a new segment, so no half-written group stays behind, and the LSNs are reused.
    fn write_group<T>(&mut self, group: &[Request<T>]) -> io::Result<u64> {
        if self.len >= SEGMENT_BYTES || self.must_rotate {
            self.rotate()?;
        }
        let first_lsn = self.next_lsn;
        self.buf.clear();
        for (i, r) in group.iter().enumerate() {
            frame(&mut self.buf, first_lsn + i as u64, &r.payload);
        }
        let end = self.len + self.buf.len() as u64;
        let result = self
            .preallocate(end)
            .and_then(|_| self.file.write_all_at(&self.buf, self.len))
            .and_then(|_| self.file.sync_data());
        if let Err(e) = result {
            // A failed fdatasync may have dropped dirty pages; start over in a new segment
            // rather than trusting this file's tail. When that fails too (the disk is still
            // full), the next group tries again before writing anything.
            let _ = write_zeros(&self.file, self.len, end);
            self.must_rotate = true;
            let _ = self.rotate();
            return Err(e);
        }
        self.len = end;
        self.next_lsn += group.len() as u64;
        if self.buf.capacity() > 8 << 20 {
            self.buf = Vec::with_capacity(1 << 20);
        }
        Ok(first_lsn)
    }

    /// Makes sure zero-filled space reaches past `end`, a chunk at a time; the sync that
    /// follows makes the new size durable along with the records.
    fn preallocate(&mut self, end: u64) -> io::Result<()> {
        if end <= self.allocated {
            return Ok(());
        }
        // On a nearly full disk, room for these records alone: a disk with a little space
        // left (or freed) must not refuse what fits for want of the chunk ahead. What a
        // failed attempt took is given back first, or the log would hold the disk's last
        // free space and starve the state store.
        let target = match write_zeros(&self.file, self.allocated, end + PREALLOCATE_BYTES) {
            Ok(()) => end + PREALLOCATE_BYTES,
            Err(_) => {
                self.file.set_len(self.allocated)?;
                if let Err(e) = write_zeros(&self.file, self.allocated, end) {
                    let _ = self.file.set_len(self.allocated);
                    return Err(e);
                }
                end
            }
        };
        self.allocated = target;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let path = segment_path(&self.dir, self.next_lsn);
        let (file, _, start) = create_segment(&path)?;
        sync_dir(&self.dir)?;
        self.allocated = file.metadata()?.len();
        // The same path when the group that failed was the first of this segment: the same
        // file goes on, from where its records end. Any other is new (or left empty by a
        // rotation that failed): records start after its header.
        if path != self.segment {
            self.len = start;
        }
        self.file = file;
        self.segment = path;
        self.must_rotate = false;
        Ok(())
    }
}

fn write_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(())
}
