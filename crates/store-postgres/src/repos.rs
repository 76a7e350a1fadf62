//! Package repositories and their snapshots. An import runs in one
//! transaction holding the repository's row lock, so two processes
//! importing the same repository take turns and exactly one snapshot ends
//! up current.

use deadpool_postgres::{ClientWrapper, GenericClient};
use patchwatch_store::repos::{
    RepoImportOutcome, RepoSnapshotRecord, Repository, created_repository, join_groups, join_words,
    repository_from_row,
};
use patchwatch_store::{NewRepository, SNAPSHOTS_KEPT, StoreError, SyncState, now_millis};

use crate::error::PgColumns;
use crate::pg_error;

const REPOSITORY_COLUMNS: &str = "SELECT r.id, r.name, r.kind, r.source, r.suite, r.components,
        r.architectures, r.priority, r.cost, r.enabled, r.default_for, r.created_at,
        s.id, s.number, s.imported_at, s.sha256, s.size, s.packages,
        (SELECT COUNT(*) FROM repository_snapshots x WHERE x.repository_id = r.id),
        r.etag, r.last_modified, r.synced_at, r.sync_error
     FROM repositories r
     LEFT JOIN repository_snapshots s ON s.repository_id = r.id AND s.current";

pub(crate) async fn repositories<C: GenericClient>(
    c: &C,
    name: Option<&str>,
) -> Result<Vec<Repository>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "{REPOSITORY_COLUMNS} WHERE $1::text IS NULL OR r.name = $1 ORDER BY r.name"
        ))
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&name]).await.map_err(pg_error)?;
    rows.iter()
        .map(|r| repository_from_row(&PgColumns(r)))
        .collect()
}

pub(crate) async fn current_snapshots(
    client: &mut ClientWrapper,
) -> Result<Vec<(Repository, Vec<u8>)>, StoreError> {
    // REPEATABLE READ: the list and the documents belong to one snapshot of
    // the database even while an import commits.
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_error)?;
    let mut out = Vec::new();
    for repo in repositories(&tx, None).await? {
        let Some(s) = &repo.current else { continue };
        if !repo.enabled {
            continue;
        }
        let row = tx
            .query_one(
                "SELECT document FROM repository_snapshots WHERE id = $1",
                &[&s.id],
            )
            .await
            .map_err(pg_error)?;
        let doc: Vec<u8> = row.try_get(0).map_err(pg_error)?;
        out.push((repo, doc));
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(out)
}

pub(crate) async fn add(c: &ClientWrapper, repo: &NewRepository) -> Result<Repository, StoreError> {
    let now = now_millis();
    let row = c
        .query_opt(
            "INSERT INTO repositories (name, kind, source, suite, components, architectures,
                 priority, cost, enabled, default_for, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[
                &repo.name,
                &repo.kind.as_str(),
                &repo.source,
                &repo.suite,
                &join_words(&repo.components),
                &join_words(&repo.architectures),
                &repo.priority,
                &repo.cost,
                &join_groups(&repo.default_for),
                &now,
            ],
        )
        .await
        .map_err(pg_error)?
        .ok_or_else(|| StoreError::AlreadyExists(format!("repository {:?}", repo.name)))?;
    Ok(created_repository(
        row.try_get(0).map_err(pg_error)?,
        repo,
        now,
    ))
}

pub(crate) async fn import(
    client: &mut ClientWrapper,
    repository_id: i64,
    document: &[u8],
    sha256: &str,
    packages: i64,
) -> Result<RepoImportOutcome, StoreError> {
    let tx = client.transaction().await.map_err(pg_error)?;
    let locked = tx
        .query_opt(
            "SELECT id FROM repositories WHERE id = $1 FOR UPDATE",
            &[&repository_id],
        )
        .await
        .map_err(pg_error)?;
    if locked.is_none() {
        return Err(StoreError::NotFound(format!("repository {repository_id}")));
    }
    let current = tx
        .query_opt(
            "SELECT id, number, imported_at, sha256, size, packages FROM repository_snapshots
             WHERE repository_id = $1 AND current",
            &[&repository_id],
        )
        .await
        .map_err(pg_error)?
        .map(|r| {
            Ok::<_, tokio_postgres::Error>(RepoSnapshotRecord {
                id: r.try_get(0)?,
                number: r.try_get(1)?,
                imported_at: r.try_get(2)?,
                sha256: r.try_get(3)?,
                size: r.try_get(4)?,
                packages: r.try_get(5)?,
            })
        })
        .transpose()
        .map_err(pg_error)?;
    if let Some(s) = current.as_ref().filter(|s| s.sha256 == sha256) {
        return Ok(RepoImportOutcome::Unchanged {
            snapshot: s.clone(),
        });
    }
    tx.execute(
        "UPDATE repository_snapshots SET current = FALSE WHERE repository_id = $1 AND current",
        &[&repository_id],
    )
    .await
    .map_err(pg_error)?;
    let now = now_millis();
    let size = document.len() as i64;
    let row = tx
        .query_one(
            "INSERT INTO repository_snapshots
                 (repository_id, number, imported_at, sha256, size, document, packages, current)
             VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM repository_snapshots
                          WHERE repository_id = $1),
                     $2, $3, $4, $5, $6, TRUE)
             RETURNING id, number",
            &[&repository_id, &now, &sha256, &size, &document, &packages],
        )
        .await
        .map_err(pg_error)?;
    let id: i64 = row.try_get(0).map_err(pg_error)?;
    let number: i64 = row.try_get(1).map_err(pg_error)?;
    tx.execute(
        "DELETE FROM repository_snapshots WHERE repository_id = $1 AND id NOT IN
             (SELECT id FROM repository_snapshots WHERE repository_id = $1
              ORDER BY id DESC LIMIT $2)",
        &[&repository_id, &SNAPSHOTS_KEPT],
    )
    .await
    .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(RepoImportOutcome::Imported {
        snapshot: RepoSnapshotRecord {
            id,
            number,
            imported_at: now,
            sha256: sha256.to_owned(),
            size,
            packages,
        },
        previous: current.map(|s| s.id),
    })
}

/// A failure keeps the validators (see the feeds' `record_sync`).
pub(crate) async fn record_sync(
    c: &ClientWrapper,
    repository_id: i64,
    state: &SyncState,
) -> Result<(), StoreError> {
    let n = match &state.error {
        None => {
            c.execute(
                "UPDATE repositories SET etag = $2, last_modified = $3, synced_at = $4,
                     sync_error = NULL
                 WHERE id = $1",
                &[
                    &repository_id,
                    &state.etag,
                    &state.last_modified,
                    &state.synced_at,
                ],
            )
            .await
        }
        Some(error) => {
            c.execute(
                "UPDATE repositories SET synced_at = $2, sync_error = $3 WHERE id = $1",
                &[&repository_id, &state.synced_at, error],
            )
            .await
        }
    }
    .map_err(pg_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("repository {repository_id}")));
    }
    Ok(())
}
