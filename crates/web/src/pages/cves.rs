//! `GET /cves` (the CVEs the user's hosts are exposed to, from the kept
//! fleet assessment, most severe and widespread first) and
//! `GET /cves/{id}` (its hosts, packages and fixed versions, excepted
//! findings apart). Only the user's hosts are counted or shown, as in the
//! API.

use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use patchwatch_auth::Action;
use patchwatch_server::AppState;
use patchwatch_server::vulns::CveHosts;
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

/// A site filter's site id (`None`: every site): one the user can't read
/// is "not found", like an unknown one.
async fn site_filter(
    state: &AppState,
    user: &WebUser,
    site: &str,
) -> Result<Option<i64>, WebError> {
    if site.is_empty() {
        return Ok(None);
    }
    match user.caller.readable_site(state, site).await? {
        Some(id) => Ok(Some(id)),
        None => Err(WebError::not_found(format!("site {site:?} not found"))),
    }
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
    let page = parse_page(q.page.as_deref())?;
    let site_id = site_filter(&state, &user, &site).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let access = user.caller.access();
    let keep = |id: i64| access.allows(Action::Read, id) && site_id.is_none_or(|s| s == id);
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
    /// Hosts with an open finding, and with any finding (excepted too).
    hosts: usize,
    with_findings: usize,
    /// The hosts shown on this page (1-based, inclusive).
    first: usize,
    last: usize,
    open: Vec<CveHostRow>,
    excepted: Vec<CveHostRow>,
    previous: Option<String>,
    next: Option<String>,
}

/// Hosts per CVE page: each shown host is assessed in full (findings with
/// explanations), so a page stays small however many hosts are exposed.
const HOSTS_PER_PAGE: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CveQuery {
    page: Option<String>,
}

pub(crate) fn parse_page(raw: Option<&str>) -> Result<u32, WebError> {
    match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(1),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                WebError::bad_request(format!(
                    "page must be a whole number from 1 to {MAX_PAGE}, not {p:?}"
                ))
            }),
    }
}

/// `GET /cves/{id}?page=`: a CVE none of the user's hosts has is "not
/// found". The hosts come from the kept fleet assessment (exposed ones
/// first, then the excepted ones), a page at a time; only the page's
/// hosts are assessed again for their findings and explanations.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<CveQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Path(raw) = id.map_err(|e| WebError::bad_request(e.body_text()))?;
    let cve = parse_cve_id(&raw)
        .ok_or_else(|| WebError::bad_request(format!("{raw:?} is not a CVE id (CVE-YYYY-N)")))?;
    let Query(q) =
        q.map_err(|e| WebError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let page = parse_page(q.page.as_deref())?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let access = user.caller.access();
    let found = state
        .vulns
        .cve_hosts(
            state.db.as_ref(),
            |site_id| access.allows(Action::Read, site_id),
            &cve,
            &triage,
        )
        .await?;
    let with_findings = found.exposed.len() + found.excepted.len();
    if with_findings == 0 {
        return Err(WebError::not_found(format!(
            "none of your hosts is exposed to {cve}"
        )));
    }
    let skip = (page as usize - 1) * HOSTS_PER_PAGE;
    if skip >= with_findings {
        return Err(WebError::not_found(format!(
            "{cve} has {with_findings} of your hosts: there is no page {page}"
        )));
    }
    let shown = page_of_hosts(&state, &user, &found, skip).await?;
    // Still scoped by the caller's sites, and only the page's hosts.
    let filter = user.caller.host_filter(HostFilter {
        host_ids: Some(shown.clone()),
        ..HostFilter::default()
    });
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let (hosts, by_cve) = fleet_findings(state.db.as_ref(), &loaded, &filter, Some(&cve)).await?;
    let scopes = host_scopes(&loaded, &hosts);
    // Rows in the kept order: exposed hosts first, as counted.
    let rank: HashMap<i64, usize> = shown.iter().enumerate().map(|(r, &id)| (id, r)).collect();
    let mut list: Vec<_> = by_cve
        .get(&cve)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .collect();
    list.sort_by_key(|hf| rank.get(&hosts[hf.host].id).copied().unwrap_or(usize::MAX));
    let (mut open, mut excepted) = (Vec::new(), Vec::new());
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
            open.push(row);
        }
    }
    let link = |p: u32| format!("/cves/{cve}?page={p}");
    Ok(render(&CvePage {
        chrome: user.chrome("cves"),
        severity,
        hosts: found.exposed.len(),
        with_findings,
        first: skip + 1,
        last: skip + shown.len(),
        open,
        excepted,
        previous: (page > 1).then(|| link(page - 1)),
        next: (skip + HOSTS_PER_PAGE < with_findings).then(|| link(page + 1)),
        cve,
    }))
}

/// The ids of the hosts shown from position `skip` on, in the hosts
/// list's order (site, hostname): the exposed hosts first, then the
/// excepted-only ones, each paged in SQL.
async fn page_of_hosts(
    state: &AppState,
    user: &WebUser,
    found: &CveHosts,
    skip: usize,
) -> Result<Vec<i64>, WebError> {
    let mut shown = Vec::with_capacity(HOSTS_PER_PAGE);
    let mut offset = skip;
    for ids in [&found.exposed, &found.excepted] {
        let wanted = HOSTS_PER_PAGE - shown.len();
        if wanted == 0 {
            break;
        }
        if offset >= ids.len() {
            offset -= ids.len();
            continue;
        }
        // Still scoped by the caller's sites.
        let page = state
            .db
            .hosts(&user.caller.host_filter(HostFilter {
                host_ids: Some(ids.clone()),
                limit: Some(wanted as u32),
                offset: offset as u32,
                ..HostFilter::default()
            }))
            .await?;
        shown.extend(page.items.iter().map(|h| h.id));
        offset = 0;
    }
    Ok(shown)
}
