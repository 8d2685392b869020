-- tocsin SQLite schema, version 8: recurring silences made at run time, and the audit trail
-- of silence changes.

-- Recurring maintenance windows made through the API (config windows live in the config).
-- `spec` is the window as written (JSON of the config's form), parsed again at start by
-- the same code as config windows. A deleted one is kept, with who deleted it (their words
-- are in silence_audit).
CREATE TABLE maintenance_windows (
    id          TEXT PRIMARY KEY,
    spec        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    deleted_at  INTEGER,
    deleted_by  TEXT
) WITHOUT ROWID;

-- Every change people made to silences and recurring windows, in log order: who (the API
-- caller), what (create, update, expire, delete), and their words.
CREATE TABLE silence_audit (
    seq     INTEGER PRIMARY KEY,
    target  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    comment TEXT NOT NULL
);
CREATE INDEX silence_audit_by_target ON silence_audit (target, seq);
