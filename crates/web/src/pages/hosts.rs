//! `GET /hosts` and `GET /hosts.csv`: the hosts the user may read,
//! filtered by the URL's query (so a filtered list can be shared), paged.

use std::collections::HashSet;
use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use patchwatch_server::AppState;
use patchwatch_server::repo_updates::hosts_with_security_updates;
use patchwatch_store::{
    HostFilter, HostSort, HostSummary, SortKey, StoreError, format_millis, now_millis, parse_cve_id,
};
use patchwatch_vulndb::{TagWanted, Triage};
use serde::Deserialize;

use crate::fleet::SnapshotCache;
use crate::page::{Chrome, WebError, render};
use crate::session::WebUser;

/// Hosts per page unless asked otherwise, and the most a page shows.
pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;
/// Far beyond any fleet's last page; larger numbers are a mistake.
pub const MAX_PAGE: u32 = 100_000;
/// Rows a CSV export holds at most.
pub const MAX_CSV_ROWS: u32 = 200_000;
/// Hosts seen this long before the fleet snapshot was read are asked
/// again for the computed filters: a report received just before the read
/// began may have been committed after it.
const SNAPSHOT_MARGIN_MS: i64 = 30_000;

/// The query string. Empty fields (a submitted filter form) mean "any";
/// a field not listed here is a 400 naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostsQuery {
    site: Option<String>,
    /// A site group: its sites and those of its child groups.
    group: Option<String>,
    os: Option<String>,
    tag: Option<String>,
    /// Comma-separated hostname suffixes: `.cz,.de`.
    domain: Option<String>,
    cve: Option<String>,
    /// Hosts with an open finding of a CVE carrying this CVE tag.
    cve_tag: Option<String>,
    /// `yes`: hosts with an open finding of a CVE carrying any tag.
    tagged: Option<String>,
    /// `yes` / `no`: whether any imported feed covers the host's OS.
    covered: Option<String>,
    /// Reported within the last N days.
    seen_within_days: Option<String>,
    not_seen_days: Option<String>,
    /// `yes`: only hosts with pending security updates.
    security_updates: Option<String>,
    /// `yes` / `no`: reboot required, as the client says or the server
    /// derived from the packages.
    reboot: Option<String>,
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    order: Option<String>,
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

/// One of a few words, or nothing.
fn choice(
    name: &str,
    v: &Option<String>,
    allowed: &[&'static str],
) -> Result<&'static str, WebError> {
    let Some(text) = given(v) else {
        return Ok("");
    };
    allowed
        .iter()
        .find(|a| **a == text)
        .copied()
        .ok_or_else(|| {
            WebError::bad_request(format!(
                "{name} must be one of {}, not {text:?}",
                allowed.join(", ")
            ))
        })
}

/// The filters, checked, as the page shows them back.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub site: String,
    pub group: String,
    pub os: String,
    pub tag: String,
    pub domain: String,
    pub cve: String,
    pub cve_tag: String,
    /// `yes` or empty.
    pub tagged: &'static str,
    /// `yes`, `no` or empty.
    pub covered: &'static str,
    pub seen_within_days: String,
    pub not_seen_days: String,
    /// `yes` or empty.
    pub security_updates: &'static str,
    /// `yes`, `no` or empty.
    pub reboot: &'static str,
    pub sort: HostSort,
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
        let days = |name, v| {
            number(name, v, 0, 36_500).map(|d| d.map(|d| d.to_string()).unwrap_or_default())
        };
        let sort = match given(&q.sort) {
            Some(key) => HostSort {
                key: SortKey::parse(&key).ok_or_else(|| {
                    let known: Vec<&str> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
                    WebError::bad_request(format!(
                        "unknown sort key {key:?}; hosts sort by {}",
                        known.join(", ")
                    ))
                })?,
                descending: false,
            },
            None => HostSort::default(),
        };
        let descending = choice("order", &q.order, &["asc", "desc"])? == "desc";
        Ok(Filters {
            site: given(&q.site).unwrap_or_default(),
            group: given(&q.group).unwrap_or_default(),
            os: given(&q.os).unwrap_or_default(),
            tag: given(&q.tag).unwrap_or_default(),
            domain: given(&q.domain).unwrap_or_default(),
            cve,
            cve_tag: given(&q.cve_tag).unwrap_or_default(),
            tagged: choice("tagged", &q.tagged, &["yes"])?,
            covered: choice("covered", &q.covered, &["yes", "no"])?,
            seen_within_days: days("seen_within_days", &q.seen_within_days)?,
            not_seen_days: days("not_seen_days", &q.not_seen_days)?,
            security_updates: choice("security_updates", &q.security_updates, &["yes"])?,
            reboot: choice("reboot", &q.reboot, &["yes", "no"])?,
            sort: HostSort { descending, ..sort },
            page: number("page", &q.page, 1, MAX_PAGE)?.unwrap_or(1),
            per_page: number("per_page", &q.per_page, 1, MAX_PER_PAGE)?.unwrap_or(DEFAULT_PER_PAGE),
        })
    }

    fn host_filter(&self) -> HostFilter {
        let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
        let days_ago = |d: &String| d.parse::<i64>().ok().map(|d| now_millis() - d * 86_400_000);
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
            last_seen_before: days_ago(&self.not_seen_days),
            seen_since: days_ago(&self.seen_within_days),
            reboot_required: match self.reboot {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            sort: self.sort,
            ..HostFilter::default()
        }
    }

    /// The query string for page `page` with these filters, sorted by
    /// `sort`.
    pub fn query_sorted(&self, page: u32, sort: HostSort) -> String {
        let mut pairs = Vec::new();
        for (k, v) in [
            ("site", self.site.as_str()),
            ("group", &self.group),
            ("os", &self.os),
            ("tag", &self.tag),
            ("domain", &self.domain),
            ("cve", &self.cve),
            ("cve_tag", &self.cve_tag),
            ("tagged", self.tagged),
            ("covered", self.covered),
            ("seen_within_days", &self.seen_within_days),
            ("not_seen_days", &self.not_seen_days),
            ("security_updates", self.security_updates),
            ("reboot", self.reboot),
        ] {
            if !v.is_empty() {
                pairs.push(format!("{k}={}", encode(v)));
            }
        }
        if sort.key != SortKey::default() {
            pairs.push(format!("sort={}", sort.key.as_str()));
        }
        if sort.descending {
            pairs.push("order=desc".to_owned());
        }
        if self.per_page != DEFAULT_PER_PAGE {
            pairs.push(format!("per_page={}", self.per_page));
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        pairs.join("&")
    }

    /// The query string for page `page` with these filters and this order.
    pub fn query(&self, page: u32) -> String {
        self.query_sorted(page, self.sort)
    }

    /// Whether a filter needs more than SQL: the findings or the updates.
    fn computed(&self) -> bool {
        !self.cve.is_empty()
            || !self.cve_tag.is_empty()
            || !self.tagged.is_empty()
            || !self.covered.is_empty()
            || !self.security_updates.is_empty()
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

/// The sites of group `name` and of its child groups, or a 404 naming it.
async fn group_sites(state: &AppState, name: &str) -> Result<Vec<i64>, WebError> {
    let groups = state.db.site_groups().await?;
    let group = groups
        .iter()
        .find(|g| g.name == name)
        .ok_or_else(|| WebError::from(StoreError::NotFound(format!("site group {name:?}"))))?;
    Ok(groups
        .iter()
        .filter(|g| g.id == group.id || g.parent_id == Some(group.id))
        .flat_map(|g| g.site_ids.iter().copied())
        .collect())
}

/// The filtered hosts in scope, one page of them (or all, for `None`),
/// and how many there are. Every filter and the order are applied in SQL;
/// the CVE, CVE tag, security update and coverage filters first select
/// host ids (from the kept fleet assessment, and the fleet snapshot with
/// the hosts that reported since), which the query then sorts and pages.
async fn filtered(
    state: &AppState,
    cache: &Arc<SnapshotCache>,
    user: &WebUser,
    f: &Filters,
    window: Option<(u32, u32)>,
) -> Result<(Vec<HostSummary>, u64), WebError> {
    user.caller.reader()?;
    let mut filter = user.caller.host_filter(f.host_filter());
    if !f.group.is_empty() {
        // Narrows the caller's scope, never widens it.
        let in_group = group_sites(state, &f.group).await?;
        filter.site_ids = Some(match filter.site_ids.take() {
            Some(scope) => scope.into_iter().filter(|s| in_group.contains(s)).collect(),
            None => in_group,
        });
    }
    if f.computed() {
        filter.host_ids = Some(selected_hosts(state, cache, f, &filter).await?);
    }
    match window {
        Some((limit, offset)) => {
            filter.limit = Some(limit);
            filter.offset = offset;
        }
        None => filter.limit = Some(MAX_CSV_ROWS),
    }
    let page = state.db.hosts(&filter).await?;
    Ok((page.items, page.total))
}

/// The ids of the hosts in `filter` the computed filters keep.
async fn selected_hosts(
    state: &AppState,
    cache: &Arc<SnapshotCache>,
    f: &Filters,
    filter: &HostFilter,
) -> Result<Vec<i64>, WebError> {
    let scope = filter.site_ids.clone();
    let in_scope = |site_id: i64| scope.as_ref().is_none_or(|s| s.contains(&site_id));
    // Ascending. Each computed filter narrows what the previous ones kept.
    let mut ids: Option<Vec<i64>> = None;
    let mut narrow = |mut found: Vec<i64>| {
        found.sort_unstable();
        found.dedup();
        ids = Some(match ids.take() {
            Some(kept) => found
                .into_iter()
                .filter(|i| kept.binary_search(i).is_ok())
                .collect(),
            None => found,
        });
    };
    let tag = if !f.cve_tag.is_empty() {
        Some(TagWanted::Named(&f.cve_tag))
    } else if !f.tagged.is_empty() {
        Some(TagWanted::Any)
    } else {
        None
    };
    if !f.cve.is_empty() || tag.is_some() {
        let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
        let cve = (!f.cve.is_empty()).then_some(f.cve.as_str());
        narrow(
            state
                .vulns
                .hosts_exposed(state.db.as_ref(), in_scope, cve, tag, &triage)
                .await?
                .to_vec(),
        );
    }
    if !f.security_updates.is_empty() || !f.covered.is_empty() {
        // The shared fleet snapshot, and the hosts that reported since it
        // was read, as they are now. Hosts out of the filter's scope are
        // left out by the query that pages the ids.
        let snapshot = cache.get(state).await?;
        let wants_updates = !f.security_updates.is_empty();
        if wants_updates && snapshot.security_updates.is_none() {
            // No repository snapshot (the snapshot was read with the
            // current catalogue): no host has a known update.
            return Ok(Vec::new());
        }
        // A report may change a host's repositories, and so its updates,
        // without changing its keys; coverage follows the OS, a key: it
        // needs the recent hosts only when some host's keys moved.
        let keys_moved = state.db.host_keys_version().await? != snapshot.hosts_version;
        let recent = if wants_updates || keys_moved {
            state
                .db
                .hosts(&HostFilter {
                    site_ids: filter.site_ids.clone(),
                    seen_since: Some(snapshot.read_from - SNAPSHOT_MARGIN_MS),
                    ..HostFilter::default()
                })
                .await?
                .items
        } else {
            Vec::new()
        };
        let recent_ids: HashSet<i64> = recent.iter().map(|h| h.id).collect();
        let mut considered: Vec<&HostSummary> = snapshot
            .hosts
            .iter()
            .filter(|h| !recent_ids.contains(&h.id))
            .collect();
        let settled = considered.len();
        considered.extend(&recent);
        if wants_updates {
            let by_host = snapshot.security_updates.as_ref();
            let mut found: Vec<i64> = by_host.map_or_else(Vec::new, |by_host| {
                considered[..settled]
                    .iter()
                    .filter(|h| by_host.get(&h.id).is_some_and(|&n| n > 0))
                    .map(|h| h.id)
                    .collect()
            });
            if by_host.is_some() && !recent.is_empty() {
                let recent_only = HostFilter {
                    host_ids: Some(recent_ids.iter().copied().collect()),
                    ..HostFilter::default()
                };
                found.extend(hosts_with_security_updates(state, &recent_only).await?);
            }
            narrow(found);
        }
        if !f.covered.is_empty() {
            let coverage = cache.coverage(state, &considered).await?;
            let wanted = f.covered == "yes";
            narrow(
                considered
                    .iter()
                    .filter(|h| coverage.get(&h.os).copied().unwrap_or(false) == wanted)
                    .map(|h| h.id)
                    .collect(),
            );
        }
    }
    Ok(ids.unwrap_or_default())
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
    /// The client says so or the server derived it.
    pub reboot_required: bool,
    /// Not required as far as known, but the server has not derived it
    /// yet (a host stored before it did, until its background pass).
    pub reboot_unknown: bool,
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
            reboot_required: h.must_reboot(),
            reboot_unknown: !h.must_reboot() && h.reboot_required_derived.is_none(),
        }
    }
}

/// A sortable column's header: its link and its `aria-sort`.
pub struct SortHeader {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending`, or empty when the list isn't sorted by it.
    pub aria_sort: &'static str,
}

fn sort_headers(f: &Filters) -> Vec<SortHeader> {
    [
        (SortKey::Hostname, "Host"),
        (SortKey::Site, "Site"),
        (SortKey::Os, "OS"),
        (SortKey::Packages, "Packages"),
        (SortKey::LastSeen, "Last report"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let current = f.sort.key == key;
        // A second click on the current column reverses it.
        let descending = current && !f.sort.descending;
        SortHeader {
            label,
            href: format!("/hosts?{}", f.query_sorted(1, HostSort { key, descending })),
            aria_sort: match (current, f.sort.descending) {
                (false, _) => "",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
        }
    })
    .collect()
}

#[derive(Template)]
#[template(path = "hosts.html")]
struct HostsPage {
    chrome: Chrome,
    filters: Filters,
    headers: Vec<SortHeader>,
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
    Extension(cache): Extension<Arc<SnapshotCache>>,
    user: WebUser,
    q: Result<Query<HostsQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let f = Filters::parse(&query(q)?)?;
    let offset = (f.page - 1).saturating_mul(f.per_page);
    let (hosts, total) = filtered(&state, &cache, &user, &f, Some((f.per_page, offset))).await?;
    let first = if hosts.is_empty() {
        0
    } else {
        u64::from(offset) + 1
    };
    let last = u64::from(offset) + hosts.len() as u64;
    let link = |page: u32| format!("/hosts?{}", f.query(page));
    Ok(render(&HostsPage {
        chrome: user.chrome("hosts"),
        headers: sort_headers(&f),
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
    Extension(cache): Extension<Arc<SnapshotCache>>,
    user: WebUser,
    q: Result<Query<HostsQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let f = Filters::parse(&query(q)?)?;
    let (hosts, _) = filtered(&state, &cache, &user, &f, None).await?;
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

    #[test]
    fn sort_keys_are_checked_and_kept_in_links() {
        let q = HostsQuery {
            sort: Some("id; drop".into()),
            ..HostsQuery::default()
        };
        let Err(WebError::Page { message, .. }) = Filters::parse(&q) else {
            panic!("accepted");
        };
        assert!(
            message.contains("unknown sort key \"id; drop\""),
            "{message}"
        );
        assert!(message.contains("hostname, site, os, last_seen, packages"));
        let q = HostsQuery {
            sort: Some("last_seen".into()),
            order: Some("desc".into()),
            reboot: Some("yes".into()),
            ..HostsQuery::default()
        };
        let f = Filters::parse(&q).unwrap();
        assert_eq!(f.query(3), "reboot=yes&sort=last_seen&order=desc&page=3");
        let headers = sort_headers(&f);
        let last = headers.iter().find(|h| h.label == "Last report").unwrap();
        assert_eq!(last.aria_sort, "descending");
        // Clicking the current column again sorts it the other way.
        assert_eq!(last.href, "/hosts?reboot=yes&sort=last_seen");
        assert!(headers.iter().filter(|h| h.aria_sort.is_empty()).count() == 4);
        let q = HostsQuery {
            order: Some("sideways".into()),
            ..HostsQuery::default()
        };
        assert!(Filters::parse(&q).is_err());
    }
}
