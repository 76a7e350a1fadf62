//! The read side: hosts, their packages and their history, each within
//! the caller's scope (see `caller`).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use patchwatch_store::{HostFilter, PackageView, host_history, now_millis};
use serde::Deserialize;
use serde_json::{Value, json};

use utoipa::IntoParams;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::openapi::schemas;
use crate::state::AppState;

/// Most hosts one page returns.
const MAX_PAGE: u32 = 1000;
const DEFAULT_PAGE: u32 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this site's hosts.
    site: Option<String>,
    /// Only this OS: `debian 12`, `debian` (any release), `unknown`.
    os: Option<String>,
    /// Only hosts with this host tag.
    tag: Option<String>,
    /// Comma-separated hostname suffixes: `.cz,.de`.
    domain: Option<String>,
    /// Only hosts not seen for at least this many days.
    #[param(maximum = 4294967295_u64)]
    not_seen_days: Option<u32>,
    /// Only this hostname (its stored form: lower case, no trailing dot).
    hostname: Option<String>,
    /// Hosts per page (100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Hosts skipped.
    #[param(maximum = 4294967295_u64)]
    offset: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Reports per page (100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Reports skipped.
    #[param(maximum = 4294967295_u64)]
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
#[utoipa::path(
    get,
    path = "/hosts",
    operation_id = "list_hosts",
    tag = "hosts",
    summary = "Hosts, paginated",
    params(ListQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "One page of the caller's hosts", body = schemas::HostPage),
        (status = 400, description = "An unknown parameter or a value out of range", body = schemas::Error),
    )
)]
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
#[utoipa::path(
    get,
    path = "/hosts/{id}",
    operation_id = "get_host",
    tag = "hosts",
    summary = "One host",
    params(("id" = i64, Path, description = "The host's id")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The host and its latest report's details", body = schemas::HostDetail),
        (status = 400, description = "The id is not an integer", body = schemas::Error),
        (status = 404, description = "No such host (or not one the caller may read)", body = schemas::Error),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let host = caller.host(&state, host_id(id)?).await?;
    Ok(Json(json!(host)))
}

/// `GET /api/v1/hosts/{id}/packages`
#[utoipa::path(
    get,
    path = "/hosts/{id}/packages",
    operation_id = "get_host_packages",
    tag = "hosts",
    summary = "A host's installed packages",
    params(("id" = i64, Path, description = "The host's id")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The packages of its latest report", body = schemas::HostPackages),
        (status = 400, description = "The id is not an integer", body = schemas::Error),
        (status = 404, description = "No such host (or not one the caller may read)", body = schemas::Error),
    )
)]
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
#[utoipa::path(
    get,
    path = "/hosts/{id}/reports",
    operation_id = "get_host_reports",
    tag = "hosts",
    summary = "A host's reports, newest first",
    params(("id" = i64, Path, description = "The host's id"), PageQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Its reports, each with the package changes since the one before", body = schemas::HostReports),
        (status = 400, description = "The id is not an integer, or a parameter is unknown or out of range", body = schemas::Error),
        (status = 404, description = "No such host (or not one the caller may read)", body = schemas::Error),
    )
)]
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
