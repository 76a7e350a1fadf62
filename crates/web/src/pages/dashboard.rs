//! `GET /?days=30|90`: the fleet at a glance, in the user's scope: hosts
//! by state (each count a link to the hosts it counts), the most
//! widespread CVEs, feeds' and repositories' health, and the trends of
//! exposed hosts and open tagged CVEs per day as SVG charts with their
//! data beside them.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use patchwatch_server::AppState;
use patchwatch_store::now_millis;
use patchwatch_vulndb::Triage;
use serde::Deserialize;

use crate::chart::{LineChart, Series};
use crate::fleet::{HostStates, SnapshotCache, TrendDay, host_states, reads, trends};
use crate::page::{Chrome, WebError, render};
use crate::pages::feeds::{FeedRow, RepoRow};
use crate::session::WebUser;

/// The trend lengths offered.
pub const TREND_DAYS: [u32; 2] = [30, 90];
/// CVEs in the "most widespread" table.
const TOP_CVES: usize = 10;

/// Where each state's count links: the hosts list, filtered.
pub mod links {
    pub const VULNERABLE_TAGGED: &str = "/hosts?tagged=yes";
    pub const SECURITY_UPDATES: &str = "/hosts?security_updates=yes";
    pub const REBOOT_REQUIRED: &str = "/hosts?reboot=yes";
    pub const NOT_COVERED: &str = "/hosts?covered=no";
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    days: Option<String>,
}

/// A host state's line on the page.
pub struct StateRow {
    pub label: String,
    /// `None`: unknown (shown with `note`).
    pub count: Option<usize>,
    pub link: String,
    pub note: String,
}

/// The state rows for `states`; `site` narrows every link to one site.
pub fn state_rows(states: &HostStates, site: Option<&str>) -> Vec<StateRow> {
    let narrow = |link: &str| match site {
        Some(s) => format!(
            "{link}{}site={}",
            if link.contains('?') { '&' } else { '?' },
            crate::pages::hosts::encode(s)
        ),
        None => link.to_owned(),
    };
    vec![
        StateRow {
            label: "All hosts".into(),
            count: Some(states.total),
            link: narrow("/hosts"),
            note: String::new(),
        },
        StateRow {
            label: "Vulnerable to a tagged CVE".into(),
            count: Some(states.vulnerable_tagged),
            link: narrow(links::VULNERABLE_TAGGED),
            note: format!("{} exposed to any CVE", states.vulnerable),
        },
        StateRow {
            label: "Security updates pending".into(),
            count: states.security_updates,
            link: narrow(links::SECURITY_UPDATES),
            note: if states.security_updates.is_none() {
                "unknown: no repository snapshot imported".into()
            } else {
                String::new()
            },
        },
        StateRow {
            label: "Reboot required".into(),
            count: Some(states.reboot_required),
            link: narrow(links::REBOOT_REQUIRED),
            note: "as the host's client reports it".into(),
        },
        StateRow {
            label: format!("Stale (no report for {} days)", states.stale_days),
            count: Some(states.stale),
            link: narrow(&format!("/hosts?not_seen_days={}", states.stale_days)),
            note: String::new(),
        },
        StateRow {
            label: "Not covered by any feed".into(),
            count: Some(states.not_covered),
            link: narrow(links::NOT_COVERED),
            note: "no finding means \"unknown\" on these".into(),
        },
    ]
}

pub struct TopCve {
    pub cve: String,
    pub severity: String,
    pub hosts: usize,
    pub tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    states: Vec<StateRow>,
    top: Vec<TopCve>,
    feeds: Vec<FeedRow>,
    repos: Vec<RepoRow>,
    days: u32,
    other_days: Vec<u32>,
    trend: Vec<TrendDay>,
    exposed_chart: String,
    tagged_chart: String,
}

/// The two trend charts of `trend`.
pub fn trend_charts(trend: &[TrendDay]) -> (String, String) {
    let labels: Vec<String> = trend.iter().map(|d| d.day.clone()).collect();
    let span = match (trend.first(), trend.last()) {
        (Some(a), Some(b)) => format!("from {} to {}", a.day, b.day),
        _ => String::new(),
    };
    let exposed = LineChart {
        id: "exposed".into(),
        title: "Exposed hosts per day".into(),
        desc: format!(
            "Hosts reporting and hosts exposed to a CVE, per day {span}; the table below has the numbers."
        ),
        labels: labels.clone(),
        series: vec![
            Series {
                name: "hosts reporting".into(),
                values: trend.iter().map(|d| d.hosts as u64).collect(),
            },
            Series {
                name: "exposed hosts".into(),
                values: trend.iter().map(|d| d.exposed_hosts as u64).collect(),
            },
        ],
    };
    let tagged = LineChart {
        id: "tagged".into(),
        title: "Open tagged CVEs per day".into(),
        desc: format!(
            "Distinct tagged CVEs some host was exposed to, per day {span}; the table below has the numbers."
        ),
        labels,
        series: vec![Series {
            name: "open tagged CVEs".into(),
            values: trend.iter().map(|d| d.open_tagged_cves as u64).collect(),
        }],
    };
    (exposed.svg(), tagged.svg())
}

fn severity_text<T: serde::Serialize>(s: &T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The `days` parameter: one of [`TREND_DAYS`].
pub fn parse_days(days: Option<&str>) -> Result<u32, WebError> {
    match days.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(TREND_DAYS[0]),
        Some(d) => d
            .parse::<u32>()
            .ok()
            .filter(|n| TREND_DAYS.contains(n))
            .ok_or_else(|| WebError::bad_request(format!("days must be 30 or 90, not {d:?}"))),
    }
}

/// `GET /`
pub async fn show(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<SnapshotCache>>,
    user: WebUser,
    q: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Query(q) =
        q.map_err(|e| WebError::bad_request(format!("invalid parameter: {}", e.body_text())))?;
    let days = parse_days(q.days.as_deref())?;
    let snapshot = cache.get(&state).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    // One look-up of the snapshot's keys serves the counts and the trend.
    let exposure = cache.exposure(&state, &snapshot, &triage).await?;
    let states = host_states(&state, &snapshot, &exposure, reads(&user.caller)).await?;
    let trend = trends(&snapshot, &exposure, reads(&user.caller), days);
    let top = states
        .cves
        .iter()
        .take(TOP_CVES)
        .map(|c| TopCve {
            severity: severity_text(&c.severity),
            cve: c.cve.clone(),
            hosts: c.hosts,
            tags: triage.tags_for(&c.cve, c.severity),
        })
        .collect();
    let now = now_millis();
    let feeds = state
        .db
        .feeds()
        .await?
        .iter()
        .map(|f| FeedRow::new(f, now))
        .collect();
    let repos = state
        .db
        .repositories()
        .await?
        .iter()
        .map(|r| RepoRow::new(r, now))
        .collect();
    let (exposed_chart, tagged_chart) = trend_charts(&trend);
    Ok(render(&DashboardPage {
        chrome: user.chrome("dashboard"),
        states: state_rows(&states, None),
        top,
        feeds,
        repos,
        days,
        other_days: TREND_DAYS.into_iter().filter(|&d| d != days).collect(),
        trend: trend.as_ref().clone(),
        exposed_chart,
        tagged_chart,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_30_or_90() {
        assert_eq!(parse_days(None).unwrap(), 30);
        assert_eq!(parse_days(Some("")).unwrap(), 30);
        assert_eq!(parse_days(Some("90")).unwrap(), 90);
        for bad in ["7", "x", "-1", "99999999999"] {
            assert!(parse_days(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_narrow_to_a_site() {
        let rows = state_rows(&HostStates::default(), Some("a b&c"));
        assert_eq!(rows[0].link, "/hosts?site=a%20b%26c");
        assert_eq!(rows[4].link, "/hosts?not_seen_days=0&site=a%20b%26c");
    }
}
