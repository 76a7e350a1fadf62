//! CVE tags and exceptions: reads on a pooled connection, writes in the
//! writer's savepoint (so a check and the write it guards are one step).

use patchwatch_store::triage::{
    self, ASSIGNMENT_QUERY, EXCEPTION_COLUMNS, NewAssignment, NewException, TAG_COLUMNS,
};
use patchwatch_store::{CveTag, Exception, StoreError, TagAssignment, now_millis};
use rusqlite::{Connection, OptionalExtension, params};

use crate::sql_error;

pub(crate) fn tags(c: &Connection, name: Option<&str>) -> Result<Vec<CveTag>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "{TAG_COLUMNS} WHERE ?1 IS NULL OR t.name = ?1 ORDER BY t.name"
        ))
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [name], triage::tag)
}

fn tag_id(c: &Connection, name: &str) -> Result<i64, StoreError> {
    c.query_row("SELECT id FROM cve_tags WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::NotFound(format!("tag {name:?}")))
}

pub(crate) fn add_tag(c: &Connection, name: &str, reason: &str) -> Result<CveTag, StoreError> {
    c.query_row(
        "INSERT INTO cve_tags (name, reason, enabled, created_at) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        params![name, reason, now_millis()],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::AlreadyExists(format!("tag {name:?}")))?;
    one_tag(c, name)
}

fn one_tag(c: &Connection, name: &str) -> Result<CveTag, StoreError> {
    tags(c, Some(name))?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("tag {name:?}")))
}

pub(crate) fn set_enabled(c: &Connection, name: &str, enabled: bool) -> Result<CveTag, StoreError> {
    let n = c
        .execute(
            "UPDATE cve_tags SET enabled = ?2 WHERE name = ?1",
            params![name, enabled],
        )
        .map_err(sql_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("tag {name:?}")));
    }
    one_tag(c, name)
}

pub(crate) fn remove_tag(c: &Connection, name: &str) -> Result<(), StoreError> {
    let n = c
        .execute("DELETE FROM cve_tags WHERE name = ?1", [name])
        .map_err(sql_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("tag {name:?}")));
    }
    Ok(())
}

pub(crate) fn assign(c: &Connection, a: &NewAssignment) -> Result<TagAssignment, StoreError> {
    let id = tag_id(c, &a.tag)?;
    let now = now_millis();
    c.query_row(
        "INSERT INTO cve_tag_assignments (cve, tag_id, reason, author, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING 1",
        params![a.cve, id, a.reason, a.author, now],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::AlreadyExists(format!("{} tagged {:?}", a.cve, a.tag)))?;
    Ok(TagAssignment {
        cve: a.cve.clone(),
        tag: a.tag.clone(),
        reason: a.reason.clone(),
        author: a.author.clone(),
        created_at: now,
    })
}

pub(crate) fn unassign(c: &Connection, cve: &str, tag: &str) -> Result<(), StoreError> {
    let id = tag_id(c, tag)?;
    let n = c
        .execute(
            "DELETE FROM cve_tag_assignments WHERE cve = ?1 AND tag_id = ?2",
            params![cve, id],
        )
        .map_err(sql_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("{cve} tagged {tag:?}")));
    }
    Ok(())
}

pub(crate) fn assignments(c: &Connection) -> Result<Vec<TagAssignment>, StoreError> {
    let mut stmt = c.prepare_cached(ASSIGNMENT_QUERY).map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [], triage::assignment)
}

pub(crate) fn exceptions(c: &Connection, id: Option<i64>) -> Result<Vec<Exception>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "{EXCEPTION_COLUMNS} WHERE ?1 IS NULL OR e.id = ?1 ORDER BY e.id"
        ))
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [id], triage::exception)
}

pub(crate) fn add_exception(c: &Connection, e: &NewException) -> Result<Exception, StoreError> {
    let site_id = match &e.site {
        Some(name) => Some(
            c.query_row("SELECT id FROM sites WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(sql_error)?
            .ok_or_else(|| StoreError::NotFound(format!("site {name:?}")))?,
        ),
        None => None,
    };
    let id: i64 = c
        .query_row(
            "INSERT INTO cve_exceptions
                 (cve, package, version, os_group, site_id, reason, author, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT DO NOTHING RETURNING id",
            params![
                e.cve,
                e.package,
                e.version,
                e.os_group,
                site_id,
                e.reason,
                e.author,
                now_millis(),
                e.expires_at
            ],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_error)?
        .ok_or_else(|| StoreError::AlreadyExists(e.describe()))?;
    exceptions(c, Some(id))?
        .pop()
        .ok_or_else(|| StoreError::Backend("the new exception vanished".into()))
}

pub(crate) fn remove_exception(c: &Connection, id: i64) -> Result<(), StoreError> {
    let n = c
        .execute("DELETE FROM cve_exceptions WHERE id = ?1", [id])
        .map_err(sql_error)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("exception {id}")));
    }
    Ok(())
}
