-- Two more feed kinds (OVAL documents and the Ubuntu CVE tracker), and what
-- a feed's last download left behind: the validators for a conditional
-- request next time, and when and how the last attempt ended.

ALTER TABLE feeds DROP CONSTRAINT feeds_kind_check;
ALTER TABLE feeds ADD CONSTRAINT feeds_kind_check CHECK (kind IN
    ('osv', 'debian-tracker', 'debian-dsa', 'debian-dla', 'alpine-secdb',
     'oval', 'ubuntu-tracker'));

-- HTTP validators of the document last downloaded (NULL: none given).
ALTER TABLE feeds ADD COLUMN etag TEXT;
ALTER TABLE feeds ADD COLUMN last_modified TEXT;
-- The last sync attempt: when, and its error (NULL when it succeeded).
ALTER TABLE feeds ADD COLUMN synced_at BIGINT;
ALTER TABLE feeds ADD COLUMN sync_error TEXT;
