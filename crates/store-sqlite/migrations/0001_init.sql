-- Timestamps are milliseconds since the Unix epoch (UTC), as in the
-- PostgreSQL backend.

CREATE TABLE sites (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('ingest', 'api')),
    site_id    INTEGER REFERENCES sites (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE os_releases (
    id      INTEGER PRIMARY KEY,
    distro  TEXT NOT NULL,
    release TEXT NOT NULL,
    UNIQUE (distro, release)
);

-- Every distinct package any host ever reported, once.
CREATE TABLE packages (
    id             INTEGER PRIMARY KEY,
    key            BLOB NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    epoch          TEXT NOT NULL,
    version        TEXT NOT NULL,
    release        TEXT NOT NULL,
    arch           TEXT NOT NULL,
    type           TEXT NOT NULL,
    source_name    TEXT NOT NULL,
    source_version TEXT NOT NULL
);
CREATE INDEX packages_by_name ON packages (name);

-- Content-addressed package lists: identical hosts share one row.
-- package_ids is the sorted id list, delta-encoded varints.
CREATE TABLE package_sets (
    id            INTEGER PRIMARY KEY,
    hash          BLOB NOT NULL UNIQUE,
    package_count INTEGER NOT NULL,
    package_ids   BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE hosts (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    hostname        TEXT NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    last_report_id  INTEGER NOT NULL,
    package_set_id  INTEGER NOT NULL REFERENCES package_sets (id),
    os_release_id   INTEGER NOT NULL REFERENCES os_releases (id),
    protocol        TEXT NOT NULL,
    kernel          TEXT NOT NULL,
    arch            TEXT NOT NULL,
    tags            TEXT NOT NULL,  -- JSON array, as reported
    reboot_required INTEGER,        -- NULL: the client couldn't tell
    details         TEXT NOT NULL,  -- JSON: os-release fields, repositories, ...
    UNIQUE (site_id, hostname)
);
CREATE INDEX hosts_by_last_seen ON hosts (last_seen);
CREATE INDEX hosts_by_os ON hosts (os_release_id);

CREATE TABLE host_tags (
    host_id INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (host_id, tag)
) WITHOUT ROWID;
CREATE INDEX host_tags_by_tag ON host_tags (tag);

-- Every report, kept as history.
CREATE TABLE reports (
    id             INTEGER PRIMARY KEY,
    host_id        INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    received_at    INTEGER NOT NULL,
    protocol       TEXT NOT NULL,
    package_set_id INTEGER NOT NULL REFERENCES package_sets (id),
    os_release_id  INTEGER NOT NULL REFERENCES os_releases (id),
    kernel         TEXT NOT NULL,
    unchanged      INTEGER NOT NULL,
    sender         TEXT NOT NULL,
    user_agent     TEXT NOT NULL
);
CREATE INDEX reports_by_host ON reports (host_id, received_at);
CREATE INDEX reports_by_time ON reports (received_at);
CREATE INDEX reports_by_set ON reports (package_set_id);
