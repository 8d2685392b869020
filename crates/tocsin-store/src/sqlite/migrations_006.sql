-- tocsin SQLite schema, version 6: inhibition.

-- The JSON array of the firing source alerts (their ids) whose inhibition rules mute this
-- alert; NULL when none. Like silenced_by, the engine writes it in log order and reads it
-- back at start.
ALTER TABLE alerts ADD COLUMN inhibited_by TEXT;
