//! Schema migrations, applied at open, each in its own transaction.

use patchwatch_store::StoreError;
use rusqlite::Connection;

use crate::sql_error;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_feeds.sql")),
    (3, include_str!("../migrations/0003_feed_sync.sql")),
    (4, include_str!("../migrations/0004_triage.sql")),
    (5, include_str!("../migrations/0005_users.sql")),
    (6, include_str!("../migrations/0006_generation_numbers.sql")),
    (7, include_str!("../migrations/0007_web_sessions.sql")),
    (8, include_str!("../migrations/0008_repositories.sql")),
    (9, include_str!("../migrations/0009_host_list_indexes.sql")),
    (10, include_str!("../migrations/0010_token_use.sql")),
    (11, include_str!("../migrations/0011_kernel_outdated.sql")),
    (12, include_str!("../migrations/0012_host_keys_version.sql")),
    (13, include_str!("../migrations/0013_host_refs_index.sql")),
];

pub(crate) fn run(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .map_err(sql_error)?;
    // A migration may rebuild a table others refer to (SQLite cannot alter
    // a constraint in place); with foreign keys on, dropping the old table
    // would cascade. The switch only works outside a transaction.
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(sql_error)?;
    let result = apply(conn);
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .map_err(sql_error)?;
    result
}

fn apply(conn: &Connection) -> Result<(), StoreError> {
    for &(version, sql) in MIGRATIONS {
        // IMMEDIATE: two processes opening a new file at once must not both
        // apply the same migration.
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
        let applied: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(sql_error)?;
        if applied {
            conn.execute_batch("COMMIT").map_err(sql_error)?;
            continue;
        }
        let result = conn.execute_batch(sql).and_then(|_| {
            // Foreign keys are off: check them before committing instead.
            let broken: i64 =
                conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if broken > 0 {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                    Some(format!("{broken} rows violate foreign keys")),
                ));
            }
            conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                (version, patchwatch_store::now_millis()),
            )
        });
        match result {
            Ok(_) => conn.execute_batch("COMMIT").map_err(sql_error)?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(StoreError::Migration {
                    version,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The schema versions this build applies (for `patchwatch doctor`).
pub fn schema_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|&(v, _)| v).collect()
}

/// The migrations applied to the file at `path`, read without changing
/// anything (empty: not a Patchwatch database yet).
pub fn applied_schema_versions(path: &std::path::Path) -> Result<Vec<i64>, StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql_error)?;
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations')",
            [],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    if !has_table {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .map_err(sql_error)?;
    let versions = stmt
        .query_map([], |r| r.get(0))
        .map_err(sql_error)?
        .collect::<Result<Vec<i64>, _>>()
        .map_err(sql_error)?;
    Ok(versions)
}
