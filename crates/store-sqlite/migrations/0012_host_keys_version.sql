-- A number that moves exactly when what `Database::host_keys` reads
-- moves: a host added or deleted, a host's site, package set, OS release or
-- kernel changed, a site added or deleted. Servers read it with one tiny
-- query and keep the host keys they read until it moves; the bump commits
-- (or rolls back) with the change that caused it. OS releases need no
-- trigger: they are only ever added, and a new one matters once a host
-- names it (a key change). A later migration that rebuilds `hosts` or
-- `sites` (new table, copy, drop, rename) must create these triggers
-- again. Independent of migrations 9 to 11.
CREATE TABLE host_keys_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO host_keys_version (id, version) VALUES (1, 0);

CREATE TRIGGER host_inserted_bumps_keys_version AFTER INSERT ON hosts
BEGIN
    UPDATE host_keys_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER host_deleted_bumps_keys_version AFTER DELETE ON hosts
BEGIN
    UPDATE host_keys_version SET version = version + 1 WHERE id = 1;
END;
-- Every report's UPDATE writes these columns, changed or not: only a real
-- change counts.
CREATE TRIGGER host_key_changed_bumps_keys_version
    AFTER UPDATE OF site_id, package_set_id, os_release_id, kernel ON hosts
    WHEN OLD.site_id IS NOT NEW.site_id
      OR OLD.package_set_id IS NOT NEW.package_set_id
      OR OLD.os_release_id IS NOT NEW.os_release_id
      OR OLD.kernel IS NOT NEW.kernel
BEGIN
    UPDATE host_keys_version SET version = version + 1 WHERE id = 1;
END;
-- Host keys list every site, with hosts or not.
CREATE TRIGGER site_inserted_bumps_keys_version AFTER INSERT ON sites
BEGIN
    UPDATE host_keys_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER site_deleted_bumps_keys_version AFTER DELETE ON sites
BEGIN
    UPDATE host_keys_version SET version = version + 1 WHERE id = 1;
END;
