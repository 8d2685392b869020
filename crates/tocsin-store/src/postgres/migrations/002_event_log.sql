-- tocsin PostgreSQL schema, version 2: the event log as a table (see postgres/log.rs for why
-- it is read in (tx, seq) order and never past the oldest running transaction).
--
-- seq numbers entries as the file log's LSN does, from its own sequence; tx is the 64-bit id
-- (epoch and xid, `xid8`) of the transaction that wrote the row, as a BIGINT so that it
-- compares and binds as a plain number. format is the file log's entry format
-- (log::FORMAT), payload the same bytes a segment record holds (log::encode_entry).
CREATE SEQUENCE event_log_seq AS BIGINT;

CREATE TABLE event_log (
    seq     BIGINT PRIMARY KEY,
    tx      BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    format  INTEGER NOT NULL,
    payload BYTEA NOT NULL
);
CREATE UNIQUE INDEX event_log_order ON event_log (tx, seq);
