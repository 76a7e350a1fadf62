//! Pending updates from the repositories' current snapshots: one host's,
//! the fleet's (within the caller's scope), and the repositories.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use patchwatch_assess::FindingState;
use patchwatch_store::HostFilter;
use patchwatch_updates::{HostUpdate, PackageState, closes, ignored_preferences, package_counts};
use patchwatch_vulndb::host_findings;
use serde::Deserialize;
use serde_json::{Value, json};

use super::hosts::{host_id, query};
use utoipa::IntoParams;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::openapi::schemas;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UpdatesQuery {
    /// Only security updates.
    security: Option<bool>,
}

/// `GET /api/v1/hosts/{id}/updates?security=true`: what the host's package
/// manager would install from its repositories (those its report names,
/// else its OS group's defaults). `repositories` is empty when none
/// applies: then "no updates" means "unknown". `kernel`: running, newest
/// installed and newest available kernel, and whether a reboot is
/// required (derived from them, or the client's flag); the apt
/// preferences files ignored because they do not parse.
#[utoipa::path(
    get,
    path = "/hosts/{id}/updates",
    operation_id = "get_host_updates",
    tag = "updates",
    summary = "A host's pending updates",
    params(("id" = i64, Path, description = "The host's id"), UpdatesQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "What its package manager would install, security updates flagged", body = schemas::HostUpdates),
        (status = 400, description = "The id is not an integer, or a parameter is unknown or not a boolean", body = schemas::Error),
        (status = 404, description = "No such host (or not one the caller may read)", body = schemas::Error),
    )
)]
pub async fn host(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<UpdatesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = host_id(id)?;
    let q = query(q)?;
    let host = caller.host(&state, id).await?;
    let (catalogue, repos, kept) = state.repos.host(state.db.as_ref(), &host).await?;
    let mut updates: Vec<HostUpdate> = kept.as_ref().clone();
    let packages = state.db.package_set(host.summary.package_set_id).await?;
    let kernel = catalogue.kernel_status(
        &repos,
        &packages,
        &host.summary.kernel,
        &host.summary.arch,
        host.summary.reboot_required,
    );
    // The CVEs each update closes, from the imported feeds; and the fixes
    // no repository of the host offers yet.
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let findings = host_findings(&loaded, &host.summary, &packages);
    let fixed_by = closes::annotate(&mut updates, &findings);
    let mut not_in_repositories: Vec<&str> = findings
        .iter()
        .zip(&fixed_by)
        .filter(|(f, by)| by.is_none() && f.state() == FindingState::FixAvailable)
        .map(|(f, _)| f.cve())
        .collect();
    not_in_repositories.sort_unstable();
    not_in_repositories.dedup();
    let security = updates.iter().filter(|u| u.security).count();
    let shown: Vec<&HostUpdate> = updates
        .iter()
        .filter(|u| !q.security.unwrap_or(false) || u.security)
        .collect();
    let names: Vec<&str> = repos
        .iter()
        .map(|&i| catalogue.repositories()[i].name.as_str())
        .collect();
    Ok(Json(json!({
        "host_id": id,
        "hostname": host.summary.hostname,
        "repositories": names,
        "total": updates.len(),
        "security": security,
        "updates": shown,
        "fixes_not_in_repositories": not_in_repositories,
        "kernel": kernel,
        "ignored_preferences": ignored_preferences(&host.apt_preferences),
    })))
}

/// `GET /api/v1/updates?security=true`: every host the caller may read
/// with its update counts, and per package how many hosts need it.
#[utoipa::path(
    get,
    path = "/updates",
    operation_id = "get_fleet_updates",
    tag = "updates",
    summary = "The fleet's pending updates",
    params(UpdatesQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The caller's hosts with update counts, and hosts per package", body = schemas::FleetUpdates),
        (status = 400, description = "A parameter is unknown or not a boolean", body = schemas::Error),
    )
)]
pub async fn fleet(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<UpdatesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let q = query(q)?;
    let filter = caller.host_filter(HostFilter::default());
    let fleet = state.repos.fleet(state.db.as_ref(), &filter).await?;
    let security_only = q.security.unwrap_or(false);
    let packages = package_counts(&fleet, security_only);
    let hosts: Vec<Value> = fleet
        .hosts
        .iter()
        .filter(|h| !security_only || h.security() > 0)
        .map(|h| {
            json!({
                "host_id": h.host_id,
                "hostname": h.hostname,
                "site": h.site,
                "repositories": h.repositories,
                "updates": h.updates.len(),
                "security": h.security(),
            })
        })
        .collect();
    let with_security = fleet.hosts.iter().filter(|h| h.security() > 0).count();
    Ok(Json(json!({
        "hosts_total": fleet.hosts.len(),
        "hosts_with_security_updates": with_security,
        "hosts": hosts,
        "packages": packages,
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PackageQuery {
    /// Only the hosts that have the package installed.
    installed: Option<bool>,
}

/// Package names as every package manager spells them: at most 200
/// printable characters, no whitespace.
fn package_name(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(name) =
        p.map_err(|_| ApiError::bad_request("the package name in the path is not valid UTF-8"))?;
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "the package name must be 1 to 200 characters",
        ));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ApiError::bad_request(
            "the package name must not contain whitespace or control characters",
        ));
    }
    Ok(name)
}

/// `GET /api/v1/packages/{name}?installed=true`: the fleet view of one
/// package over the hosts the caller may read: which version each host
/// runs and which of its repositories offer it, who is outdated (with the
/// candidate), current, or lacks it (`missing`), and `unknown` where no
/// repository applies.
#[utoipa::path(
    get,
    path = "/packages/{name}",
    operation_id = "get_package",
    tag = "updates",
    summary = "One package across the fleet",
    params(
        ("name" = String, Path, description = "The package name: 1 to 200 characters, no whitespace or control characters", min_length = 1, max_length = 200, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$"),
        PackageQuery,
    ),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Each host's versions, state and candidate", body = schemas::PackageView),
        (status = 400, description = "The name is not valid, or a parameter is unknown or not a boolean", body = schemas::Error),
    )
)]
pub async fn package(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<PackageQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let name = package_name(name)?;
    let q = query(q)?;
    let filter = caller.host_filter(HostFilter::default());
    let hosts = state
        .repos
        .package(
            state.db.as_ref(),
            &filter,
            &name,
            q.installed.unwrap_or(false),
        )
        .await?;
    let count = |s: PackageState| hosts.iter().filter(|h| h.state == s).count();
    Ok(Json(json!({
        "name": name,
        "hosts_total": hosts.len(),
        "outdated": count(PackageState::Outdated),
        "current": count(PackageState::Current),
        "missing": count(PackageState::Missing),
        "unknown": count(PackageState::Unknown),
        "hosts": hosts,
    })))
}

/// `GET /api/v1/repos`: the configured repositories with their current
/// snapshots (configuration, not site data: any reader may see it).
#[utoipa::path(
    get,
    path = "/repos",
    operation_id = "list_repositories",
    tag = "updates",
    summary = "The configured repositories",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Repositories with their current snapshots and sync state", body = schemas::RepositoryList),
    )
)]
pub async fn repos(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let repos = state.db.repositories().await?;
    Ok(Json(json!({ "repositories": repos })))
}
