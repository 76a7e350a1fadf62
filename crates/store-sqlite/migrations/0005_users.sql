-- Users, role grants and site groups; API tokens get a scope. What a
-- grant means is decided in patchwatch-auth; a web session (issue 11) will
-- refer to a user row.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    -- argon2id PHC string; NULL for users who only log in through SSO.
    password_hash TEXT,
    origin        TEXT NOT NULL CHECK (origin IN ('local', 'sso')),
    created_at    INTEGER NOT NULL
);

-- An NGI is a group of sites; a group may have a parent (one level).
CREATE TABLE site_groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    parent_id  INTEGER REFERENCES site_groups (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

CREATE TABLE site_group_members (
    group_id INTEGER NOT NULL REFERENCES site_groups (id) ON DELETE CASCADE,
    site_id  INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, site_id)
) WITHOUT ROWID;
CREATE INDEX site_group_members_by_site ON site_group_members (site_id);

-- admin and auditor are everywhere (no site, no group); viewer and
-- triager are on exactly one site or one group.
CREATE TABLE role_grants (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'auditor', 'viewer', 'triager')),
    site_id    INTEGER REFERENCES sites (id) ON DELETE CASCADE,
    group_id   INTEGER REFERENCES site_groups (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    CHECK ((role IN ('admin', 'auditor')) = (site_id IS NULL AND group_id IS NULL)),
    CHECK (site_id IS NULL OR group_id IS NULL)
);
CREATE UNIQUE INDEX role_grants_unique ON role_grants
    (user_id, role, coalesce(site_id, 0), coalesce(group_id, 0));

-- API tokens: what they may do (read or triage) and on what (a user's
-- scope, a site in site_id, a group, or, with none of them, everywhere).
-- Tokens made before this migration could read everything: they keep
-- exactly that, read-only, as an auditor.
ALTER TABLE tokens ADD COLUMN access TEXT CHECK (access IN ('read', 'triage'));
ALTER TABLE tokens ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE tokens ADD COLUMN group_id INTEGER REFERENCES site_groups (id) ON DELETE CASCADE;
UPDATE tokens SET access = 'read' WHERE kind = 'api';
