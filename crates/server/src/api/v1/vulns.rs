//! Vulnerabilities: a host's findings, the fleet's CVEs, one CVE's hosts.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use patchwatch_store::HostFilter;
use patchwatch_vulndb::{covered, finding_json, fleet_findings, host_findings, parse_cve_id};
use serde::Deserialize;
use serde_json::{Value, json};

use super::hosts::{host_id, load_host, query, reader};
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/v1/hosts/{id}/vulnerabilities`: every finding, most severe
/// first, each with its explanation. `covered` is false when no imported
/// feed has data for the host's OS (and no OVAL document applies to it):
/// then "no findings" means "unknown".
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
        "covered": covered(&loaded, &host.summary, &packages),
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
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let (_, by_cve) = fleet_findings(state.db.as_ref(), &loaded, &filter).await?;
    let mut cves: Vec<Value> = by_cve
        .iter()
        .map(|(cve, list)| {
            let hosts: BTreeSet<usize> = list.iter().map(|h| h.host).collect();
            let packages: BTreeSet<&str> = list.iter().map(|h| h.finding.package()).collect();
            let severity = list
                .iter()
                .map(|h| h.finding.severity())
                .max()
                .unwrap_or_default();
            json!({ "cve": cve, "severity": severity, "hosts": hosts.len(), "packages": packages })
        })
        .collect();
    cves.sort_by(|a, b| {
        b["severity"]
            .as_str()
            .map(severity_rank)
            .cmp(&a["severity"].as_str().map(severity_rank))
            .then_with(|| b["hosts"].as_u64().cmp(&a["hosts"].as_u64()))
    });
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

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 5,
        "high" => 4,
        "medium" => 3,
        "low" => 2,
        "negligible" => 1,
        _ => 0,
    }
}
