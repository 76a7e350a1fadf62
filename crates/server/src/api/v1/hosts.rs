//! The read side: hosts, their packages and their history, each within
//! the caller's scope (see `caller`).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use patchwatch_store::{HostFilter, PackageView, host_history, now_millis};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Most hosts one page returns.
const MAX_PAGE: u32 = 1000;
const DEFAULT_PAGE: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    site: Option<String>,
    os: Option<String>,
    tag: Option<String>,
    /// Comma-separated hostname suffixes: `.cz,.de`.
    domain: Option<String>,
    not_seen_days: Option<u32>,
    hostname: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<u32>,
    offset: Option<u32>,
}

pub(super) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {}", e.body_text())))
}

pub(super) fn host_id(p: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("the host id in the path must be an integer"))
}

fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        0 => Err(ApiError::bad_request("limit must be at least 1")),
        n if n > MAX_PAGE => Err(ApiError::bad_request(format!(
            "limit must be at most {MAX_PAGE}"
        ))),
        n => Ok(n),
    }
}

/// `GET /api/v1/hosts`
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let q = query(q)?;
    let filter = caller.host_filter(HostFilter {
        site: q.site,
        os: q.os,
        tag: q.tag,
        domains: q
            .domain
            .map(|d| d.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        last_seen_before: q
            .not_seen_days
            .map(|d| now_millis() - i64::from(d) * 86_400_000),
        hostname: q.hostname,
        limit: Some(page_limit(q.limit)?),
        offset: q.offset.unwrap_or(0),
        ..HostFilter::default()
    });
    let page = state.db.hosts(&filter).await?;
    Ok(Json(json!(page)))
}

/// `GET /api/v1/hosts/{id}`
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let host = caller.host(&state, host_id(id)?).await?;
    Ok(Json(json!(host)))
}

/// `GET /api/v1/hosts/{id}/packages`
pub async fn packages(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = host_id(id)?;
    let host = caller.host(&state, id).await?;
    let packages = state.db.package_set(host.summary.package_set_id).await?;
    let views: Vec<PackageView> = packages.iter().map(PackageView::from).collect();
    Ok(Json(json!({
        "host_id": id,
        "hostname": host.summary.hostname,
        "count": views.len(),
        "packages": views,
    })))
}

/// `GET /api/v1/hosts/{id}/reports`: newest first, each with the package
/// changes since the report before it.
pub async fn reports(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = host_id(id)?;
    let q = query(q)?;
    caller.host(&state, id).await?;
    let limit = page_limit(q.limit)?;
    let offset = q.offset.unwrap_or(0);
    let entries = host_history(state.db.as_ref(), id, limit, offset).await?;
    Ok(Json(json!({
        "host_id": id,
        "limit": limit,
        "offset": offset,
        "reports": entries,
    })))
}
