-- A number that moves exactly when what `Database::host_keys` reads
-- moves: a host added or deleted, a host's site, package set, OS release or
-- kernel changed, a site added or deleted. Servers read it with one tiny
-- query and keep the host keys they read until it moves; it is exact with
-- several server processes because the bump commits (or rolls back) with
-- the change that caused it. OS releases need no trigger: they are only
-- ever added, and a new one matters once a host names it (a key change).
-- Independent of migrations 9 to 11.
--
-- The bump locks the one row until commit. That is acceptable because the
-- hosts INSERT or UPDATE is the last statement of an ingest transaction
-- (store-postgres/src/ingest.rs, both the new-host and the known-host
-- paths): a transaction holding the row only commits, so concurrent
-- ingests that change keys wait for each other only through commit, and
-- never while holding another lock they might wait on. Reports that change
-- nothing (most daily reports: only last_seen moves) do not touch the row.
CREATE TABLE host_keys_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO host_keys_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_host_keys_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE host_keys_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER host_inserted_bumps_keys_version AFTER INSERT ON hosts
    FOR EACH ROW EXECUTE FUNCTION bump_host_keys_version();
CREATE TRIGGER host_deleted_bumps_keys_version AFTER DELETE ON hosts
    FOR EACH ROW EXECUTE FUNCTION bump_host_keys_version();
-- Every report's UPDATE writes these columns, changed or not: only a real
-- change counts.
CREATE TRIGGER host_key_changed_bumps_keys_version
    AFTER UPDATE OF site_id, package_set_id, os_release_id, kernel ON hosts
    FOR EACH ROW
    WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id
          OR OLD.package_set_id IS DISTINCT FROM NEW.package_set_id
          OR OLD.os_release_id IS DISTINCT FROM NEW.os_release_id
          OR OLD.kernel IS DISTINCT FROM NEW.kernel)
    EXECUTE FUNCTION bump_host_keys_version();
-- Host keys list every site, with hosts or not.
CREATE TRIGGER site_inserted_bumps_keys_version AFTER INSERT ON sites
    FOR EACH ROW EXECUTE FUNCTION bump_host_keys_version();
CREATE TRIGGER site_deleted_bumps_keys_version AFTER DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION bump_host_keys_version();
