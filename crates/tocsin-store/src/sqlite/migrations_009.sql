-- tocsin SQLite schema, version 9: storms (see docs/storms.md).

-- Every storm detected, in progress (ended_at NULL) or over. Rates are new alerts a minute.
-- The engine keeps the counts and the summary schedule here so a restart goes on with them.
CREATE TABLE storms (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,              -- 'service' or 'global'
    service TEXT,                     -- the service of a service storm
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    start_rate REAL NOT NULL,
    baseline_rate REAL NOT NULL,      -- the normal rate it was held against
    peak_rate REAL NOT NULL,
    alerts INTEGER NOT NULL DEFAULT 0,
    incidents INTEGER NOT NULL DEFAULT 0,
    lead_incident INTEGER,            -- the incident its summaries are filed under
    summaries INTEGER NOT NULL DEFAULT 0,
    next_summary_at INTEGER,          -- when the next summary may go out, if there is news
    alerts_at_summary INTEGER NOT NULL DEFAULT 0
);

-- The incidents a storm touched; `held` when the incident opened inside the storm, so its
-- own page was replaced by the storm's summary.
CREATE TABLE storm_incidents (
    storm_id INTEGER NOT NULL,
    incident_id INTEGER NOT NULL,
    held INTEGER NOT NULL,
    PRIMARY KEY (storm_id, incident_id)
);
CREATE INDEX storm_incidents_by_incident ON storm_incidents (incident_id);

-- The outbox rows that are storm summaries, so the dispatcher sends them as one.
CREATE TABLE storm_notifications (
    notification_id INTEGER PRIMARY KEY,
    storm_id INTEGER NOT NULL,
    summary INTEGER NOT NULL          -- 1 for the first summary, 2 for the first update ...
);

-- The detector's learned rates, one row per scope ('global' or 'service:ID'), as JSON:
-- what a restart needs to go on knowing what is normal.
CREATE TABLE storm_rates (
    scope TEXT PRIMARY KEY,
    state TEXT NOT NULL
);
