-- tocsin SQLite schema, version 1.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per alert identity (source + dedup_key); episodes and counts change in place,
-- every transition is kept in alert_history.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    dedup_key   TEXT NOT NULL,
    name        TEXT NOT NULL,
    service     TEXT NOT NULL,
    status      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    summary     TEXT NOT NULL,
    description TEXT NOT NULL,
    labels      TEXT NOT NULL,
    links       TEXT NOT NULL,
    episode     INTEGER NOT NULL,
    occurrences INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    ends_at     INTEGER,
    incident_id INTEGER NOT NULL
);
-- Every index costs each insert, and the engine inserts one row per new alert, so only the
-- lookups that would otherwise scan a large table get one. A status filter walks alerts
-- newest first and stops at a full page instead.
CREATE INDEX alerts_by_service ON alerts (service, id);
CREATE INDEX alerts_by_incident ON alerts (incident_id, id);

-- Keyed by alert, so one alert's history is one range and needs no second index; seq is
-- numbered by the engine (meta.history_seq) and orders entries across alerts.
CREATE TABLE alert_history (
    alert_id    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    episode     INTEGER NOT NULL,
    incident_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (alert_id, seq)
) WITHOUT ROWID;
CREATE INDEX alert_history_by_incident ON alert_history (incident_id, seq);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    service         TEXT NOT NULL,
    team            TEXT NOT NULL,
    state           TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    priority_manual INTEGER NOT NULL,
    impact          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    group_key       TEXT NOT NULL,
    assignee        TEXT,
    alert_count     INTEGER NOT NULL,
    firing_count    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    acknowledged_at INTEGER,
    resolved_at     INTEGER,
    closed_at       INTEGER,
    last_alert_at   INTEGER NOT NULL
);
CREATE INDEX incidents_by_state ON incidents (state, id);
CREATE INDEX incidents_by_service ON incidents (service, id);

CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident_id, id);

CREATE TABLE api_tokens (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    sha256     TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
