//! How many connections the open-file limit allows. The soft limit is raised to the hard
//! one at start, as Go programs do (the hard limit is what the administrator allowed; the
//! soft one is often a 1024 left over from `select`); connections get what is left after a
//! reserve for the store, the event log and outbound sends, so the server refuses nothing
//! for want of a file descriptor ("Too many open files").

/// Descriptors kept for everything but client connections: SQLite and its WAL, the event
/// log's segments, the read pool, outbound HTTPS and mail, the listener itself.
pub const RESERVE: u64 = 256;

/// The open-file limit after raising the soft limit to the hard one: (before, after).
pub fn raise() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads the struct we own. Failure keeps the soft limit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    Ok((before, limit.rlim_cur))
}

/// Connections to serve at once under an open-file limit of `files`: `requested` if it
/// fits, else an error that says how to make room.
pub fn connection_limit(files: u64, requested: Option<usize>) -> Result<usize, String> {
    // A small limit (tests, odd systems) still leaves half for connections.
    let room = files.saturating_sub(RESERVE).max(files / 2);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    match requested {
        None => Ok(room),
        Some(0) => Err("--max-connections must be at least 1".into()),
        Some(n) if n <= room => Ok(n),
        Some(n) => Err(format!(
            "--max-connections {n} is more than the open-file limit allows ({room}: {files} \
             files less {RESERVE} kept for the store, log and outbound sends); raise the limit \
             (LimitNOFILE= in the systemd unit, ulimit -n) or ask for fewer"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_get_the_files_left_after_the_reserve() {
        assert_eq!(connection_limit(1024, None), Ok(768));
        assert_eq!(connection_limit(65536, None), Ok(65280));
        assert_eq!(connection_limit(300, None), Ok(150));
        assert_eq!(connection_limit(1024, Some(100)), Ok(100));
        let e = connection_limit(1024, Some(2000)).unwrap_err();
        assert!(e.contains("768") && e.contains("LimitNOFILE"), "{e}");
        assert!(connection_limit(1024, Some(0)).is_err());
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let (before, after) = raise().expect("getrlimit");
        assert!(after >= before);
    }
}
