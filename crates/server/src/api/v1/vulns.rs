//! Vulnerabilities: a host's findings, the fleet's CVEs, one CVE's hosts.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use patchwatch_store::HostFilter;
use patchwatch_vulndb::{finding_json, fleet_findings, host_findings, parse_cve_id};
use serde::Deserialize;
use serde_json::{Value, json};

use super::hosts::{host_id, load_host, query, reader};
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/v1/hosts/{id}/vulnerabilities`: every finding, most severe
/// first, each with its explanation. `covered` is false when no imported
/// feed has data for the host's OS: then "no findings" means "unknown".
pub async fn host(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers).await?;
    let host = load_host(&state, host_id(id)?).await?;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let packages = state.db.package_set(host.summary.package_set_id).await?;
    let findings = host_findings(&loaded, &host.summary, &packages);
    let rows: Vec<Value> = findings.iter().map(|f| finding_json(&loaded, f)).collect();
    Ok(Json(json!({
        "host_id": host.summary.id,
        "hostname": host.summary.hostname,
        "os": host.summary.os.to_string(),
        "feeds": loaded.feeds,
        "covered": !loaded.index.scopes_for(&host.summary.os).is_empty(),
        "count": rows.len(),
        "findings": rows,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CveQuery {
    site: Option<String>,
}

/// `GET /api/v1/cves?site=`: every CVE some host is exposed to, with the
/// number of hosts and the packages, most severe and widespread first.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<CveQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers).await?;
    let q = query(q)?;
    let filter = site_filter(&state, q.site).await?;
    // From the kept fleet assessment: only hosts and sets not assessed
    // yet cost anything.
    let (_, cves) = state.vulns.fleet_cves(state.db.as_ref(), &filter).await?;
    Ok(Json(json!({ "count": cves.len(), "cves": cves })))
}

/// `GET /api/v1/cves/{id}`: which hosts are exposed, through which
/// package, installed and fixed where.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<CveQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers).await?;
    let Path(raw) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let cve = parse_cve_id(&raw).ok_or_else(|| {
        ApiError::bad_request(format!(
            "malformed CVE id {raw:?}: expected CVE-YYYY-NNNN (e.g. CVE-2024-12797)"
        ))
    })?;
    let q = query(q)?;
    let filter = site_filter(&state, q.site).await?;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let (hosts, by_cve) = fleet_findings(state.db.as_ref(), &loaded, &filter).await?;
    let list = by_cve
        .get(&cve)
        .ok_or_else(|| ApiError::not_found(format!("no host is exposed to {cve}")))?;
    let rows: Vec<Value> = list
        .iter()
        .map(|h| {
            let host = &hosts[h.host];
            let mut v = finding_json(&loaded, &h.finding);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("host_id".into(), json!(host.id));
                obj.insert("hostname".into(), json!(host.hostname));
                obj.insert("site".into(), json!(host.site));
            }
            v
        })
        .collect();
    Ok(Json(
        json!({ "cve": cve, "hosts": rows.len(), "findings": rows }),
    ))
}

async fn site_filter(state: &AppState, site: Option<String>) -> Result<HostFilter, ApiError> {
    if let Some(s) = &site
        && state.db.site(s).await?.is_none()
    {
        return Err(ApiError::not_found(format!("site {s:?} not found")));
    }
    Ok(HostFilter {
        site,
        ..HostFilter::default()
    })
}
