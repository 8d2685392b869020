-- tocsin SQLite schema, version 3: silences.

-- One row per silence, kept after it expires (the API lists expired silences as
-- Alertmanager does). The engine writes every change; `engine_state` is how far the engine
-- has applied it (pending, active, expired), so a restart loads only the live ones.
CREATE TABLE silences (
    id           TEXT PRIMARY KEY,
    matchers     TEXT NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    comment      TEXT NOT NULL,
    -- The API caller that created or last changed it (a token name, or loopback).
    actor        TEXT NOT NULL,
    -- Who expired it, and the silence that replaced it when an update could not be made in
    -- place.
    expired_by   TEXT,
    replaced_by  TEXT,
    engine_state TEXT NOT NULL
) WITHOUT ROWID;

-- The silences that mute a firing alert now, as a JSON array of ids; NULL when none. A
-- muted alert that has not paged has incident_id 0.
ALTER TABLE alerts ADD COLUMN silenced_by TEXT;
