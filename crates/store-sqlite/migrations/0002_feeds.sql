-- Vulnerability feeds and the documents imported from them. Each import is
-- a generation; exactly one per feed is current (what assessments read),
-- the one before it is kept, non-current, for comparison.

CREATE TABLE feeds (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN
                   ('osv', 'debian-tracker', 'debian-dsa', 'debian-dla', 'alpine-secdb')),
    source     TEXT NOT NULL,
    releases   TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE feed_generations (
    id          INTEGER PRIMARY KEY,
    feed_id     INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    imported_at INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    -- The document exactly as imported (compressed files stay compressed).
    document    BLOB NOT NULL,
    advisories  INTEGER NOT NULL,
    current     INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX feed_generations_by_feed ON feed_generations (feed_id, id);
-- At most one current generation per feed, enforced by the database.
CREATE UNIQUE INDEX feed_generations_current ON feed_generations (feed_id) WHERE current;
