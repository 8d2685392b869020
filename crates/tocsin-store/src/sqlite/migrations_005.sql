-- tocsin SQLite schema, version 5: paging.

-- Where each incident's escalation stands. The engine writes it in log order; next_at is
-- when its next step is due (NULL when stopped, acknowledged without a limit, or done), so a
-- restart picks up exactly where it was and a step that fell due meanwhile fires at once.
CREATE TABLE escalations (
    incident_id INTEGER PRIMARY KEY,
    policy      TEXT NOT NULL,
    level       INTEGER NOT NULL,
    round       INTEGER NOT NULL,
    next_at     INTEGER,
    state       TEXT NOT NULL,
    started_at  INTEGER NOT NULL
);

-- The next member of each round-robin team.
CREATE TABLE team_rotation (
    team TEXT PRIMARY KEY,
    next INTEGER NOT NULL
) WITHOUT ROWID;

-- The outbox: every notification the engine decided to send, and what became of it. The
-- dispatcher sends the pending ones that are due and reports back through the event log.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL,
    user_id         TEXT NOT NULL,
    contact         INTEGER NOT NULL,
    contact_type    TEXT NOT NULL,
    address         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    level           INTEGER,
    round           INTEGER,
    reason          TEXT NOT NULL,
    due_at          INTEGER NOT NULL,
    only_if_unacked INTEGER NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX notifications_pending ON notifications (state, due_at);
CREATE INDEX notifications_by_incident ON notifications (incident_id, id);
