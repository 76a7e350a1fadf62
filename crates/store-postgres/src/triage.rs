//! CVE tags and exceptions. Each write is one statement (or a lookup and
//! a statement whose constraint makes a race harmless: a tag deleted in
//! between fails the foreign key, reported as not found).

use deadpool_postgres::GenericClient;
use patchwatch_store::triage::{
    self, ASSIGNMENT_QUERY, EXCEPTION_COLUMNS, NewAssignment, NewException, TAG_COLUMNS,
};
use patchwatch_store::{CveTag, Exception, StoreError, TagAssignment, now_millis};
use tokio_postgres::error::SqlState;

use crate::error::PgColumns;
use crate::pg_error;

pub(crate) async fn tags<C: GenericClient>(
    c: &C,
    name: Option<&str>,
) -> Result<Vec<CveTag>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "{TAG_COLUMNS} WHERE $1::text IS NULL OR t.name = $1 ORDER BY t.name"
        ))
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&name]).await.map_err(pg_error)?;
    rows.iter().map(|r| triage::tag(&PgColumns(r))).collect()
}

async fn one_tag<C: GenericClient>(c: &C, name: &str) -> Result<CveTag, StoreError> {
    tags(c, Some(name))
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("tag {name:?}")))
}

async fn tag_id<C: GenericClient>(c: &C, name: &str) -> Result<i64, StoreError> {
    c.query_opt("SELECT id FROM cve_tags WHERE name = $1", &[&name])
        .await
        .map_err(pg_error)?
        .ok_or_else(|| StoreError::NotFound(format!("tag {name:?}")))?
        .try_get(0)
        .map_err(pg_error)
}

pub(crate) async fn add_tag<C: GenericClient>(
    c: &C,
    name: &str,
    reason: &str,
) -> Result<CveTag, StoreError> {
    c.query_opt(
        "INSERT INTO cve_tags (name, reason, enabled, created_at) VALUES ($1, $2, TRUE, $3)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        &[&name, &reason, &now_millis()],
    )
    .await
    .map_err(pg_error)?
    .ok_or_else(|| StoreError::AlreadyExists(format!("tag {name:?}")))?;
    one_tag(c, name).await
}

pub(crate) async fn set_enabled<C: GenericClient>(
    c: &C,
    name: &str,
    enabled: bool,
) -> Result<CveTag, StoreError> {
    let n = c
        .execute(
            "UPDATE cve_tags SET enabled = $2 WHERE name = $1",
            &[&name, &enabled],
        )
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("tag {name:?}")));
    }
    one_tag(c, name).await
}

pub(crate) async fn remove_tag<C: GenericClient>(c: &C, name: &str) -> Result<(), StoreError> {
    let n = c
        .execute("DELETE FROM cve_tags WHERE name = $1", &[&name])
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("tag {name:?}")));
    }
    Ok(())
}

pub(crate) async fn assign<C: GenericClient>(
    c: &C,
    a: &NewAssignment,
) -> Result<TagAssignment, StoreError> {
    let id = tag_id(c, &a.tag).await?;
    let now = now_millis();
    let inserted = c
        .query_opt(
            "INSERT INTO cve_tag_assignments (cve, tag_id, reason, author, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
            &[&a.cve, &id, &a.reason, &a.author, &now],
        )
        .await;
    match inserted {
        Ok(Some(_)) => Ok(TagAssignment {
            cve: a.cve.clone(),
            tag: a.tag.clone(),
            reason: a.reason.clone(),
            author: a.author.clone(),
            created_at: now,
        }),
        Ok(None) => Err(StoreError::AlreadyExists(format!(
            "{} tagged {:?}",
            a.cve, a.tag
        ))),
        // The tag was removed since it was looked up.
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            Err(StoreError::NotFound(format!("tag {:?}", a.tag)))
        }
        Err(e) => Err(pg_error(e)),
    }
}

pub(crate) async fn unassign<C: GenericClient>(
    c: &C,
    cve: &str,
    tag: &str,
) -> Result<(), StoreError> {
    let id = tag_id(c, tag).await?;
    let n = c
        .execute(
            "DELETE FROM cve_tag_assignments WHERE cve = $1 AND tag_id = $2",
            &[&cve, &id],
        )
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("{cve} tagged {tag:?}")));
    }
    Ok(())
}

pub(crate) async fn assignments<C: GenericClient>(c: &C) -> Result<Vec<TagAssignment>, StoreError> {
    let stmt = c.prepare_cached(ASSIGNMENT_QUERY).await.map_err(pg_error)?;
    let rows = c.query(&stmt, &[]).await.map_err(pg_error)?;
    rows.iter()
        .map(|r| triage::assignment(&PgColumns(r)))
        .collect()
}

pub(crate) async fn exceptions<C: GenericClient>(
    c: &C,
    id: Option<i64>,
) -> Result<Vec<Exception>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "{EXCEPTION_COLUMNS} WHERE $1::bigint IS NULL OR e.id = $1 ORDER BY e.id"
        ))
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&id]).await.map_err(pg_error)?;
    rows.iter()
        .map(|r| triage::exception(&PgColumns(r)))
        .collect()
}

pub(crate) async fn add_exception<C: GenericClient>(
    c: &C,
    e: &NewException,
) -> Result<Exception, StoreError> {
    let site_id: Option<i64> = match &e.site {
        Some(name) => Some(
            c.query_opt("SELECT id FROM sites WHERE name = $1", &[name])
                .await
                .map_err(pg_error)?
                .ok_or_else(|| StoreError::NotFound(format!("site {name:?}")))?
                .try_get(0)
                .map_err(pg_error)?,
        ),
        None => None,
    };
    let row = c
        .query_opt(
            "INSERT INTO cve_exceptions
                 (cve, package, version, os_group, site_id, reason, author, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING RETURNING id",
            &[
                &e.cve,
                &e.package,
                &e.version,
                &e.os_group,
                &site_id,
                &e.reason,
                &e.author,
                &now_millis(),
                &e.expires_at,
            ],
        )
        .await;
    let id: i64 = match row {
        Ok(Some(r)) => r.try_get(0).map_err(pg_error)?,
        Ok(None) => return Err(StoreError::AlreadyExists(e.describe())),
        Err(err) if err.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            return Err(StoreError::NotFound(format!(
                "site {:?}",
                e.site.as_deref().unwrap_or_default()
            )));
        }
        Err(err) => return Err(pg_error(err)),
    };
    exceptions(c, Some(id))
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("exception {id}")))
}

pub(crate) async fn remove_exception<C: GenericClient>(c: &C, id: i64) -> Result<(), StoreError> {
    let n = c
        .execute("DELETE FROM cve_exceptions WHERE id = $1", &[&id])
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("exception {id}")));
    }
    Ok(())
}
