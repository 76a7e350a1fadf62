//! Migration 12 on a database made before it: the host keys version's row
//! is there, and a host stored before the migration moves it when deleted.

mod common;

use patchwatch_store::Database;
use patchwatch_store_sqlite::SqliteStore;

#[tokio::test]
async fn an_existing_fleet_gets_a_version_that_moves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    common::database_at(
        &path,
        11,
        "INSERT INTO sites (id, name, created_at) VALUES (1, 'CESNET', 0);
             INSERT INTO os_releases (id, distro, release) VALUES (1, 'debian', '12');
             INSERT INTO package_sets (id, hash, package_count, package_ids, created_at)
                 VALUES (1, x'00', 0, x'', 0);
             INSERT INTO hosts (id, site_id, hostname, first_seen, last_seen, last_report_id,
                 package_set_id, os_release_id, protocol, kernel, arch, tags, details)
             VALUES (7, 1, 'old.example.org', 0, 0, 0, 1, 1, 'native', '6.1.0-1-amd64',
                 'amd64', '[]', '{}');",
    );
    let db = SqliteStore::open(&path).unwrap();
    let upgraded = db.host_keys_version().await.unwrap();
    let keys = db.host_keys().await.unwrap();
    assert_eq!(keys.version, upgraded);
    assert_eq!(
        keys.hosts
            .iter()
            .map(|h| (h.id, h.kernel.as_str()))
            .collect::<Vec<_>>(),
        [(7, "6.1.0-1-amd64")]
    );
    assert!(db.delete_host(7).await.unwrap());
    let after_delete = db.host_keys_version().await.unwrap();
    assert_ne!(after_delete, upgraded, "the old host's delete moves it");
    db.create_site("NEW").await.unwrap();
    assert_ne!(db.host_keys_version().await.unwrap(), after_delete);
}
