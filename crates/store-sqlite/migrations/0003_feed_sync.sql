-- Two more feed kinds (OVAL documents and the Ubuntu CVE tracker), and what
-- a feed's last download left behind: the validators for a conditional
-- request next time, and when and how the last attempt ended.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- (foreign keys are off while migrations run, so the generations that
-- refer to it stay as they are).

CREATE TABLE feeds_new (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN
                       ('osv', 'debian-tracker', 'debian-dsa', 'debian-dla', 'alpine-secdb',
                        'oval', 'ubuntu-tracker')),
    source         TEXT NOT NULL,
    releases       TEXT NOT NULL DEFAULT '',
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    -- HTTP validators of the document last downloaded (NULL: none given).
    etag           TEXT,
    last_modified  TEXT,
    -- The last sync attempt: when, and its error (NULL when it succeeded).
    synced_at      INTEGER,
    sync_error     TEXT
);

INSERT INTO feeds_new (id, name, kind, source, releases, enabled, created_at)
    SELECT id, name, kind, source, releases, enabled, created_at FROM feeds;
DROP TABLE feeds;
ALTER TABLE feeds_new RENAME TO feeds;
