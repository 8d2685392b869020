-- What correlation learned of which kinds of alert fire together (docs/correlation.md),
-- kept so a restart goes on knowing it. Kind ids are 64-bit hashes stored as their i64 bit
-- pattern; counts are in firings, halved now and then (so not whole numbers).
CREATE TABLE cofire_kinds (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,              -- the normalised name, for explanations
    fired REAL NOT NULL,
    linked REAL NOT NULL DEFAULT 0    -- firings that had a companion close by
);

-- Pairs of kinds (a <= b as u64): how often they fired together on linked things, and how
-- often people split them apart.
CREATE TABLE cofire_pairs (
    a        INTEGER NOT NULL,
    b        INTEGER NOT NULL,
    together REAL NOT NULL,
    apart    REAL NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
