-- Web UI sessions (as in the SQLite schema, migration 7 there).
CREATE TABLE web_sessions (
    id_hash    TEXT COLLATE "C" PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
