//! The group-commit writer of the log table: the file log's queue and loop
//! ([`crate::log::LogWriter`]), with one transaction per group instead of a write and an
//! `fdatasync`. The commit returns once PostgreSQL has flushed it, so an answered request is
//! durable there.

use crate::log::{serve, Request};
use crate::log::{LogWriter, Sink, WriteGate, FORMAT};
use crate::postgres::pool::{connect, describe, OpenError};
use postgres::{Client, Config, Statement};
use std::sync::Arc;

/// Numbers for a group in one round trip; sorted after (a set-returning query does not
/// promise its order).
const NEXT_SEQS: &str = "SELECT nextval('event_log_seq') FROM generate_series(1, $1::bigint)";
/// The group's rows, numbered; `tx` comes from its default, so the whole group has the id of
/// this statement's transaction.
const INSERT: &str = "INSERT INTO event_log (seq, format, payload)
     SELECT seq, $2::integer, payload FROM unnest($1::bigint[], $3::bytea[]) AS g(seq, payload)";

/// Starts the writer thread on its own connection to `config` and returns the handle intake
/// appends through. Fails when the database cannot be reached; afterwards a lost connection
/// is made again for the next group.
pub fn start_writer<T: Send + 'static>(
    config: &Config,
    sink: impl Sink<T>,
    gate: Arc<WriteGate>,
) -> Result<(LogWriter<T>, std::thread::JoinHandle<()>), OpenError> {
    let mut config = config.clone();
    // Named apart from the pool's, so an operator (and a test) can find it.
    config.application_name("tocsin-log");
    let mut state = GroupWriter {
        conn: Some(Conn::open(&config)?),
        config,
    };
    let (writer, rx) = LogWriter::channel(gate.clone());
    let handle = std::thread::Builder::new()
        .name("tocsin-log-pg".into())
        .spawn(move || serve(&rx, sink, &gate, |group| state.write_group(group)))
        .map_err(OpenError::Thread)?;
    Ok((writer, handle))
}

/// A connection with the writer's statements prepared on it.
struct Conn {
    client: Client,
    next_seqs: Statement,
    insert: Statement,
}

impl Conn {
    fn open(config: &Config) -> Result<Conn, OpenError> {
        let mut client = connect(config)?;
        Conn::prepare(&mut client)
            .map(|(next_seqs, insert)| Conn {
                client,
                next_seqs,
                insert,
            })
            .map_err(OpenError::Connect)
    }

    fn prepare(client: &mut Client) -> Result<(Statement, Statement), postgres::Error> {
        // An answered request must be durable, whatever the database or role default says.
        client.batch_execute("SET synchronous_commit = on")?;
        Ok((client.prepare(NEXT_SEQS)?, client.prepare(INSERT)?))
    }

    /// Numbers for `count` entries, ascending. Outside any transaction: a sequence is not
    /// transactional anyway, and numbers a failed group took are only a gap.
    fn next_seqs(&mut self, count: usize) -> Result<Vec<i64>, postgres::Error> {
        let mut seqs: Vec<i64> = (self.client.query(&self.next_seqs, &[&(count as i64)])?)
            .iter()
            .map(|row| row.get(0))
            .collect();
        seqs.sort_unstable();
        Ok(seqs)
    }

    /// Inserts the group under `seqs` in one statement, which is its own transaction.
    fn insert<T>(&mut self, seqs: &[i64], group: &[Request<T>]) -> Result<(), postgres::Error> {
        let payloads: Vec<&[u8]> = group.iter().map(|r| r.payload.as_slice()).collect();
        self.client
            .execute(&self.insert, &[&seqs, &(FORMAT as i32), &payloads])?;
        Ok(())
    }
}

struct GroupWriter {
    config: Config,
    /// `None` after the connection was found broken; made again for the next group.
    conn: Option<Conn>,
}

impl GroupWriter {
    /// The connection, made again first if it was found broken.
    fn conn(&mut self) -> Result<&mut Conn, String> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = None;
            self.conn = Some(Conn::open(&self.config).map_err(|e| e.to_string())?);
        }
        Ok(self.conn.as_mut().expect("just connected"))
    }

    /// Inserts and commits a group, in two round trips (its numbers, then one `INSERT` that
    /// commits by itself); returns each request's `seq`, in the group's order.
    fn write_group<T>(&mut self, group: &[Request<T>]) -> Result<Vec<u64>, String> {
        // A connection the server closed while it was idle (a restart) shows only when it is
        // used. Nothing of the group is stored before the INSERT, so a failure before it on a
        // closed connection is retried on a new one; a failed INSERT has an unknown outcome
        // and the group is refused (a sender that tries again may then be stored twice, as
        // with any timeout).
        let seqs = match self.conn()?.next_seqs(group.len()) {
            Ok(seqs) => seqs,
            Err(e) if self.conn.as_ref().is_some_and(|c| !c.client.is_closed()) => {
                return Err(describe(&e));
            }
            Err(_) => self
                .conn()?
                .next_seqs(group.len())
                .map_err(|e| describe(&e))?,
        };
        self.conn()?
            .insert(&seqs, group)
            .map_err(|e| describe(&e))?;
        Ok(seqs.into_iter().map(|s| s as u64).collect())
    }
}
