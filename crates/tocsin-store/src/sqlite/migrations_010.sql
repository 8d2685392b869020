-- Alertmanager-style group timing (incidents.routes): each open incident's group_wait,
-- group_interval and repeat_interval timers, kept so a restart goes on where it was.
CREATE TABLE group_timers (
    incident_id    INTEGER PRIMARY KEY,
    -- group_wait: the first page waits until then (NULL once it has gone or never waited).
    wait_until     INTEGER,
    -- group_interval: the next look for alerts that joined since the people were told.
    next_update_at INTEGER,
    -- The incident's alert count the paged people know of, and since when.
    announced      INTEGER NOT NULL,
    announced_at   INTEGER NOT NULL,
    -- repeat_interval: the next re-notification while it stays triggered and firing.
    next_repeat_at INTEGER
);

-- Why a notification exists: 'page' (escalation, reassignment), 'update' (alerts joined an
-- incident already paged; `since` is when the reader was last told) or 'repeat'.
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'page';
ALTER TABLE notifications ADD COLUMN since INTEGER;
