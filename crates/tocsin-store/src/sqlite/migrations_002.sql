-- tocsin SQLite schema, version 2: integrations and the service catalog.

-- The configured integration an alert came through ('' for the API), and the machine it is
-- about under the catalog's name for it, so one host seen by several tools is one value.
ALTER TABLE alerts ADD COLUMN integration TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN host TEXT;

-- The last ping of each heartbeat integration: a missed interval is measured from here,
-- also across restarts.
CREATE TABLE heartbeats (
    name      TEXT PRIMARY KEY,
    last_ping INTEGER NOT NULL
) WITHOUT ROWID;
