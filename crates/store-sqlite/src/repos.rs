//! Package repositories and their snapshots: reads on a pooled connection,
//! writes inside the writer's transaction (so an import is switched to
//! atomically).

use patchwatch_store::repos::{
    RepoImportOutcome, RepoSnapshotRecord, Repository, created_repository, join_groups, join_words,
    repository_from_row,
};
use patchwatch_store::{NewRepository, SNAPSHOTS_KEPT, StoreError, SyncState, now_millis};
use rusqlite::{Connection, OptionalExtension, params};

use crate::sql_error;

const REPOSITORY_COLUMNS: &str = "SELECT r.id, r.name, r.kind, r.source, r.suite, r.components,
        r.architectures, r.priority, r.cost, r.enabled, r.default_for, r.created_at,
        s.id, s.number, s.imported_at, s.sha256, s.size, s.packages,
        (SELECT COUNT(*) FROM repository_snapshots x WHERE x.repository_id = r.id),
        r.etag, r.last_modified, r.synced_at, r.sync_error
     FROM repositories r
     LEFT JOIN repository_snapshots s ON s.repository_id = r.id AND s.current";

pub(crate) fn repositories(
    c: &Connection,
    name: Option<&str>,
) -> Result<Vec<Repository>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "{REPOSITORY_COLUMNS} WHERE ?1 IS NULL OR r.name = ?1 ORDER BY r.name"
        ))
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [name], repository_from_row)
}

pub(crate) fn current_snapshots(c: &Connection) -> Result<Vec<(Repository, Vec<u8>)>, StoreError> {
    // One read transaction: the list and the documents belong to the same
    // moment even while an import commits.
    c.execute_batch("BEGIN").map_err(sql_error)?;
    let result = (|| {
        let mut out = Vec::new();
        for repo in repositories(c, None)? {
            let Some(s) = &repo.current else { continue };
            if !repo.enabled {
                continue;
            }
            let doc: Vec<u8> = c
                .query_row(
                    "SELECT document FROM repository_snapshots WHERE id = ?1",
                    [s.id],
                    |r| r.get(0),
                )
                .map_err(sql_error)?;
            out.push((repo, doc));
        }
        Ok(out)
    })();
    let _ = c.execute_batch("COMMIT");
    result
}

pub(crate) fn add(c: &Connection, repo: &NewRepository) -> Result<Repository, StoreError> {
    let now = now_millis();
    let id = c
        .query_row(
            "INSERT INTO repositories (name, kind, source, suite, components, architectures,
                 priority, cost, enabled, default_for, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            params![
                repo.name,
                repo.kind.as_str(),
                repo.source,
                repo.suite,
                join_words(&repo.components),
                join_words(&repo.architectures),
                repo.priority,
                repo.cost,
                join_groups(&repo.default_for),
                now
            ],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(sql_error)?
        .ok_or_else(|| StoreError::AlreadyExists(format!("repository {:?}", repo.name)))?;
    Ok(created_repository(id, repo, now))
}

/// Runs inside the writer's savepoint: either all of it is committed (new
/// current snapshot, previous one demoted, old ones deleted) or none.
pub(crate) fn import(
    c: &Connection,
    repository_id: i64,
    document: &[u8],
    sha256: &str,
    packages: i64,
) -> Result<RepoImportOutcome, StoreError> {
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM repositories WHERE id = ?1)",
            [repository_id],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    if !exists {
        return Err(StoreError::NotFound(format!("repository {repository_id}")));
    }
    let current = c
        .query_row(
            "SELECT id, number, imported_at, sha256, size, packages FROM repository_snapshots
             WHERE repository_id = ?1 AND current",
            [repository_id],
            |r| {
                Ok(RepoSnapshotRecord {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    imported_at: r.get(2)?,
                    sha256: r.get(3)?,
                    size: r.get(4)?,
                    packages: r.get(5)?,
                })
            },
        )
        .optional()
        .map_err(sql_error)?;
    if let Some(s) = current.as_ref().filter(|s| s.sha256 == sha256) {
        return Ok(RepoImportOutcome::Unchanged {
            snapshot: s.clone(),
        });
    }
    c.execute(
        "UPDATE repository_snapshots SET current = 0 WHERE repository_id = ?1 AND current",
        [repository_id],
    )
    .map_err(sql_error)?;
    let now = now_millis();
    let size = document.len() as i64;
    let (id, number): (i64, i64) = c
        .query_row(
            "INSERT INTO repository_snapshots
                 (repository_id, number, imported_at, sha256, size, document, packages, current)
             VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM repository_snapshots
                          WHERE repository_id = ?1),
                     ?2, ?3, ?4, ?5, ?6, 1)
             RETURNING id, number",
            params![repository_id, now, sha256, size, document, packages],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql_error)?;
    c.execute(
        "DELETE FROM repository_snapshots WHERE repository_id = ?1 AND id NOT IN
             (SELECT id FROM repository_snapshots WHERE repository_id = ?1
              ORDER BY id DESC LIMIT ?2)",
        params![repository_id, SNAPSHOTS_KEPT],
    )
    .map_err(sql_error)?;
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

/// A failure keeps the validators: the index they describe is still the
/// current snapshot, so the next conditional request stays valid.
pub(crate) fn record_sync(
    c: &Connection,
    repository_id: i64,
    state: &SyncState,
) -> Result<(), StoreError> {
    let n = match &state.error {
        None => c.execute(
            "UPDATE repositories SET etag = ?2, last_modified = ?3, synced_at = ?4,
                 sync_error = NULL
             WHERE id = ?1",
            params![
                repository_id,
                state.etag,
                state.last_modified,
                state.synced_at
            ],
        ),
        Some(error) => c.execute(
            "UPDATE repositories SET synced_at = ?2, sync_error = ?3 WHERE id = ?1",
            params![repository_id, state.synced_at, error],
        ),
    }
    .map_err(sql_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("repository {repository_id}")));
    }
    Ok(())
}
