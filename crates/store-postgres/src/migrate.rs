//! Schema migrations, applied at connect.
//!
//! Several server processes may start at once against a new database, so
//! all migrations run in one transaction under an advisory lock: the first
//! process applies them, the others wait and then find them applied.
//! PostgreSQL's DDL is transactional, so a failed migration leaves nothing
//! half done.

use deadpool_postgres::ClientWrapper;
use patchwatch_store::{StoreError, now_millis};

use crate::pg_error;

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

/// Keyed by schema, like the ingest lock: stores in different schemas of
/// one database migrate independently.
const MIGRATION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(1350000000, hashtext(coalesce(current_schema(), '')))";

pub(crate) async fn run(client: &mut ClientWrapper) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.batch_execute(MIGRATION_LOCK).await.map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await
    .map_err(pg_error)?;
    for &(version, sql) in MIGRATIONS {
        let applied = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)",
                &[&version],
            )
            .await
            .map_err(pg_error)?
            .try_get::<_, bool>(0)
            .map_err(pg_error)?;
        if applied {
            continue;
        }
        let migration_error = |e: tokio_postgres::Error| {
            // Unreachable is not a broken migration: keep it retryable.
            match pg_error(e) {
                StoreError::Unavailable(m) => StoreError::Unavailable(m),
                other => StoreError::Migration {
                    version,
                    message: other.to_string(),
                },
            }
        };
        tx.batch_execute(sql).await.map_err(migration_error)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &now_millis()],
        )
        .await
        .map_err(migration_error)?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    tx.commit().await.map_err(pg_error)
}

/// The newest schema version this build knows (for `patchwatch doctor`).
pub fn latest_schema_version() -> i64 {
    MIGRATIONS.last().map_or(0, |&(v, _)| v)
}
