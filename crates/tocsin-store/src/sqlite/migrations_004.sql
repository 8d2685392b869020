-- tocsin SQLite schema, version 4: on-call schedules.

-- Overrides made at run time (the config's own are in the config). The engine writes them
-- from the event log; a deleted one is kept, with who deleted it and when, as the audit
-- trail. A later override wins where two overlap, so they are ordered by created_at.
CREATE TABLE schedule_overrides (
    id          INTEGER PRIMARY KEY,
    schedule    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    deleted_at  INTEGER,
    deleted_by  TEXT
);
CREATE INDEX schedule_overrides_by_schedule ON schedule_overrides (schedule, created_at);

-- Each user's iCalendar feed token, by its SHA-256; a new one replaces the old.
CREATE TABLE calendar_tokens (
    user_id    TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) WITHOUT ROWID;
