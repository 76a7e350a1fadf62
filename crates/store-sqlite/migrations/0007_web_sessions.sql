-- Web UI sessions (issue 11): the cookie's secret is stored only as its
-- SHA-256; expiry (idle and absolute) is decided by the web UI from the
-- two times.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
