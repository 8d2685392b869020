-- Web console accounts made by an admin (config users sign in with the hash in the config).
CREATE TABLE console_logins (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL
);

-- Signed-in console sessions, by the SHA-256 of the cookie, so a copy of the store gives no
-- one a session.
CREATE TABLE console_sessions (
    sha256     TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);

-- What each person chose in the console: language and time zone.
CREATE TABLE console_prefs (
    user_id   TEXT PRIMARY KEY,
    language  TEXT,
    time_zone TEXT
);
