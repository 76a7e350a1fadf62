//! `GET /cves` (the CVEs the user's hosts are exposed to, from the kept
//! fleet assessment, most severe and widespread first) and
//! `GET /cves/{id}` (its hosts, packages and fixed versions, excepted
//! findings apart). Only the user's hosts are counted or shown, as in the
//! API.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use patchwatch_auth::Action;
use patchwatch_server::AppState;
use patchwatch_store::{HostFilter, now_millis, parse_cve_id};
use patchwatch_vulndb::{Triage, fleet_findings, host_scopes};
use serde::Deserialize;

use crate::page::{Chrome, WebError, render};
use crate::session::WebUser;

/// CVEs per page.
const PER_PAGE: usize = 100;
const MAX_PAGE: u32 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvesQuery {
    site: Option<String>,
    page: Option<String>,
}

pub struct CveRow {
    pub cve: String,
    pub severity: String,
    pub hosts: usize,
    pub excepted_hosts: usize,
    pub packages: String,
    pub tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "cves.html")]
struct CvesPage {
    chrome: Chrome,
    site: String,
    rows: Vec<CveRow>,
    total: usize,
    previous: Option<String>,
    next: Option<String>,
}

fn severity_text<T: serde::Serialize>(s: &T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A site filter: one the user can't read is "not found", like an
/// unknown one.
async fn site_filter(state: &AppState, user: &WebUser, site: &str) -> Result<HostFilter, WebError> {
    if !site.is_empty() && !user.caller.reads_site(state, site).await? {
        return Err(WebError::not_found(format!("site {site:?} not found")));
    }
    Ok(user.caller.host_filter(HostFilter {
        site: (!site.is_empty()).then(|| site.to_owned()),
        ..HostFilter::default()
    }))
}

/// `GET /cves?site=&page=`
pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    q: Result<Query<CvesQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Query(q) =
        q.map_err(|e| WebError::bad_request(format!("invalid filter: {}", e.body_text())))?;
    let site = q.site.unwrap_or_default().trim().to_owned();
    let page = match q.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                WebError::bad_request(format!(
                    "page must be a whole number from 1 to {MAX_PAGE}, not {p:?}"
                ))
            })?,
    };
    let filter = site_filter(&state, &user, &site).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let access = user.caller.access();
    let keep = |h: &patchwatch_store::HostSummary| {
        access.allows(Action::Read, h.site_id) && filter.site.as_ref().is_none_or(|s| *s == h.site)
    };
    let cves: Vec<_> = state
        .vulns
        .fleet_cves(state.db.as_ref(), keep, &triage)
        .await?
        .into_iter()
        .filter(|s| s.hosts > 0)
        .collect();
    let total = cves.len();
    let skip = (page as usize - 1) * PER_PAGE;
    let rows = cves
        .into_iter()
        .skip(skip)
        .take(PER_PAGE)
        .map(|s| CveRow {
            severity: severity_text(&s.severity),
            cve: s.cve,
            hosts: s.hosts,
            excepted_hosts: s.excepted_hosts,
            packages: s.packages.join(", "),
            tags: s.tags,
        })
        .collect();
    let link = |p: u32| {
        let site = if site.is_empty() {
            String::new()
        } else {
            format!("site={}&", crate::pages::hosts::encode(&site))
        };
        format!("/cves?{site}page={p}")
    };
    Ok(render(&CvesPage {
        chrome: user.chrome("cves"),
        rows,
        total,
        previous: (page > 1).then(|| link(page - 1)),
        next: (skip + PER_PAGE < total).then(|| link(page + 1)),
        site,
    }))
}

pub struct CveHostRow {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub package: String,
    pub installed: String,
    pub fixed: String,
    pub advisory: String,
    pub explanation: String,
    pub excepted: Option<String>,
}

#[derive(Template)]
#[template(path = "cve.html")]
struct CvePage {
    chrome: Chrome,
    cve: String,
    severity: String,
    hosts: usize,
    open: Vec<CveHostRow>,
    excepted: Vec<CveHostRow>,
}

/// `GET /cves/{id}`: a CVE none of the user's hosts has is "not found".
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Path(raw) = id.map_err(|e| WebError::bad_request(e.body_text()))?;
    let cve = parse_cve_id(&raw)
        .ok_or_else(|| WebError::bad_request(format!("{raw:?} is not a CVE id (CVE-YYYY-N)")))?;
    let filter = site_filter(&state, &user, "").await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let (hosts, by_cve) = fleet_findings(state.db.as_ref(), &loaded, &filter, Some(&cve)).await?;
    let list = by_cve
        .get(&cve)
        .ok_or_else(|| WebError::not_found(format!("none of your hosts is exposed to {cve}")))?;
    let scopes = host_scopes(&loaded, &hosts);
    let (mut open, mut excepted) = (Vec::new(), Vec::new());
    let mut exposed = BTreeSet::new();
    let mut severity = String::new();
    for hf in list {
        let c = triage.classify_one(&scopes[hf.host], &hf.finding);
        let host = &hosts[hf.host];
        let f = &hf.finding;
        if severity.is_empty() {
            severity = severity_text(&f.severity());
        }
        let row = CveHostRow {
            host_id: host.id,
            hostname: host.hostname.clone(),
            site: host.site.clone(),
            package: f.package().to_owned(),
            installed: f.installed().to_owned(),
            fixed: f.fixed().unwrap_or("not fixed yet").to_owned(),
            advisory: f.advisory().to_owned(),
            explanation: f.explanation(),
            excepted: c
                .exception
                .map(|e| format!("{} (by {})", e.reason, e.author)),
        };
        if row.excepted.is_some() {
            excepted.push(row);
        } else {
            exposed.insert(hf.host);
            open.push(row);
        }
    }
    Ok(render(&CvePage {
        chrome: user.chrome("cves"),
        cve,
        severity,
        hosts: exposed.len(),
        open,
        excepted,
    }))
}
