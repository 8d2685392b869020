-- tocsin SQLite schema, version 7: flapping.

-- 1 while the alert changes state too often (see docs/flapping.md); the engine writes it in
-- log order, the API shows and filters it.
ALTER TABLE alerts ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;

-- The recent state changes (a JSON array of times, oldest first) of the alerts that changed
-- state within the flapping window, or flap: the few rows the engine needs after a restart
-- to go on counting. A row goes when its changes leave the window.
CREATE TABLE alert_flaps (
    alert_id INTEGER PRIMARY KEY,
    changes TEXT NOT NULL
);
