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
    // 7 (web sessions) arrives from another branch: versions are applied
    // one by one by number, so 8 first and 7 later both work.
    (8, include_str!("../migrations/0008_repositories.sql")),
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

/// The newest schema version this build knows (for `patchwatch doctor`).
pub fn latest_schema_version() -> i64 {
    MIGRATIONS.last().map_or(0, |&(v, _)| v)
}

/// The newest migration applied to the file at `path`, read without
/// changing anything (`None`: not a Patchwatch database yet).
pub fn applied_schema_version(path: &std::path::Path) -> Result<Option<i64>, StoreError> {
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
        return Ok(None);
    }
    conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
        r.get(0)
    })
    .map_err(sql_error)
}
