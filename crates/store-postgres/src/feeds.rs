//! Vulnerability feeds. An import runs in one transaction holding the
//! feed's row lock, so two processes importing the same feed at once take
//! turns and exactly one generation ends up current.

use deadpool_postgres::{ClientWrapper, GenericClient};
use patchwatch_store::rows::{self, FEED_COLUMNS};
use patchwatch_store::{
    Feed, GENERATIONS_KEPT, Generation, ImportOutcome, NewFeed, StoreError, SyncState, now_millis,
};

use crate::error::PgColumns;
use crate::pg_error;

pub(crate) async fn feeds<C: GenericClient>(
    c: &C,
    name: Option<&str>,
) -> Result<Vec<Feed>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "{FEED_COLUMNS} WHERE $1::text IS NULL OR f.name = $1 ORDER BY f.name"
        ))
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&name]).await.map_err(pg_error)?;
    rows.iter().map(|r| rows::feed(&PgColumns(r))).collect()
}

pub(crate) async fn current_documents(
    client: &mut ClientWrapper,
) -> Result<Vec<(Feed, Vec<u8>)>, StoreError> {
    // REPEATABLE READ: the feed list and the documents belong to the same
    // snapshot even while an import commits.
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_error)?;
    let mut out = Vec::new();
    for feed in feeds(&tx, None).await? {
        let Some(g) = &feed.current else { continue };
        if !feed.enabled {
            continue;
        }
        let row = tx
            .query_one(
                "SELECT document FROM feed_generations WHERE id = $1",
                &[&g.id],
            )
            .await
            .map_err(pg_error)?;
        let doc: Vec<u8> = row.try_get(0).map_err(pg_error)?;
        out.push((feed, doc));
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(out)
}

pub(crate) async fn add_feed(c: &ClientWrapper, feed: &NewFeed) -> Result<Feed, StoreError> {
    let now = now_millis();
    let row = c
        .query_opt(
            "INSERT INTO feeds (name, kind, source, releases, enabled, created_at)
             VALUES ($1, $2, $3, $4, TRUE, $5)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[
                &feed.name,
                &feed.kind.as_str(),
                &feed.source,
                &feed.releases,
                &now,
            ],
        )
        .await
        .map_err(pg_error)?
        .ok_or_else(|| StoreError::AlreadyExists(format!("feed {:?}", feed.name)))?;
    Ok(Feed {
        id: row.try_get(0).map_err(pg_error)?,
        name: feed.name.clone(),
        kind: feed.kind,
        source: feed.source.clone(),
        releases: feed.releases.clone(),
        enabled: true,
        created_at: now,
        current: None,
        generations: 0,
        sync: Default::default(),
    })
}

pub(crate) async fn import(
    client: &mut ClientWrapper,
    feed_id: i64,
    document: &[u8],
    sha256: &str,
    advisories: i64,
) -> Result<ImportOutcome, StoreError> {
    let tx = client.transaction().await.map_err(pg_error)?;
    // The row lock serialises imports of one feed across processes.
    let locked = tx
        .query_opt("SELECT id FROM feeds WHERE id = $1 FOR UPDATE", &[&feed_id])
        .await
        .map_err(pg_error)?;
    if locked.is_none() {
        return Err(StoreError::NotFound(format!("feed {feed_id}")));
    }
    let current = tx
        .query_opt(
            "SELECT id, imported_at, sha256, size, advisories, number FROM feed_generations
             WHERE feed_id = $1 AND current",
            &[&feed_id],
        )
        .await
        .map_err(pg_error)?
        .map(|r| {
            Ok::<_, tokio_postgres::Error>(Generation {
                id: r.try_get(0)?,
                imported_at: r.try_get(1)?,
                sha256: r.try_get(2)?,
                size: r.try_get(3)?,
                advisories: r.try_get(4)?,
                number: r.try_get(5)?,
            })
        })
        .transpose()
        .map_err(pg_error)?;
    if let Some(g) = current.as_ref().filter(|g| g.sha256 == sha256) {
        return Ok(ImportOutcome::Unchanged {
            generation: g.clone(),
        });
    }
    tx.execute(
        "UPDATE feed_generations SET current = FALSE WHERE feed_id = $1 AND current",
        &[&feed_id],
    )
    .await
    .map_err(pg_error)?;
    let now = now_millis();
    let size = document.len() as i64;
    // The newest kept generation has the highest number: the oldest are
    // the ones deleted. The feed's row lock keeps two imports apart.
    let row = tx
        .query_one(
            "INSERT INTO feed_generations
                 (feed_id, imported_at, sha256, size, document, advisories, current, number)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE,
                     (SELECT COALESCE(MAX(number), 0) + 1 FROM feed_generations
                      WHERE feed_id = $1))
             RETURNING id, number",
            &[&feed_id, &now, &sha256, &size, &document, &advisories],
        )
        .await
        .map_err(pg_error)?;
    let id: i64 = row.try_get(0).map_err(pg_error)?;
    let number: i64 = row.try_get(1).map_err(pg_error)?;
    tx.execute(
        "DELETE FROM feed_generations WHERE feed_id = $1 AND id NOT IN
             (SELECT id FROM feed_generations WHERE feed_id = $1 ORDER BY id DESC LIMIT $2)",
        &[&feed_id, &GENERATIONS_KEPT],
    )
    .await
    .map_err(pg_error)?;
    tx.commit().await.map_err(pg_error)?;
    Ok(ImportOutcome::Imported {
        generation: Generation {
            id,
            number,
            imported_at: now,
            sha256: sha256.to_owned(),
            size,
            advisories,
        },
        previous: current.map(|g| g.id),
    })
}

/// A failure keeps the validators: the document they describe is still
/// the current generation, so the next conditional request stays valid.
pub(crate) async fn record_sync(
    c: &ClientWrapper,
    feed_id: i64,
    state: &SyncState,
) -> Result<(), StoreError> {
    let n = match &state.error {
        None => {
            c.execute(
                "UPDATE feeds SET etag = $2, last_modified = $3, synced_at = $4,
                     sync_error = NULL
                 WHERE id = $1",
                &[
                    &feed_id,
                    &state.etag,
                    &state.last_modified,
                    &state.synced_at,
                ],
            )
            .await
        }
        Some(error) => {
            c.execute(
                "UPDATE feeds SET synced_at = $2, sync_error = $3 WHERE id = $1",
                &[&feed_id, &state.synced_at, error],
            )
            .await
        }
    }
    .map_err(pg_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("feed {feed_id}")));
    }
    Ok(())
}
