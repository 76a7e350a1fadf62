//! `patchwatch hosts vulns HOST`, `patchwatch cves list|show`: findings
//! from the current feed generations, assessed on demand.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{Finding, FindingState, KernelStatus};
use patchwatch_store::{Database, HostFilter};
use serde_json::Value;

use super::Context;
use super::hosts::resolve;
use crate::cli::{CvesCommand, HostVulnsArgs, SeverityArg, StateArg};
use crate::output::{Format, Table, count, escape, print_json};
use patchwatch_vulndb::{
    Classified, CveSummary, FleetAssessment, FleetHosts, HostFinding, HostScope, LoadedIndex,
    Triage, covered, host_findings, host_scopes, load_index, parse_cve_id, triaged_json,
};

fn level(s: SeverityArg) -> SeverityLevel {
    match s {
        SeverityArg::Unknown => SeverityLevel::Unknown,
        SeverityArg::Negligible => SeverityLevel::Negligible,
        SeverityArg::Low => SeverityLevel::Low,
        SeverityArg::Medium => SeverityLevel::Medium,
        SeverityArg::High => SeverityLevel::High,
        SeverityArg::Critical => SeverityLevel::Critical,
    }
}

fn state(s: StateArg) -> FindingState {
    match s {
        StateArg::FixAvailable => FindingState::FixAvailable,
        StateArg::AffectedNoFix => FindingState::Affected,
        StateArg::NoAdvisory => FindingState::NoAdvisory,
        StateArg::Deferred => FindingState::Deferred,
        StateArg::WillNotFix => FindingState::WillNotFix,
        StateArg::UnderInvestigation => FindingState::UnderInvestigation,
        StateArg::EndOfLife => FindingState::EndOfLife,
    }
}

fn severity_text(level: SeverityLevel) -> String {
    serde_json::to_value(level)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The STATE column: the fix state, and for kernels that are installed but
/// not running, that they are not exposed.
fn state_text(f: &Finding) -> String {
    match f.kernel() {
        Some(KernelStatus::InstalledNotRunning) => format!("{} (not running)", f.state()),
        _ => f.state().to_string(),
    }
}

/// The index over the current feed generations, with the configured OS
/// groups (`[[server.os_group]]`), as the server builds it.
async fn index(ctx: &Context, db: &Arc<dyn Database>) -> anyhow::Result<LoadedIndex> {
    let groups = ctx.config.server.os_groups().context("[server] os_group")?;
    let mut loaded = load_index(db.as_ref()).await?;
    loaded.index.set_os_groups(groups);
    if loaded.feeds == 0 {
        bail!("no feed has been imported; see `patchwatch feeds import`");
    }
    Ok(loaded)
}

pub async fn host(
    ctx: &Context,
    db: &Arc<dyn Database>,
    args: HostVulnsArgs,
) -> anyhow::Result<()> {
    let h = resolve(db, &args.host).await?;
    let loaded = index(ctx, db).await?;
    let packages = db.package_set(h.summary.package_set_id).await?;
    if !covered(&loaded, &h.summary, &packages) {
        // Otherwise "no findings" would read as "not vulnerable".
        eprintln!(
            "note: no imported feed covers {} ({}); see `patchwatch feeds list`",
            escape(&h.summary.os.to_string()),
            escape(&h.summary.hostname)
        );
    }
    let triage = Triage::load(db.as_ref(), patchwatch_store::now_millis()).await?;
    if let Some(t) = &args.tag {
        triage.check_filter(t)?;
    }
    let mut findings = host_findings(&loaded, &h.summary, &packages);
    let min = args.severity.map(level);
    let only = args.state.map(state);
    findings
        .retain(|f| min.is_none_or(|m| f.severity() >= m) && only.is_none_or(|s| f.state() == s));
    let scope = HostScope::new(&h.summary.site, loaded.index.os_groups(), &h.summary.os);
    let mut rows: Vec<(Finding, Classified)> = findings
        .into_iter()
        .map(|f| {
            let c = triage.classify_one(&scope, &f);
            (f, c)
        })
        .filter(|(_, c)| args.tag.as_ref().is_none_or(|t| c.tags.contains(t)))
        .collect();
    // Excepted findings are kept, after the others (the sort is stable).
    rows.sort_by_key(|(_, c)| c.exception.is_some());
    if ctx.format == Format::Json {
        let rows: Vec<Value> = rows
            .iter()
            .map(|(f, c)| triaged_json(&loaded, f, c))
            .collect();
        return print_json(&rows);
    }
    let header = vec![
        "CVE",
        "PACKAGE",
        "INSTALLED",
        "FIXED",
        "STATE",
        "SEVERITY",
        "ADVISORY",
        "FEED",
        "TAGS",
    ];
    let cells = |f: &Finding, c: &Classified| {
        vec![
            f.cve().to_owned(),
            f.package().to_owned(),
            f.installed().to_owned(),
            f.fixed().unwrap_or("-").to_owned(),
            state_text(f),
            severity_text(f.severity()),
            f.advisory().to_owned(),
            loaded.finding_feed(f),
            tags_text(&c.tags),
        ]
    };
    let excepted = rows.iter().filter(|(_, c)| c.exception.is_some()).count();
    if ctx.format == Format::Csv {
        // One table for scripts, the exception id in its own column.
        let mut header = header;
        header.push("EXCEPTION");
        let mut t = Table::new(header);
        for (f, c) in &rows {
            let mut row = cells(f, c);
            row.push(
                c.exception
                    .as_ref()
                    .map_or(String::new(), |e| e.id.to_string()),
            );
            t.row(row);
        }
        return t.print(ctx.format);
    }
    let mut t = Table::new(header.clone()).when_empty("no findings");
    for (f, c) in rows.iter().filter(|(_, c)| c.exception.is_none()) {
        t.row(cells(f, c));
    }
    t.print(ctx.format)?;
    if excepted > 0 {
        println!("\nExcepted ({excepted}):");
        let mut header = header;
        header.push("EXCEPTION");
        let mut t = Table::new(header);
        for (f, c) in &rows {
            if let Some(e) = &c.exception {
                let mut row = cells(f, c);
                row.push(format!("#{} {} ({})", e.id, e.reason, e.author));
                t.row(row);
            }
        }
        t.print(ctx.format)?;
    }
    eprintln!(
        "{} for {} ({}, {}), {excepted} of them excepted.",
        count(rows.len(), "finding", "findings"),
        escape(&h.summary.hostname),
        escape(&h.summary.os.to_string()),
        count(packages.len(), "package", "packages")
    );
    Ok(())
}

fn tags_text(tags: &[String]) -> String {
    if tags.is_empty() {
        "-".to_owned()
    } else {
        tags.join(",")
    }
}

/// The hosts of `site` (all hosts without one); an unknown site is an
/// error, not an empty fleet.
async fn site_filter(db: &Arc<dyn Database>, site: Option<String>) -> anyhow::Result<HostFilter> {
    site_id(db, site.as_deref()).await?;
    Ok(HostFilter {
        site,
        ..HostFilter::default()
    })
}

/// The id of `site` (`None` without one); an unknown site is an error.
async fn site_id(db: &Arc<dyn Database>, site: Option<&str>) -> anyhow::Result<Option<i64>> {
    let Some(s) = site else {
        return Ok(None);
    };
    match db.site(s).await? {
        Some(found) => Ok(Some(found.id)),
        None => bail!("no site named {s:?}; see `patchwatch sites list`"),
    }
}

pub async fn cves(ctx: Context, cmd: CvesCommand) -> anyhow::Result<ExitCode> {
    // Checked before anything is loaded: a typo is answered at once.
    let wanted = match &cmd {
        CvesCommand::Show { cve, .. } => Some(parse_cve_id(cve).ok_or_else(|| {
            anyhow::anyhow!(
                "malformed CVE id {cve:?}: expected CVE-YYYY-NNNN (e.g. CVE-2024-12797)"
            )
        })?),
        CvesCommand::List { .. } => None,
    };
    let db = ctx.open().await?;
    let triage = Triage::load(db.as_ref(), patchwatch_store::now_millis()).await?;
    if let CvesCommand::List { tag: Some(t), .. } | CvesCommand::Show { tag: Some(t), .. } = &cmd {
        triage.check_filter(t)?;
    }
    let loaded = Arc::new(index(&ctx, &db).await?);
    match cmd {
        CvesCommand::List {
            severity,
            site,
            tag,
        } => {
            // As the server counts: each distinct set assessed once, only
            // the counts kept (most severe and widespread first).
            let site = site_id(&db, site.as_deref()).await?;
            let in_site = |id: i64| site.is_none_or(|s| s == id);
            let mut hosts = FleetHosts::read(db.as_ref()).await?;
            // Only the site's hosts are assessed.
            hosts.retain_sites(in_site);
            let mut fleet = FleetAssessment::new();
            fleet.catch_up(db.as_ref(), &loaded, &hosts).await?;
            let min = severity.map(level);
            let rows: Vec<CveSummary> = fleet
                .summaries(&hosts, in_site, &triage, loaded.index.os_groups())
                .into_iter()
                .filter(|r| {
                    r.hosts > 0
                        && min.is_none_or(|m| r.severity >= m)
                        && tag.as_ref().is_none_or(|t| r.tags.contains(t))
                })
                .collect();
            if ctx.format == Format::Json {
                print_json(&rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(vec![
                "CVE", "SEVERITY", "HOSTS", "EXCEPTED", "TAGS", "PACKAGES",
            ])
            .when_empty("no host is exposed to a CVE that matches");
            for r in &rows {
                t.row(vec![
                    r.cve.clone(),
                    severity_text(r.severity),
                    r.hosts.to_string(),
                    r.excepted_hosts.to_string(),
                    tags_text(&r.tags),
                    r.packages.join(","),
                ]);
            }
            t.print(ctx.format)?;
        }
        CvesCommand::Show { site, tag, .. } => {
            let cve = wanted.unwrap_or_default();
            let filter = site_filter(&db, site).await?;
            let (hosts, mut by_cve) =
                patchwatch_vulndb::fleet_findings(db.as_ref(), &loaded, &filter, Some(&cve))
                    .await?;
            let scopes = host_scopes(&loaded, &hosts);
            let mut list: Vec<(HostFinding, Classified)> = by_cve
                .remove(&cve)
                .unwrap_or_default()
                .into_iter()
                .map(|f| {
                    let c = triage.classify_one(&scopes[f.host], &f.finding);
                    (f, c)
                })
                .filter(|(_, c)| tag.as_ref().is_none_or(|t| c.tags.contains(t)))
                .collect();
            list.sort_by(|(a, ac), (b, bc)| {
                (
                    ac.exception.is_some(),
                    &hosts[a.host].hostname,
                    a.finding.package(),
                )
                    .cmp(&(
                        bc.exception.is_some(),
                        &hosts[b.host].hostname,
                        b.finding.package(),
                    ))
            });
            let exposed: BTreeSet<usize> = list
                .iter()
                .filter(|(_, c)| c.exception.is_none())
                .map(|(f, _)| f.host)
                .collect();
            let tags: BTreeSet<&String> = list
                .iter()
                .filter(|(_, c)| c.exception.is_none())
                .flat_map(|(_, c)| &c.tags)
                .collect();
            if ctx.format == Format::Json {
                let mut rows = Vec::new();
                for (f, c) in &list {
                    let mut v = triaged_json(&loaded, &f.finding, c);
                    if let Some(obj) = v.as_object_mut() {
                        let h = &hosts[f.host];
                        obj.insert("host".into(), Value::from(h.hostname.clone()));
                        obj.insert("host_id".into(), Value::from(h.id));
                        obj.insert("site".into(), Value::from(h.site.clone()));
                    }
                    rows.push(v);
                }
                let severity = list.iter().map(|(f, _)| f.finding.severity()).max();
                print_json(&serde_json::json!({
                    "cve": cve,
                    "severity": severity,
                    "hosts": exposed.len(),
                    "tags": tags,
                    "findings": rows,
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(vec![
                "HOST",
                "SITE",
                "PACKAGE",
                "INSTALLED",
                "FIXED",
                "STATE",
                "SEVERITY",
                "ADVISORY",
                "FEED",
                "TAGS",
                "EXCEPTION",
            ])
            .when_empty(format!("no host is exposed to {cve}"));
            for (f, c) in &list {
                let h = &hosts[f.host];
                let x = &f.finding;
                t.row(vec![
                    h.hostname.clone(),
                    h.site.clone(),
                    x.package().to_owned(),
                    x.installed().to_owned(),
                    x.fixed().unwrap_or("-").to_owned(),
                    state_text(x),
                    severity_text(x.severity()),
                    x.advisory().to_owned(),
                    loaded.finding_feed(x),
                    tags_text(&c.tags),
                    c.exception
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |e| format!("#{}", e.id)),
                ]);
            }
            t.print(ctx.format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
