//! The read side: plain queries on a pooled connection, outside any
//! explicit transaction (but for the host keys, read in one snapshot).

use deadpool_postgres::{ClientWrapper, Transaction};
use patchwatch_reports::{Package, PackageType};
use patchwatch_store::package_set::decode_ids;
use patchwatch_store::rows;
use patchwatch_store::{
    HOST_SUMMARY_COLUMN_COUNT, HOST_SUMMARY_COLUMNS, HOST_SUMMARY_FROM, HostDetail, HostDetails,
    HostFilter, HostKeys, HostListSql, HostRef, HostSummary, HostWhere, Page, ReportRecord, Site,
    SqlDialect, SqlValue, StoreError, TokenRecord, host_list_sql, host_where, is_large_selection,
    select_window, sort_packages,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Statement};

use crate::error::PgColumns;
use crate::pg_error;

pub(crate) async fn sites(c: &ClientWrapper, name: Option<&str>) -> Result<Vec<Site>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT s.id, s.name, s.created_at,
                 (SELECT COUNT(*) FROM hosts h WHERE h.site_id = s.id)
             FROM sites s WHERE $1::text IS NULL OR s.name = $1 ORDER BY s.name",
        )
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&name]).await.map_err(pg_error)?;
    rows.iter().map(|r| rows::site(&PgColumns(r))).collect()
}

/// Every token, or the active one with `hash`.
pub(crate) async fn tokens(
    c: &ClientWrapper,
    hash: Option<&str>,
) -> Result<Vec<TokenRecord>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "{} WHERE $1::text IS NULL OR (t.hash = $1 AND t.revoked_at IS NULL) ORDER BY t.name",
            rows::TOKEN_COLUMNS
        ))
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&hash]).await.map_err(pg_error)?;
    rows.iter().map(|r| rows::token(&PgColumns(r))).collect()
}

/// Filters with many domain suffixes make one-off statement texts; those
/// aren't kept in the per-connection statement cache.
const MAX_CACHED_DOMAINS: usize = 4;

fn boxed(values: Vec<SqlValue>) -> Vec<Box<dyn ToSql + Sync + Send>> {
    values
        .into_iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                SqlValue::Text(s) => Box::new(s),
                SqlValue::Int(i) => Box::new(i),
                SqlValue::IntList(ids) => Box::new(ids),
            }
        })
        .collect()
}

pub(crate) async fn hosts(
    c: &ClientWrapper,
    filter: &HostFilter,
) -> Result<Page<HostSummary>, StoreError> {
    if is_large_selection(filter) {
        // Two statements, as the count and the page are: a host deleted
        // between them is left out of the page.
        let walk = listed(c, &filter.walk(), |sql| &sql.ids).await?;
        let ids = walk
            .iter()
            .map(|r| r.try_get::<_, i64>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(pg_error)?;
        let (page, total) = select_window(filter, ids);
        let items = hosts_listed(c, &page).await?.items;
        return Ok(Page {
            items,
            total,
            limit: filter.limit,
            offset: filter.offset,
        });
    }
    hosts_listed(c, filter).await
}

/// [`hosts`] with the filter's host ids bound into the query.
async fn hosts_listed(
    c: &ClientWrapper,
    filter: &HostFilter,
) -> Result<Page<HostSummary>, StoreError> {
    let sql = host_list_sql(filter, SqlDialect::Postgres);
    let n = sql.values.len();
    let mut params = boxed(sql.values);
    let (count_stmt, page_stmt) = if filter.domains.len() <= MAX_CACHED_DOMAINS {
        tokio::try_join!(c.prepare_cached(&sql.count), c.prepare_cached(&sql.page))
    } else {
        tokio::try_join!(c.prepare(&sql.count), c.prepare(&sql.page))
    }
    .map_err(pg_error)?;
    // LIMIT NULL is PostgreSQL's "no limit"; binding both keeps the
    // statement text the same for every page.
    params.push(Box::new(filter.limit.map(i64::from)));
    params.push(Box::new(i64::from(filter.offset)));
    let refs: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
    // Pipelined: both run on this connection, one round trip.
    let count = c.query_one(&count_stmt, &refs[..n]);
    let page = c.query(&page_stmt, &refs);
    let (count, rows) = tokio::try_join!(count, page).map_err(pg_error)?;
    let total: i64 = count.try_get(0).map_err(pg_error)?;
    Ok(Page {
        items: rows
            .iter()
            .map(|r| rows::host_summary(&PgColumns(r)))
            .collect::<Result<_, _>>()?,
        total: u64::try_from(total).unwrap_or_default(),
        limit: filter.limit,
        offset: filter.offset,
    })
}

pub(crate) async fn host_refs(
    c: &ClientWrapper,
    filter: &HostFilter,
) -> Result<Vec<HostRef>, StoreError> {
    let rows = listed(c, filter, |sql| &sql.refs).await?;
    rows.iter().map(|r| rows::host_ref(&PgColumns(r))).collect()
}

/// The rows of one of a host list's unjoined statements (`refs`, `ids`).
async fn listed(
    c: &ClientWrapper,
    filter: &HostFilter,
    statement: impl Fn(&HostListSql) -> &String,
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let sql = host_list_sql(filter, SqlDialect::Postgres);
    let text = statement(&sql);
    let stmt = if filter.domains.len() <= MAX_CACHED_DOMAINS {
        c.prepare_cached(text).await
    } else {
        c.prepare(text).await
    }
    .map_err(pg_error)?;
    let mut params = boxed(sql.values);
    // LIMIT NULL is PostgreSQL's "no limit".
    params.push(Box::new(filter.limit.map(i64::from)));
    params.push(Box::new(i64::from(filter.offset)));
    let refs: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
    c.query(&stmt, &refs).await.map_err(pg_error)
}

pub(crate) async fn host(c: &ClientWrapper, id: i64) -> Result<Option<HostDetail>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {HOST_SUMMARY_COLUMNS}, h.details FROM {HOST_SUMMARY_FROM} WHERE h.id = $1"
        ))
        .await
        .map_err(pg_error)?;
    let Some(row) = c.query_opt(&stmt, &[&id]).await.map_err(pg_error)? else {
        return Ok(None);
    };
    let details: &str = row.try_get(HOST_SUMMARY_COLUMN_COUNT).map_err(pg_error)?;
    Ok(Some(
        HostDetails::from_json(details)?.into_detail(rows::host_summary(&PgColumns(&row))?),
    ))
}

pub(crate) async fn host_details(
    c: &ClientWrapper,
    filter: &HostFilter,
) -> Result<Vec<HostDetail>, StoreError> {
    let HostWhere {
        sql: where_sql,
        values,
        ..
    } = host_where(filter, SqlDialect::Postgres);
    let n = values.len();
    let mut params = boxed(values);
    let sql = format!(
        "SELECT {HOST_SUMMARY_COLUMNS}, h.details FROM {HOST_SUMMARY_FROM} {where_sql}
         ORDER BY s.name, h.hostname LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let stmt = if filter.domains.len() <= MAX_CACHED_DOMAINS {
        c.prepare_cached(&sql).await
    } else {
        c.prepare(&sql).await
    }
    .map_err(pg_error)?;
    params.push(Box::new(filter.limit.map(i64::from)));
    params.push(Box::new(i64::from(filter.offset)));
    let refs: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
    let rows = c.query(&stmt, &refs).await.map_err(pg_error)?;
    rows.iter()
        .map(|row| {
            let details: &str = row.try_get(HOST_SUMMARY_COLUMN_COUNT).map_err(pg_error)?;
            Ok(HostDetails::from_json(details)?.into_detail(rows::host_summary(&PgColumns(row))?))
        })
        .collect()
}

pub(crate) async fn package_set(
    c: &ClientWrapper,
    set_id: i64,
) -> Result<Vec<Package>, StoreError> {
    let stmt = c
        .prepare_cached("SELECT package_ids FROM package_sets WHERE id = $1")
        .await
        .map_err(pg_error)?;
    let Some(row) = c.query_opt(&stmt, &[&set_id]).await.map_err(pg_error)? else {
        return Err(StoreError::NotFound(format!("package set {set_id}")));
    };
    let ids = decode_ids(row.try_get::<_, &[u8]>(0).map_err(pg_error)?)?;
    let mut packages: Vec<Package> = packages_by_id(c, &ids)
        .await?
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

pub(crate) async fn reports(
    c: &ClientWrapper,
    host_id: i64,
    limit: u32,
    offset: u32,
) -> Result<Vec<ReportRecord>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT r.id, r.host_id, r.received_at, r.protocol, o.distro, o.release, r.kernel,
                 ps.package_count, r.unchanged, r.sender, r.user_agent, r.package_set_id
             FROM reports r JOIN os_releases o ON o.id = r.os_release_id
             JOIN package_sets ps ON ps.id = r.package_set_id
             WHERE r.host_id = $1 ORDER BY r.received_at DESC, r.id DESC LIMIT $2 OFFSET $3",
        )
        .await
        .map_err(pg_error)?;
    let rows = c
        .query(&stmt, &[&host_id, &i64::from(limit), &i64::from(offset)])
        .await
        .map_err(pg_error)?;
    rows.iter().map(|r| rows::report(&PgColumns(r))).collect()
}

pub(crate) async fn package_set_members(
    c: &ClientWrapper,
    set_ids: &[i64],
) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
    let stmt = c
        .prepare_cached("SELECT id, package_ids FROM package_sets WHERE id = ANY($1::bigint[])")
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&set_ids]).await.map_err(pg_error)?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0).map_err(pg_error)?;
            Ok((id, decode_ids(r.try_get::<_, &[u8]>(1).map_err(pg_error)?)?))
        })
        .collect()
}

pub(crate) async fn packages_by_id(
    c: &ClientWrapper,
    ids: &[i64],
) -> Result<Vec<(i64, Package)>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT id, name, epoch, version, release, arch, type, source_name, source_version
             FROM packages WHERE id = ANY($1::bigint[])",
        )
        .await
        .map_err(pg_error)?;
    let rows = c.query(&stmt, &[&ids]).await.map_err(pg_error)?;
    rows.iter()
        .map(|r| {
            let kind: &str = r.try_get(6).map_err(pg_error)?;
            Ok((
                r.try_get::<_, i64>(0).map_err(pg_error)?,
                Package {
                    name: r.try_get(1).map_err(pg_error)?,
                    epoch: r.try_get(2).map_err(pg_error)?,
                    version: r.try_get(3).map_err(pg_error)?,
                    release: r.try_get(4).map_err(pg_error)?,
                    arch: r.try_get(5).map_err(pg_error)?,
                    kind: PackageType::parse(kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("package type {kind:?}")))?,
                    source_name: r.try_get(7).map_err(pg_error)?,
                    source_version: r.try_get(8).map_err(pg_error)?,
                },
            ))
        })
        .collect()
}

/// See [`patchwatch_store::Database::host_keys`]: REPEATABLE READ, so the
/// version and the lists belong to one snapshot even while ingests commit.
pub(crate) async fn host_keys(c: &mut ClientWrapper) -> Result<HostKeys, StoreError> {
    async fn all<T>(
        tx: &Transaction<'_>,
        stmt: &Statement,
        build: fn(&dyn rows::Columns) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let found = tx.query(stmt, &[]).await.map_err(pg_error)?;
        found.iter().map(|r| build(&PgColumns(r))).collect()
    }
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_error)?;
    let (version, hosts, os_releases, sites) = tokio::try_join!(
        tx.prepare_cached(HOST_KEYS_VERSION),
        tx.prepare_cached(
            "SELECT id, site_id, package_set_id, os_release_id, kernel FROM hosts ORDER BY id"
        ),
        tx.prepare_cached("SELECT id, distro, release FROM os_releases ORDER BY id"),
        tx.prepare_cached("SELECT id, name FROM sites ORDER BY id"),
    )
    .map_err(pg_error)?;
    // Pipelined: sent together, run in order, all in the snapshot the
    // first one takes.
    let (version, hosts, os_releases, sites) = tokio::try_join!(
        async { tx.query_one(&version, &[]).await.map_err(pg_error) },
        all(&tx, &hosts, rows::host_key),
        all(&tx, &os_releases, rows::os_release_row),
        all(&tx, &sites, rows::site_name_row),
    )?;
    tx.commit().await.map_err(pg_error)?;
    Ok(HostKeys {
        version: version.try_get(0).map_err(pg_error)?,
        hosts,
        os_releases,
        sites,
    })
}

const HOST_KEYS_VERSION: &str = "SELECT version FROM host_keys_version WHERE id = 1";

/// See [`patchwatch_store::Database::host_keys_version`].
pub(crate) async fn host_keys_version(c: &ClientWrapper) -> Result<i64, StoreError> {
    let stmt = c
        .prepare_cached(HOST_KEYS_VERSION)
        .await
        .map_err(pg_error)?;
    let row = c.query_one(&stmt, &[]).await.map_err(pg_error)?;
    row.try_get(0).map_err(pg_error)
}
