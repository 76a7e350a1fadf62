-- Package repositories (issue 9) and the snapshots imported from them.
-- Each import is a snapshot (the parsed index, encoded and compressed);
-- exactly one per repository is current, the one before it is kept. This
-- migration does not depend on 7 (web sessions) and may be applied first.

CREATE TABLE repositories (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('apt', 'rpm-md', 'apk')),
    source        TEXT NOT NULL,
    suite         TEXT NOT NULL DEFAULT '',
    -- Space-separated words.
    components    TEXT NOT NULL DEFAULT '',
    architectures TEXT NOT NULL DEFAULT '',
    priority      INTEGER NOT NULL DEFAULT 0,
    cost          INTEGER NOT NULL DEFAULT 1000,
    enabled       INTEGER NOT NULL DEFAULT 1,
    -- Comma-separated OS groups (`debian 12`) this is a default for.
    default_for   TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    synced_at     INTEGER,
    sync_error    TEXT
);

CREATE TABLE repository_snapshots (
    id            INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    imported_at   INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    document      BLOB NOT NULL,
    packages      INTEGER NOT NULL,
    current       INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX repository_snapshots_by_repository ON repository_snapshots (repository_id, id);
CREATE UNIQUE INDEX repository_snapshots_current ON repository_snapshots (repository_id)
    WHERE current;
