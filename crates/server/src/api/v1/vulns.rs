//! Vulnerabilities: a host's findings, the fleet's CVEs, one CVE's hosts.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use patchwatch_auth::Action;
use patchwatch_store::{HostFilter, now_millis};
use patchwatch_vulndb::{
    HostScope, Triage, covered, fleet_findings, host_findings, host_scopes, parse_cve_id,
    triaged_json,
};
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
pub struct HostVulnQuery {
    /// Only findings with this (enabled) CVE tag.
    tag: Option<String>,
}

/// The tags, assignments and exceptions now, with `tag` checked.
async fn triage(state: &AppState, tag: Option<&str>) -> Result<Triage, ApiError> {
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    if let Some(t) = tag {
        triage.check_filter(t)?;
    }
    Ok(triage)
}

/// `GET /api/v1/hosts/{id}/vulnerabilities?tag=`: every finding, most
/// severe first, each with its explanation, `tags` and `excepted` (the
/// exception that covers it, or null); excepted findings come last and
/// are counted apart. `covered` is false when no imported feed has data
/// for the host's OS (and no OVAL document applies to it): then "no
/// findings" means "unknown".
#[utoipa::path(
    get,
    path = "/hosts/{id}/vulnerabilities",
    operation_id = "get_host_vulnerabilities",
    tag = "vulnerabilities",
    summary = "A host's findings",
    params(("id" = i64, Path, description = "The host's id"), HostVulnQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Its findings, most severe first, excepted ones last", body = schemas::HostVulnerabilities),
        (status = 400, description = "The id is not an integer, a parameter is unknown, or the tag is disabled", body = schemas::Error),
        (status = 404, description = "No such host (or not one the caller may read), or no such tag", body = schemas::Error),
    )
)]
pub async fn host(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<HostVulnQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = host_id(id)?;
    let q = query(q)?;
    let host = caller.host(&state, id).await?;
    let triage = triage(&state, q.tag.as_deref()).await?;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let packages = state.db.package_set(host.summary.package_set_id).await?;
    let findings = host_findings(&loaded, &host.summary, &packages);
    let scope = HostScope::new(
        &host.summary.site,
        loaded.index.os_groups(),
        &host.summary.os,
    );
    let mut rows: Vec<_> = findings
        .iter()
        .map(|f| (f, triage.classify_one(&scope, f)))
        .filter(|(_, c)| q.tag.as_ref().is_none_or(|t| c.tags.contains(t)))
        .collect();
    rows.sort_by_key(|(_, c)| c.exception.is_some());
    let excepted = rows.iter().filter(|(_, c)| c.exception.is_some()).count();
    let rows: Vec<Value> = rows
        .iter()
        .map(|(f, c)| triaged_json(&loaded, f, c))
        .collect();
    Ok(Json(json!({
        "host_id": host.summary.id,
        "hostname": host.summary.hostname,
        "os": host.summary.os.to_string(),
        "feeds": loaded.feeds,
        "covered": covered(&loaded, &host.summary, &packages),
        "count": rows.len(),
        "excepted": excepted,
        "findings": rows,
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CveQuery {
    /// Only this site's hosts.
    site: Option<String>,
    /// Only CVEs with this (enabled) CVE tag.
    tag: Option<String>,
}

/// `GET /api/v1/cves?site=&tag=`: every CVE some host is exposed to, with
/// the number of hosts (excepted findings left out, their hosts counted in
/// `excepted_hosts`), the packages and the tags, most severe and
/// widespread first.
#[utoipa::path(
    get,
    path = "/cves",
    operation_id = "list_cves",
    tag = "vulnerabilities",
    summary = "Every CVE a host of the caller's is exposed to",
    params(CveQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "CVEs with host counts, most severe and widespread first", body = schemas::CveList),
        (status = 400, description = "A parameter is unknown, or the tag is disabled", body = schemas::Error),
        (status = 404, description = "No such site (or not one the caller may read), or no such tag", body = schemas::Error),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<CveQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let q = query(q)?;
    let site = match &q.site {
        Some(name) => Some(
            caller
                .readable_site(&state, name)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("site {name:?} not found")))?,
        ),
        None => None,
    };
    let triage = triage(&state, q.tag.as_deref()).await?;
    // From the kept fleet assessment: only hosts and sets not assessed
    // yet cost anything. Only the caller's hosts are summarised.
    let access = caller.access();
    let keep =
        |site_id: i64| access.allows(Action::Read, site_id) && site.is_none_or(|s| s == site_id);
    let cves: Vec<_> = state
        .vulns
        .fleet_cves(state.db.as_ref(), keep, &triage)
        .await?
        .into_iter()
        .filter(|s| s.hosts > 0 && q.tag.as_ref().is_none_or(|t| s.tags.contains(t)))
        .collect();
    Ok(Json(json!({ "count": cves.len(), "cves": cves })))
}

/// `GET /api/v1/cves/{id}`: which hosts are exposed, through which
/// package, installed and fixed where.
#[utoipa::path(
    get,
    path = "/cves/{id}",
    operation_id = "get_cve",
    tag = "vulnerabilities",
    summary = "The hosts exposed to one CVE",
    params(
        ("id" = String, Path, description = "A CVE id: `CVE-2024-12797` (any case)", pattern = r"^\s*[Cc][Vv][Ee]-[0-9]{4}-[0-9]{4,}\s*$"),
        CveQuery,
    ),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The findings of that CVE on the caller's hosts", body = schemas::CveHosts),
        (status = 400, description = "A malformed CVE id, an unknown parameter, or a disabled tag", body = schemas::Error),
        (status = 404, description = "No host of the caller's is exposed to it; or no such site or tag", body = schemas::Error),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<CveQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let Path(raw) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let cve = parse_cve_id(&raw).ok_or_else(|| {
        ApiError::bad_request(format!(
            "malformed CVE id {raw:?}: expected CVE-YYYY-NNNN (e.g. CVE-2024-12797)"
        ))
    })?;
    let q = query(q)?;
    let filter = site_filter(&state, &caller, q.site).await?;
    let triage = triage(&state, q.tag.as_deref()).await?;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let (hosts, by_cve) = fleet_findings(state.db.as_ref(), &loaded, &filter, Some(&cve)).await?;
    let list = by_cve
        .get(&cve)
        .ok_or_else(|| ApiError::not_found(format!("no host is exposed to {cve}")))?;
    let scopes = host_scopes(&loaded, &hosts);
    let mut list: Vec<_> = list
        .iter()
        .map(|h| (h, triage.classify_one(&scopes[h.host], &h.finding)))
        .filter(|(_, c)| q.tag.as_ref().is_none_or(|t| c.tags.contains(t)))
        .collect();
    list.sort_by_key(|(_, c)| c.exception.is_some());
    let exposed: BTreeSet<usize> = list
        .iter()
        .filter(|(_, c)| c.exception.is_none())
        .map(|(h, _)| h.host)
        .collect();
    let rows: Vec<Value> = list
        .iter()
        .map(|(h, c)| {
            let host = &hosts[h.host];
            let mut v = triaged_json(&loaded, &h.finding, c);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("host_id".into(), json!(host.id));
                obj.insert("hostname".into(), json!(host.hostname));
                obj.insert("site".into(), json!(host.site));
            }
            v
        })
        .collect();
    Ok(Json(
        json!({ "cve": cve, "hosts": exposed.len(), "findings": rows }),
    ))
}

/// The caller's hosts, of `site` if given; a site out of the caller's
/// scope is "not found", like an unknown one.
async fn site_filter(
    state: &AppState,
    caller: &Caller,
    site: Option<String>,
) -> Result<HostFilter, ApiError> {
    if let Some(s) = &site
        && !caller.reads_site(state, s).await?
    {
        return Err(ApiError::not_found(format!("site {s:?} not found")));
    }
    Ok(caller.host_filter(HostFilter {
        site,
        ..HostFilter::default()
    }))
}

/// `GET /api/v1/assessment`: how far the server's kept fleet assessment
/// is (feeds, advisories, distinct assessments, and the last update).
#[utoipa::path(
    get,
    path = "/assessment",
    operation_id = "get_assessment",
    tag = "vulnerabilities",
    summary = "The server's kept fleet assessment (readers of every site)",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "How far the kept assessment is; it never waits for a running update", body = schemas::Assessment),
    )
)]
pub async fn assessment(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require_everywhere(Action::Read, "the fleet assessment's totals")?;
    Ok(Json(json!(state.vulns.status())))
}
