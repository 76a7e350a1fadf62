//! Vulnerability feeds: reads on a pooled connection, writes inside the
//! writer's transaction (so an import is switched to atomically).

use patchwatch_store::rows::{self, FEED_COLUMNS};
use patchwatch_store::{
    Feed, GENERATIONS_KEPT, Generation, ImportOutcome, NewFeed, StoreError, SyncState, now_millis,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::sql_error;

pub(crate) fn feeds(c: &Connection, name: Option<&str>) -> Result<Vec<Feed>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "{FEED_COLUMNS} WHERE ?1 IS NULL OR f.name = ?1 ORDER BY f.name"
        ))
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [name], rows::feed)
}

pub(crate) fn current_documents(c: &Connection) -> Result<Vec<(Feed, Vec<u8>)>, StoreError> {
    // One read transaction: the feed list and the documents belong to the
    // same moment even while an import commits.
    c.execute_batch("BEGIN").map_err(sql_error)?;
    let result = (|| {
        let mut out = Vec::new();
        for feed in feeds(c, None)? {
            let Some(g) = &feed.current else { continue };
            if !feed.enabled {
                continue;
            }
            let doc: Vec<u8> = c
                .query_row(
                    "SELECT document FROM feed_generations WHERE id = ?1",
                    [g.id],
                    |r| r.get(0),
                )
                .map_err(sql_error)?;
            out.push((feed, doc));
        }
        Ok(out)
    })();
    let _ = c.execute_batch("COMMIT");
    result
}

pub(crate) fn add_feed(c: &Connection, feed: &NewFeed) -> Result<Feed, StoreError> {
    let now = now_millis();
    let id = c
        .query_row(
            "INSERT INTO feeds (name, kind, source, releases, enabled, created_at)
             VALUES (?1, ?2, ?3, ?4, 1, ?5)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            params![
                feed.name,
                feed.kind.as_str(),
                feed.source,
                feed.releases,
                now
            ],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(sql_error)?
        .ok_or_else(|| StoreError::AlreadyExists(format!("feed {:?}", feed.name)))?;
    Ok(Feed {
        id,
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

/// Runs inside the writer's savepoint: either all of it is committed (new
/// current generation, previous one demoted, old ones deleted) or none.
pub(crate) fn import(
    c: &Connection,
    feed_id: i64,
    document: &[u8],
    sha256: &str,
    advisories: i64,
) -> Result<ImportOutcome, StoreError> {
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM feeds WHERE id = ?1)",
            [feed_id],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    if !exists {
        return Err(StoreError::NotFound(format!("feed {feed_id}")));
    }
    let current = c
        .query_row(
            "SELECT id, imported_at, sha256, size, advisories, number FROM feed_generations
             WHERE feed_id = ?1 AND current",
            [feed_id],
            |r| {
                Ok(Generation {
                    id: r.get(0)?,
                    imported_at: r.get(1)?,
                    sha256: r.get(2)?,
                    size: r.get(3)?,
                    advisories: r.get(4)?,
                    number: r.get(5)?,
                })
            },
        )
        .optional()
        .map_err(sql_error)?;
    if let Some(g) = current.as_ref().filter(|g| g.sha256 == sha256) {
        return Ok(ImportOutcome::Unchanged {
            generation: g.clone(),
        });
    }
    c.execute(
        "UPDATE feed_generations SET current = 0 WHERE feed_id = ?1 AND current",
        [feed_id],
    )
    .map_err(sql_error)?;
    let now = now_millis();
    let size = document.len() as i64;
    // The newest kept generation has the highest number: the oldest are
    // the ones deleted.
    let (id, number): (i64, i64) = c
        .query_row(
            "INSERT INTO feed_generations
                 (feed_id, imported_at, sha256, size, document, advisories, current, number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1,
                     (SELECT COALESCE(MAX(number), 0) + 1 FROM feed_generations
                      WHERE feed_id = ?1))
             RETURNING id, number",
            params![feed_id, now, sha256, size, document, advisories],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql_error)?;
    c.execute(
        "DELETE FROM feed_generations WHERE feed_id = ?1 AND id NOT IN
             (SELECT id FROM feed_generations WHERE feed_id = ?1 ORDER BY id DESC LIMIT ?2)",
        params![feed_id, GENERATIONS_KEPT],
    )
    .map_err(sql_error)?;
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
pub(crate) fn record_sync(
    c: &Connection,
    feed_id: i64,
    state: &SyncState,
) -> Result<(), StoreError> {
    let n = match &state.error {
        None => c.execute(
            "UPDATE feeds SET etag = ?2, last_modified = ?3, synced_at = ?4, sync_error = NULL
             WHERE id = ?1",
            params![feed_id, state.etag, state.last_modified, state.synced_at],
        ),
        Some(error) => c.execute(
            "UPDATE feeds SET synced_at = ?2, sync_error = ?3 WHERE id = ?1",
            params![feed_id, state.synced_at, error],
        ),
    }
    .map_err(sql_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("feed {feed_id}")));
    }
    Ok(())
}
