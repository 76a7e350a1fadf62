//! `GET /hosts/{id}`: one host: its header, its vulnerabilities with
//! their explanations (tagged first, excepted apart, each with a form to
//! except it where the user may triage), its pending updates (security
//! first, with the CVEs each closes), its packages and its reports.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use patchwatch_assess::Finding;
use patchwatch_auth::Action;
use patchwatch_reports::Package;
use patchwatch_server::AppState;
use patchwatch_store::{
    HostDetail, HostSummary, PackageChange, PackageView, format_millis, host_history, now_millis,
};
use patchwatch_updates::{HostUpdate, closes, ignored_preferences, kernel_status};
use patchwatch_vulndb::{HostScope, Triage, covered, host_findings};

use crate::page::{Chrome, WebError, render};
use crate::session::WebUser;

/// Reports the page lists.
const HISTORY: u32 = 20;

pub struct FindingRow {
    pub cve: String,
    pub severity: String,
    pub package: String,
    pub installed: String,
    pub fixed: String,
    pub state: String,
    pub explanation: String,
    pub tags: Vec<String>,
    /// "reason (by author, until date)" for an excepted finding.
    pub excepted: Option<String>,
}

pub struct UpdateRow {
    pub name: String,
    pub arch: String,
    pub installed: String,
    pub candidate: String,
    pub repository: String,
    pub security: bool,
    pub cves: Vec<String>,
}

pub struct HistoryRow {
    pub received: String,
    pub protocol: String,
    /// `None` for the oldest report shown (nothing to compare with).
    pub changes: Option<Vec<String>>,
}

#[derive(Template)]
#[template(path = "host.html")]
struct HostPage {
    chrome: Chrome,
    id: i64,
    hostname: String,
    site: String,
    os: String,
    os_string: String,
    kernel: String,
    arch: String,
    last_report: String,
    /// Why the host must reboot (see [`reboot_reason`]); `None`: it need
    /// not.
    reboot: Option<String>,
    /// Its apt preferences files that do not parse, each with the reason.
    ignored_preferences: Vec<String>,
    covered: bool,
    may_triage: bool,
    open: Vec<FindingRow>,
    excepted: Vec<FindingRow>,
    /// Names of the repositories the updates come from; empty when none
    /// applies (then "no updates" means "unknown").
    repositories: Vec<String>,
    updates: Vec<UpdateRow>,
    packages: Vec<PackageView>,
    history: Vec<HistoryRow>,
}

/// Why the host must reboot: "reported by the client", and/or "derived:
/// running R, newest installed N" (derived here from the packages as the
/// server does at ingest); `None` when neither says so.
fn reboot_reason(s: &HostSummary, packages: &[Package]) -> Option<String> {
    let status = kernel_status(
        packages,
        &s.kernel,
        &s.arch,
        std::iter::empty(),
        s.reboot_required,
    );
    let derived = status.reboot_required_derived.then(|| {
        let newest = status
            .newest_installed
            .as_ref()
            .map(|k| format!("{} {}", k.name, k.version))
            .unwrap_or_default();
        format!(
            "derived: running {}, newest installed {newest}",
            status.running
        )
    });
    match (s.reboot_required == Some(true), derived) {
        (true, Some(derived)) => Some(format!("reported by the client; {derived}")),
        (true, None) => Some("reported by the client".to_owned()),
        (false, derived) => derived,
    }
}

fn change_text(c: &PackageChange) -> String {
    match c {
        PackageChange::Added {
            name,
            arch,
            version,
        } => format!("added {name} {version} ({arch})"),
        PackageChange::Removed {
            name,
            arch,
            version,
        } => format!("removed {name} {version} ({arch})"),
        PackageChange::Changed {
            name,
            arch,
            from,
            to,
        } => format!("{name} {from} -> {to} ({arch})"),
    }
}

/// `GET /hosts/{id}`: an out-of-scope host is "not found", word for word
/// as a missing one.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, WebError> {
    let Path(id) = id.map_err(|_| WebError::bad_request("a host id is a whole number"))?;
    let host = user.caller.host(&state, id).await?;
    let s = &host.summary;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let packages = state.db.package_set(s.package_set_id).await?;
    let findings = host_findings(&loaded, s, &packages);
    let scope = HostScope::new(&s.site, loaded.index.os_groups(), &s.os);
    let (mut open, mut excepted) = (Vec::new(), Vec::new());
    for f in &findings {
        let c = triage.classify_one(&scope, f);
        let row = FindingRow {
            cve: f.cve().to_owned(),
            severity: serde_json::to_value(f.severity())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            package: f.package().to_owned(),
            installed: f.installed().to_owned(),
            fixed: f.fixed().unwrap_or("not fixed yet").to_owned(),
            state: f.state().as_str().to_owned(),
            explanation: f.explanation(),
            tags: c.tags.clone(),
            excepted: c.exception.as_ref().map(|e| {
                format!(
                    "{} (by {}{})",
                    e.reason,
                    e.author,
                    e.expires_at
                        .map(|t| format!(", until {}", format_millis(t)))
                        .unwrap_or_default()
                )
            }),
        };
        if row.excepted.is_some() {
            excepted.push(row);
        } else {
            open.push(row);
        }
    }
    let (repositories, updates) = pending_updates(&state, &host, &findings).await?;
    // Tagged first; the findings' own order (most severe first) otherwise.
    open.sort_by_key(|r| r.tags.is_empty());
    let history = host_history(state.db.as_ref(), id, HISTORY, 0)
        .await?
        .into_iter()
        .map(|e| HistoryRow {
            received: format_millis(e.report.received_at),
            protocol: e.report.protocol.clone(),
            changes: e
                .changes
                .map(|d| d.changes.iter().map(change_text).collect()),
        })
        .collect();
    Ok(render(&HostPage {
        chrome: user.chrome("hosts"),
        id,
        hostname: s.hostname.clone(),
        site: s.site.clone(),
        os: s.os.to_string(),
        os_string: if host.os_string.is_empty() {
            host.os_release.pretty_name.clone()
        } else {
            host.os_string.clone()
        },
        kernel: s.kernel.clone(),
        arch: s.arch.clone(),
        last_report: format_millis(s.last_seen),
        reboot: reboot_reason(s, &packages),
        ignored_preferences: ignored_preferences(&host.apt_preferences),
        covered: covered(&loaded, s, &packages),
        may_triage: user.caller.access().allows(Action::Triage, s.site_id),
        open,
        excepted,
        repositories,
        updates,
        packages: packages.iter().map(PackageView::from).collect(),
        history,
    }))
}

/// What the host's package manager would install from its repositories,
/// as `GET /api/v1/hosts/{id}/updates` computes it: security first, each
/// with the CVEs (of `findings`) it closes.
async fn pending_updates(
    state: &AppState,
    host: &HostDetail,
    findings: &[Finding],
) -> Result<(Vec<String>, Vec<UpdateRow>), WebError> {
    let (catalogue, repos, kept) = state.repos.host(state.db.as_ref(), host).await?;
    if repos.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut updates: Vec<HostUpdate> = kept.as_ref().clone();
    closes::annotate(&mut updates, findings);
    updates.sort_by(|a, b| (!a.security, &a.name, &a.arch).cmp(&(!b.security, &b.name, &b.arch)));
    let names = repos
        .iter()
        .map(|&i| catalogue.repositories()[i].name.clone())
        .collect();
    let rows = updates
        .into_iter()
        .map(|u| UpdateRow {
            name: u.name,
            arch: u.arch,
            installed: u.installed,
            candidate: u.candidate,
            repository: u.repository,
            security: u.security,
            cves: u.cves,
        })
        .collect();
    Ok((names, rows))
}
