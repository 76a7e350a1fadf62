//! `GET /hosts` and `GET /hosts.csv`: the hosts the user may read,
//! filtered by the URL's query (so a filtered list can be shared), paged.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use patchwatch_server::AppState;
use patchwatch_store::{HostFilter, HostSummary, format_millis, now_millis, parse_cve_id};
use patchwatch_vulndb::{Triage, fleet_findings, host_scopes};
use serde::Deserialize;

use crate::page::{Chrome, WebError, render};
use crate::session::WebUser;

/// Hosts per page unless asked otherwise, and the most a page shows.
pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;
/// Far beyond any fleet's last page; larger numbers are a mistake.
pub const MAX_PAGE: u32 = 100_000;
/// Rows a CSV export holds at most.
pub const MAX_CSV_ROWS: u32 = 200_000;

/// The query string. Empty fields (a submitted filter form) mean "any";
/// a field not listed here is a 400 naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostsQuery {
    site: Option<String>,
    os: Option<String>,
    tag: Option<String>,
    /// Comma-separated hostname suffixes: `.cz,.de`.
    domain: Option<String>,
    cve: Option<String>,
    not_seen_days: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn number(name: &str, v: &Option<String>, min: u32, max: u32) -> Result<Option<u32>, WebError> {
    let Some(text) = given(v) else {
        return Ok(None);
    };
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(WebError::bad_request(format!(
            "{name} must be a whole number from {min} to {max}, not {text:?}"
        ))),
    }
}

/// The filters, checked, as the page shows them back.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub site: String,
    pub os: String,
    pub tag: String,
    pub domain: String,
    pub cve: String,
    pub not_seen_days: String,
    pub page: u32,
    pub per_page: u32,
}

impl Filters {
    fn parse(q: &HostsQuery) -> Result<Filters, WebError> {
        let cve = match given(&q.cve) {
            Some(c) => parse_cve_id(&c).ok_or_else(|| {
                WebError::bad_request(format!("{c:?} is not a CVE id (CVE-YYYY-N)"))
            })?,
            None => String::new(),
        };
        Ok(Filters {
            site: given(&q.site).unwrap_or_default(),
            os: given(&q.os).unwrap_or_default(),
            tag: given(&q.tag).unwrap_or_default(),
            domain: given(&q.domain).unwrap_or_default(),
            cve,
            not_seen_days: number("not_seen_days", &q.not_seen_days, 0, 36_500)?
                .map(|d| d.to_string())
                .unwrap_or_default(),
            page: number("page", &q.page, 1, MAX_PAGE)?.unwrap_or(1),
            per_page: number("per_page", &q.per_page, 1, MAX_PER_PAGE)?.unwrap_or(DEFAULT_PER_PAGE),
        })
    }

    fn host_filter(&self) -> HostFilter {
        let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
        HostFilter {
            site: opt(&self.site),
            os: opt(&self.os),
            tag: opt(&self.tag),
            domains: self
                .domain
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
            last_seen_before: self
                .not_seen_days
                .parse::<i64>()
                .ok()
                .map(|d| now_millis() - d * 86_400_000),
            ..HostFilter::default()
        }
    }

    /// The query string for page `page` with these filters.
    pub fn query(&self, page: u32) -> String {
        let mut pairs = Vec::new();
        for (k, v) in [
            ("site", &self.site),
            ("os", &self.os),
            ("tag", &self.tag),
            ("domain", &self.domain),
            ("cve", &self.cve),
            ("not_seen_days", &self.not_seen_days),
        ] {
            if !v.is_empty() {
                pairs.push(format!("{k}={}", encode(v)));
            }
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(format!("per_page={}", self.per_page));
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        pairs.join("&")
    }
}

/// Percent-encodes a query value (askama escapes the result for HTML).
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The filtered hosts in scope, one page of them (or all, for `None`),
/// and how many there are.
async fn filtered(
    state: &AppState,
    user: &WebUser,
    f: &Filters,
    window: Option<(u32, u32)>,
) -> Result<(Vec<HostSummary>, u64), WebError> {
    user.caller.reader()?;
    let mut filter = user.caller.host_filter(f.host_filter());
    if f.cve.is_empty() {
        match window {
            Some((limit, offset)) => {
                filter.limit = Some(limit);
                filter.offset = offset;
            }
            None => filter.limit = Some(MAX_CSV_ROWS),
        }
        let page = state.db.hosts(&filter).await?;
        return Ok((page.items, page.total));
    }
    // Hosts exposed to one CVE, excepted findings left out: from the
    // findings of that CVE over the hosts in scope.
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let (hosts, by_cve) = fleet_findings(state.db.as_ref(), &loaded, &filter, Some(&f.cve)).await?;
    let scopes = host_scopes(&loaded, &hosts);
    let exposed: BTreeSet<usize> = by_cve
        .get(&f.cve)
        .into_iter()
        .flatten()
        .filter(|hf| {
            triage
                .classify_one(&scopes[hf.host], &hf.finding)
                .exception
                .is_none()
        })
        .map(|hf| hf.host)
        .collect();
    let mut list: Vec<HostSummary> = exposed.into_iter().map(|i| hosts[i].clone()).collect();
    list.sort_by(|a, b| (&a.hostname, a.id).cmp(&(&b.hostname, b.id)));
    let total = list.len() as u64;
    let list = match window {
        Some((limit, offset)) => list
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect(),
        None => list,
    };
    Ok((list, total))
}

/// A host row as the page shows it.
pub struct HostRow {
    pub id: i64,
    pub hostname: String,
    pub site: String,
    pub os: String,
    pub kernel: String,
    pub packages: i64,
    pub last_seen: String,
    pub reboot_required: bool,
}

impl From<&HostSummary> for HostRow {
    fn from(h: &HostSummary) -> HostRow {
        HostRow {
            id: h.id,
            hostname: h.hostname.clone(),
            site: h.site.clone(),
            os: h.os.to_string(),
            kernel: h.kernel.clone(),
            packages: h.packages,
            last_seen: format_millis(h.last_seen),
            reboot_required: h.reboot_required == Some(true),
        }
    }
}

#[derive(Template)]
#[template(path = "hosts.html")]
struct HostsPage {
    chrome: Chrome,
    filters: Filters,
    rows: Vec<HostRow>,
    total: u64,
    first: u64,
    last: u64,
    previous: Option<String>,
    next: Option<String>,
    csv: String,
}

fn query(q: Result<Query<HostsQuery>, QueryRejection>) -> Result<HostsQuery, WebError> {
    q.map(|Query(q)| q)
        .map_err(|e| WebError::bad_request(format!("invalid filter: {}", e.body_text())))
}

/// `GET /hosts`
pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    q: Result<Query<HostsQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let f = Filters::parse(&query(q)?)?;
    let offset = (f.page - 1).saturating_mul(f.per_page);
    let (hosts, total) = filtered(&state, &user, &f, Some((f.per_page, offset))).await?;
    let first = if hosts.is_empty() {
        0
    } else {
        u64::from(offset) + 1
    };
    let last = u64::from(offset) + hosts.len() as u64;
    let link = |page: u32| format!("/hosts?{}", f.query(page));
    Ok(render(&HostsPage {
        chrome: user.chrome("hosts"),
        rows: hosts.iter().map(HostRow::from).collect(),
        total,
        first,
        last,
        previous: (f.page > 1).then(|| link(f.page - 1)),
        next: (last < total).then(|| link(f.page + 1)),
        csv: format!("/hosts.csv?{}", f.query(1)),
        filters: f,
    }))
}

/// `GET /hosts.csv`: every host of the filtered list (no paging).
pub async fn csv(
    State(state): State<AppState>,
    user: WebUser,
    q: Result<Query<HostsQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let f = Filters::parse(&query(q)?)?;
    let (hosts, _) = filtered(&state, &user, &f, None).await?;
    let mut out = String::from("id,hostname,site,os,kernel,packages,last_seen,reboot_required\n");
    for h in &hosts {
        let row = HostRow::from(h);
        let cells = [
            row.id.to_string(),
            row.hostname,
            row.site,
            row.os,
            row.kernel,
            row.packages.to_string(),
            row.last_seen,
            row.reboot_required.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"hosts.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// A CSV cell, quoted when needed; a reported value that a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`) is prefixed with `'`.
pub fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("web1"), "web1");
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
    }

    #[test]
    fn bad_numbers_and_cves_name_the_problem() {
        let q = HostsQuery {
            page: Some("99999999999".into()),
            ..HostsQuery::default()
        };
        let Err(WebError::Page { message, .. }) = Filters::parse(&q) else {
            panic!("accepted");
        };
        assert!(message.contains("page must be"), "{message}");
        let q = HostsQuery {
            cve: Some("<script>".into()),
            ..HostsQuery::default()
        };
        assert!(Filters::parse(&q).is_err());
        let q = HostsQuery {
            site: Some("a b&c".into()),
            page: Some("".into()),
            ..HostsQuery::default()
        };
        let f = Filters::parse(&q).unwrap();
        assert_eq!(f.page, 1);
        assert_eq!(f.query(2), "site=a%20b%26c&page=2");
    }
}
