-- Tokens remember when they were last used and are revoked by marking
-- them, not deleting them, so the list still shows a revoked token with
-- when and by whom. last_used_at is written at most once a minute per
-- token (see patchwatch_store::token::USE_RECORDED_EVERY_MS). Times are
-- milliseconds since the Unix epoch; NULL: never used / still active.
-- revoked_by is NULL when the command line (the local administrator)
-- revoked it, or when that user was deleted since.
-- Independent of migrations 9 and 11: both runners apply missing versions
-- one by one.

ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
