-- CVE tags and exceptions, as in Pakiti. A tag ("Critical", a site's own
-- list) is attached to CVEs by hand; the Pakiti reply lists the tagged CVEs
-- a host is exposed to. An exception excepts one CVE for one installed
-- package version on an OS group or a site (exactly one of the two); the
-- excepted findings are still computed, but listed apart.

CREATE TABLE cve_tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    reason     TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE cve_tag_assignments (
    cve        TEXT NOT NULL,
    tag_id     INTEGER NOT NULL REFERENCES cve_tags (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (cve, tag_id)
);

CREATE INDEX cve_tag_assignments_by_tag ON cve_tag_assignments (tag_id);

CREATE TABLE cve_exceptions (
    id         INTEGER PRIMARY KEY,
    cve        TEXT NOT NULL,
    package    TEXT NOT NULL,
    -- The installed version string exactly as hosts are stored (a zero
    -- epoch dropped).
    version    TEXT NOT NULL,
    os_group   TEXT,
    site_id    INTEGER REFERENCES sites (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    CHECK ((os_group IS NULL) <> (site_id IS NULL))
);

-- The same exception twice is refused (NULLs are distinct in a unique
-- index, hence the coalesce).
CREATE UNIQUE INDEX cve_exceptions_unique ON cve_exceptions
    (cve, package, version, coalesce(os_group, ''), coalesce(site_id, 0));
CREATE INDEX cve_exceptions_by_site ON cve_exceptions (site_id);

-- Pakiti's default tags.
INSERT INTO cve_tags (name, reason, enabled, created_at) VALUES
    ('Critical', 'Default tag; CVEs of severity critical carry it automatically', 1,
     CAST(strftime('%s', 'now') AS INTEGER) * 1000),
    ('High', 'Default tag; CVEs of severity high carry it automatically', 1,
     CAST(strftime('%s', 'now') AS INTEGER) * 1000);
