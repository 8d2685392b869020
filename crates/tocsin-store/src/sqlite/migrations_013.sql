-- Services seen in alerts but not in the config's catalog (discovered services): the engine
-- adds one when an alert first names it and moves last_seen as its alerts arrive.
CREATE TABLE discovered_services (
    id         TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
