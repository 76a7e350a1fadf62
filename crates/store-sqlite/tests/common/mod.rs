//! A database file as an older release left it: the schema up to a
//! migration, recorded as applied, for the upgrade tests.

use std::path::Path;

/// Every migration, in order (as `src/migrate.rs` applies them).
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_feeds.sql"),
    include_str!("../../migrations/0003_feed_sync.sql"),
    include_str!("../../migrations/0004_triage.sql"),
    include_str!("../../migrations/0005_users.sql"),
    include_str!("../../migrations/0006_generation_numbers.sql"),
    include_str!("../../migrations/0007_web_sessions.sql"),
    include_str!("../../migrations/0008_repositories.sql"),
    include_str!("../../migrations/0009_host_list_indexes.sql"),
    include_str!("../../migrations/0010_token_use.sql"),
    include_str!("../../migrations/0011_kernel_outdated.sql"),
];

/// A new database at `path` with migrations 1 to `last` applied, then
/// `rows` (SQL) inserted, as a store of that release would have it.
pub fn database_at(path: &Path, last: usize, rows: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .unwrap();
    for (i, sql) in MIGRATIONS[..last].iter().enumerate() {
        c.execute_batch(sql).unwrap();
        c.execute(
            "INSERT INTO schema_migrations VALUES (?1, 0)",
            [i as i64 + 1],
        )
        .unwrap();
    }
    c.execute_batch(rows).unwrap();
}
