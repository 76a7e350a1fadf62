//! The read side: queries on a pooled read connection.

use patchwatch_reports::{Package, PackageType};
use patchwatch_store::package_set::decode_ids;
use patchwatch_store::rows;
use patchwatch_store::{
    HOST_SUMMARY_COLUMN_COUNT, HOST_SUMMARY_COLUMNS, HOST_SUMMARY_FROM, HostDetail, HostDetails,
    HostFilter, HostKeys, HostRef, HostSummary, HostWhere, Page, ReportRecord, Site, SqlDialect,
    SqlValue, StoreError, TokenRecord, host_list_sql, host_where, is_large_selection,
    select_window, sort_packages,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::sql_error;

pub(crate) fn sites(c: &Connection) -> Result<Vec<Site>, StoreError> {
    site_query(c, None)
}

pub(crate) fn site(c: &Connection, name: &str) -> Result<Option<Site>, StoreError> {
    Ok(site_query(c, Some(name))?.pop())
}

fn site_query(c: &Connection, name: Option<&str>) -> Result<Vec<Site>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT s.id, s.name, s.created_at,
                 (SELECT COUNT(*) FROM hosts h WHERE h.site_id = s.id)
             FROM sites s WHERE ?1 IS NULL OR s.name = ?1 ORDER BY s.name",
        )
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [name], rows::site)
}

/// Every token, or the active one with `hash`.
pub(crate) fn tokens(c: &Connection, hash: Option<&str>) -> Result<Vec<TokenRecord>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "{} WHERE ?1 IS NULL OR (t.hash = ?1 AND t.revoked_at IS NULL) ORDER BY t.name",
            rows::TOKEN_COLUMNS
        ))
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [hash], rows::token)
}

fn bind(values: Vec<SqlValue>) -> Vec<Value> {
    values
        .into_iter()
        .map(|v| match v {
            SqlValue::Text(s) => Value::Text(s),
            SqlValue::Int(i) => Value::Integer(i),
            SqlValue::IntList(ids) => Value::Text(SqlValue::json_array(&ids)),
        })
        .collect()
}

pub(crate) fn hosts(c: &Connection, filter: &HostFilter) -> Result<Page<HostSummary>, StoreError> {
    if is_large_selection(filter) {
        // Read in one transaction: the walk and the page see one state.
        let tx = c.unchecked_transaction().map_err(sql_error)?;
        let walk = host_ids(&tx, &filter.walk())?;
        let (page, total) = select_window(filter, walk);
        let items = hosts_listed(&tx, &page)?.items;
        tx.commit().map_err(sql_error)?;
        return Ok(Page {
            items,
            total,
            limit: filter.limit,
            offset: filter.offset,
        });
    }
    hosts_listed(c, filter)
}

/// [`hosts`] with the filter's host ids bound into the query.
fn hosts_listed(c: &Connection, filter: &HostFilter) -> Result<Page<HostSummary>, StoreError> {
    let sql = host_list_sql(filter, SqlDialect::Sqlite);
    let n = sql.values.len();
    let values = paged(sql.values, filter);
    let total: i64 = c
        .prepare_cached(&sql.count)
        .map_err(sql_error)?
        .query_row(params_from_iter(values[..n].iter()), |r| r.get(0))
        .map_err(sql_error)?;
    let mut stmt = c.prepare_cached(&sql.page).map_err(sql_error)?;
    let items = crate::collect_rows(
        &mut stmt,
        params_from_iter(values.iter()),
        rows::host_summary,
    )?;
    Ok(Page {
        items,
        total: total as u64,
        limit: filter.limit,
        offset: filter.offset,
    })
}

pub(crate) fn host_refs(c: &Connection, filter: &HostFilter) -> Result<Vec<HostRef>, StoreError> {
    let sql = host_list_sql(filter, SqlDialect::Sqlite);
    let values = paged(sql.values, filter);
    let mut stmt = c.prepare_cached(&sql.refs).map_err(sql_error)?;
    crate::collect_rows(&mut stmt, params_from_iter(values.iter()), rows::host_ref)
}

/// The ids of [`host_refs`], from an index where the order has one.
fn host_ids(c: &Connection, filter: &HostFilter) -> Result<Vec<i64>, StoreError> {
    let sql = host_list_sql(filter, SqlDialect::Sqlite);
    let values = paged(sql.values, filter);
    let mut stmt = c.prepare_cached(&sql.ids).map_err(sql_error)?;
    let ids = stmt
        .query_map(params_from_iter(values.iter()), |r| r.get::<_, i64>(0))
        .map_err(sql_error)?;
    ids.map(|id| id.map_err(sql_error)).collect()
}

/// A host list's values, then its limit and offset.
fn paged(values: Vec<SqlValue>, filter: &HostFilter) -> Vec<Value> {
    let mut values = bind(values);
    // LIMIT -1 is SQLite's "no limit".
    values.push(Value::Integer(filter.limit.map_or(-1, i64::from)));
    values.push(Value::Integer(i64::from(filter.offset)));
    values
}

pub(crate) fn host(c: &Connection, id: i64) -> Result<Option<HostDetail>, StoreError> {
    let sql = format!(
        "SELECT {HOST_SUMMARY_COLUMNS}, h.details FROM {HOST_SUMMARY_FROM} WHERE h.id = ?1"
    );
    let row = c
        .prepare_cached(&sql)
        .map_err(sql_error)?
        .query_row([id], |r| {
            Ok((
                rows::host_summary(&crate::SqliteColumns(r)),
                r.get::<_, String>(HOST_SUMMARY_COLUMN_COUNT)?,
            ))
        })
        .optional()
        .map_err(sql_error)?;
    match row {
        None => Ok(None),
        Some((summary, details)) => Ok(Some(
            HostDetails::from_json(&details)?.into_detail(summary?),
        )),
    }
}

pub(crate) fn host_details(
    c: &Connection,
    filter: &HostFilter,
) -> Result<Vec<HostDetail>, StoreError> {
    let HostWhere {
        sql: where_sql,
        values,
        ..
    } = host_where(filter, SqlDialect::Sqlite);
    let values = bind(values);
    // LIMIT -1 is SQLite's "no limit".
    let limit = filter.limit.map_or(-1, i64::from);
    let sql = format!(
        "SELECT {HOST_SUMMARY_COLUMNS}, h.details FROM {HOST_SUMMARY_FROM} {where_sql}
         ORDER BY s.name, h.hostname LIMIT {limit} OFFSET {}",
        filter.offset
    );
    let mut stmt = c.prepare_cached(&sql).map_err(sql_error)?;
    let rows = stmt
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((
                rows::host_summary(&crate::SqliteColumns(r)),
                r.get::<_, String>(HOST_SUMMARY_COLUMN_COUNT)?,
            ))
        })
        .map_err(sql_error)?;
    let mut out = Vec::new();
    for row in rows {
        let (summary, details) = row.map_err(sql_error)?;
        out.push(HostDetails::from_json(&details)?.into_detail(summary?));
    }
    Ok(out)
}

pub(crate) fn package_set(c: &Connection, set_id: i64) -> Result<Vec<Package>, StoreError> {
    let blob: Option<Vec<u8>> = c
        .prepare_cached("SELECT package_ids FROM package_sets WHERE id = ?1")
        .map_err(sql_error)?
        .query_row([set_id], |r| r.get(0))
        .optional()
        .map_err(sql_error)?;
    let Some(blob) = blob else {
        return Err(StoreError::NotFound(format!("package set {set_id}")));
    };
    let ids = decode_ids(&blob)?;
    let mut packages: Vec<Package> = packages_by_id(c, &ids)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if packages.len() != ids.len() {
        return Err(StoreError::Corrupt(format!(
            "package set {set_id} names {} packages, {} found",
            ids.len(),
            packages.len()
        )));
    }
    sort_packages(&mut packages);
    Ok(packages)
}

pub(crate) fn reports(
    c: &Connection,
    host_id: i64,
    limit: u32,
    offset: u32,
) -> Result<Vec<ReportRecord>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT r.id, r.host_id, r.received_at, r.protocol, o.distro, o.release, r.kernel,
                 ps.package_count, r.unchanged, r.sender, r.user_agent, r.package_set_id
             FROM reports r JOIN os_releases o ON o.id = r.os_release_id
             JOIN package_sets ps ON ps.id = r.package_set_id
             WHERE r.host_id = ?1 ORDER BY r.received_at DESC, r.id DESC LIMIT ?2 OFFSET ?3",
        )
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, (host_id, limit, offset), rows::report)
}

pub(crate) fn package_set_members(
    c: &Connection,
    set_ids: &[i64],
) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
    let json = serde_json::to_string(set_ids).expect("ids serialise");
    let mut stmt = c
        .prepare_cached(
            "SELECT id, package_ids FROM package_sets
             WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map([json], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .map_err(sql_error)?;
    let mut out = Vec::with_capacity(set_ids.len());
    for row in rows {
        let (id, blob) = row.map_err(sql_error)?;
        out.push((id, decode_ids(&blob)?));
    }
    Ok(out)
}

pub(crate) fn packages_by_id(
    c: &Connection,
    ids: &[i64],
) -> Result<Vec<(i64, Package)>, StoreError> {
    let json = serde_json::to_string(ids).expect("ids serialise");
    let mut stmt = c
        .prepare_cached(
            "SELECT id, name, epoch, version, release, arch, type, source_name, source_version
             FROM packages WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map([json], |r| {
            let kind: String = r.get(6)?;
            Ok((
                r.get::<_, i64>(0)?,
                kind,
                Package {
                    name: r.get(1)?,
                    epoch: r.get(2)?,
                    version: r.get(3)?,
                    release: r.get(4)?,
                    arch: r.get(5)?,
                    kind: PackageType::Deb,
                    source_name: r.get(7)?,
                    source_version: r.get(8)?,
                },
            ))
        })
        .map_err(sql_error)?;
    let mut out = Vec::with_capacity(ids.len());
    for row in rows {
        let (id, kind, mut p) = row.map_err(sql_error)?;
        p.kind = PackageType::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("package type {kind:?}")))?;
        out.push((id, p));
    }
    Ok(out)
}

/// See [`patchwatch_store::Database::host_keys`]: one read transaction,
/// so the version and the lists belong to the same moment even while the
/// writer commits.
pub(crate) fn host_keys(c: &Connection) -> Result<HostKeys, StoreError> {
    c.execute_batch("BEGIN").map_err(sql_error)?;
    let result = (|| {
        let version = host_keys_version(c)?;
        let mut stmt = c
            .prepare_cached(
                "SELECT id, site_id, package_set_id, os_release_id, kernel FROM hosts ORDER BY id",
            )
            .map_err(sql_error)?;
        let hosts = crate::collect_rows(&mut stmt, [], rows::host_key)?;
        let mut stmt = c
            .prepare_cached("SELECT id, distro, release FROM os_releases ORDER BY id")
            .map_err(sql_error)?;
        let os_releases = crate::collect_rows(&mut stmt, [], rows::os_release_row)?;
        let mut stmt = c
            .prepare_cached("SELECT id, name FROM sites ORDER BY id")
            .map_err(sql_error)?;
        let sites = crate::collect_rows(&mut stmt, [], rows::site_name_row)?;
        Ok(HostKeys {
            version,
            hosts,
            os_releases,
            sites,
        })
    })();
    let _ = c.execute_batch("COMMIT");
    result
}

/// See [`patchwatch_store::Database::host_keys_version`].
pub(crate) fn host_keys_version(c: &Connection) -> Result<i64, StoreError> {
    c.prepare_cached("SELECT version FROM host_keys_version WHERE id = 1")
        .map_err(sql_error)?
        .query_row([], |r| r.get(0))
        .map_err(sql_error)
}
