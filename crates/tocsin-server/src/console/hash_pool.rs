//! A bounded pool for password checks. Argon2 holds ~19 MiB and takes tens of milliseconds
//! per check, and the sign-in form is open to anyone: unbounded, 500 concurrent attempts
//! took the server to 1.94 GB. Checks run on a few dedicated threads, so at most that many
//! hashes are in memory and each thread's allocator reuses its block; a short queue waits
//! for them, and beyond it a check is refused at once (the page answers 503 with
//! `Retry-After`) rather than piling up.

use crossbeam_channel::{bounded, Sender};
use std::sync::OnceLock;
use tokio::sync::oneshot;

/// Threads checking passwords: the CPU count, at most this many (each holds ~19 MiB while
/// it works; sign-ins are rare, so more would only buy an attacker memory).
const MAX_WORKERS: usize = 4;
/// Checks waiting for a thread; beyond this the pool is busy. At ~50 ms a check and two
/// threads, the last in line waits under a second.
pub const QUEUE: usize = 32;

type Job = Box<dyn FnOnce() + Send>;

/// The pool is full: the caller answers "try again shortly".
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

pub struct HashPool {
    workers: usize,
    queue: usize,
    /// Started on first use, so an `Accounts` made in a test costs no threads.
    sender: OnceLock<Sender<Job>>,
}

impl Default for HashPool {
    fn default() -> HashPool {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashPool::new(cpus.min(MAX_WORKERS), QUEUE)
    }
}

impl HashPool {
    pub fn new(workers: usize, queue: usize) -> HashPool {
        HashPool {
            workers: workers.max(1),
            queue,
            sender: OnceLock::new(),
        }
    }

    fn sender(&self) -> &Sender<Job> {
        self.sender.get_or_init(|| {
            let (tx, rx) = bounded::<Job>(self.queue);
            for i in 0..self.workers {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("tocsin-password-{i}"))
                    // Ends when the pool (its sender) is dropped. A job that panics must
                    // not take its thread along: a pool with no threads left would refuse
                    // every sign-in. (Its asker sees the answer dropped: no match.)
                    .spawn(move || {
                        for job in rx {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                    })
                    .expect("a password thread starts");
            }
            tx
        })
    }

    /// Queues `job` for a thread of the pool, or refuses at once when the queue is full.
    pub fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, Busy> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The asker may have gone (the client hung up): nothing to tell then.
            let _ = tx.send(job());
        });
        self.sender().try_send(job).map_err(|_| Busy)?;
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test]
    async fn beyond_the_workers_and_the_queue_a_check_is_refused_at_once() {
        let pool = HashPool::new(1, 1);
        let (started_tx, started) = mpsc::channel();
        let (release, wait) = mpsc::channel::<()>();
        let first = pool
            .run(move || {
                started_tx.send(()).unwrap();
                wait.recv().unwrap();
                1
            })
            .unwrap();
        // The worker holds the first; the second waits in the queue; the third is refused.
        started.recv().unwrap();
        let second = pool.run(|| 2).unwrap();
        assert_eq!(pool.run(|| 3).err(), Some(Busy));
        release.send(()).unwrap();
        assert_eq!((first.await.unwrap(), second.await.unwrap()), (1, 2));
        assert_eq!(pool.run(|| 4).unwrap().await.unwrap(), 4);
    }

    #[tokio::test]
    async fn a_job_that_panics_leaves_its_thread_working() {
        let pool = HashPool::new(1, 1);
        assert!(pool.run(|| panic!("a bad hash")).unwrap().await.is_err());
        let next = pool.run(|| 5).unwrap();
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), next).await;
        assert_eq!(answer.expect("a thread took the job").unwrap(), 5);
    }
}
