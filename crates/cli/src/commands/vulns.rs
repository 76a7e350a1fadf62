//! `patchwatch hosts vulns HOST`, `patchwatch cves list|show`: findings
//! from the current feed generations, assessed on demand.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::bail;
use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{Finding, FindingState, KernelStatus};
use patchwatch_store::{Database, HostFilter, HostSummary};
use serde::Serialize;
use serde_json::Value;

use super::Context;
use super::hosts::resolve;
use crate::cli::{CvesCommand, HostVulnsArgs, SeverityArg, StateArg};
use crate::output::{Format, Table, print_json};
use patchwatch_vulndb::{
    HostFinding, LoadedIndex, covered, finding_json, host_findings, load_index, parse_cve_id,
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

async fn index(db: &Arc<dyn Database>) -> anyhow::Result<LoadedIndex> {
    let loaded = load_index(db.as_ref()).await?;
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
    let loaded = index(db).await?;
    let packages = db.package_set(h.summary.package_set_id).await?;
    if !covered(&loaded, &h.summary, &packages) {
        // Otherwise "no findings" would read as "not vulnerable".
        eprintln!(
            "note: no imported feed covers {} ({}); see `patchwatch feeds list`",
            h.summary.os, h.summary.hostname
        );
    }
    let mut findings = host_findings(&loaded, &h.summary, &packages);
    let min = args.severity.map(level);
    let only = args.state.map(state);
    findings
        .retain(|f| min.is_none_or(|m| f.severity() >= m) && only.is_none_or(|s| f.state() == s));
    if ctx.format == Format::Json {
        let rows: Vec<Value> = findings.iter().map(|f| finding_json(&loaded, f)).collect();
        return print_json(&rows);
    }
    let mut t = Table::new(vec![
        "CVE",
        "PACKAGE",
        "INSTALLED",
        "FIXED",
        "STATE",
        "SEVERITY",
        "ADVISORY",
        "FEED",
    ]);
    for f in &findings {
        t.row(vec![
            f.cve().to_owned(),
            f.package().to_owned(),
            f.installed().to_owned(),
            f.fixed().unwrap_or("-").to_owned(),
            state_text(f),
            severity_text(f.severity()),
            f.advisory().to_owned(),
            loaded.finding_feed(f),
        ]);
    }
    t.print(ctx.format)?;
    if ctx.format == Format::Table {
        eprintln!(
            "{} findings for {} ({}, {} packages).",
            findings.len(),
            h.summary.hostname,
            h.summary.os,
            packages.len()
        );
    }
    Ok(())
}

/// Assesses every host (of `site`, if given) against the index, each
/// distinct package set once, and returns the exposed findings by CVE.
async fn fleet_findings(
    db: &Arc<dyn Database>,
    loaded: &LoadedIndex,
    site: Option<String>,
) -> anyhow::Result<(Vec<HostSummary>, BTreeMap<String, Vec<HostFinding>>)> {
    if let Some(s) = &site
        && db.site(s).await?.is_none()
    {
        bail!("no site named {s:?}; see `patchwatch sites list`");
    }
    let filter = HostFilter {
        site,
        ..HostFilter::default()
    };
    Ok(patchwatch_vulndb::fleet_findings(db.as_ref(), loaded, &filter).await?)
}

#[derive(Serialize)]
struct CveSummary {
    cve: String,
    severity: SeverityLevel,
    hosts: usize,
    packages: Vec<String>,
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
    let loaded = index(&db).await?;
    match cmd {
        CvesCommand::List { severity, site } => {
            let (_, by_cve) = fleet_findings(&db, &loaded, site).await?;
            let min = severity.map(level);
            let mut rows: Vec<CveSummary> = by_cve
                .into_iter()
                .map(|(cve, list)| {
                    let hosts: BTreeSet<usize> = list.iter().map(|f| f.host).collect();
                    let packages: BTreeSet<String> = list
                        .iter()
                        .map(|f| f.finding.package().to_owned())
                        .collect();
                    CveSummary {
                        cve,
                        severity: list
                            .iter()
                            .map(|f| f.finding.severity())
                            .max()
                            .unwrap_or_default(),
                        hosts: hosts.len(),
                        packages: packages.into_iter().collect(),
                    }
                })
                .filter(|r| min.is_none_or(|m| r.severity >= m))
                .collect();
            // Most severe and widespread first.
            rows.sort_by(|a, b| {
                (b.severity, b.hosts)
                    .cmp(&(a.severity, a.hosts))
                    .then_with(|| a.cve.cmp(&b.cve))
            });
            if ctx.format == Format::Json {
                print_json(&rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(vec!["CVE", "SEVERITY", "HOSTS", "PACKAGES"]);
            for r in &rows {
                t.row(vec![
                    r.cve.clone(),
                    severity_text(r.severity),
                    r.hosts.to_string(),
                    r.packages.join(","),
                ]);
            }
            t.print(ctx.format)?;
            if ctx.format == Format::Table && t.is_empty() {
                eprintln!("(no host is exposed to a CVE that matches)");
            }
        }
        CvesCommand::Show { site, .. } => {
            let cve = wanted.unwrap_or_default();
            let (hosts, mut by_cve) = fleet_findings(&db, &loaded, site).await?;
            let mut list = by_cve.remove(&cve).unwrap_or_default();
            list.sort_by(|a, b| {
                (&hosts[a.host].hostname, a.finding.package())
                    .cmp(&(&hosts[b.host].hostname, b.finding.package()))
            });
            if ctx.format == Format::Json {
                let mut rows = Vec::new();
                for f in &list {
                    let mut v = finding_json(&loaded, &f.finding);
                    if let Some(obj) = v.as_object_mut() {
                        let h = &hosts[f.host];
                        obj.insert("host".into(), Value::from(h.hostname.clone()));
                        obj.insert("host_id".into(), Value::from(h.id));
                        obj.insert("site".into(), Value::from(h.site.clone()));
                    }
                    rows.push(v);
                }
                let severity = list.iter().map(|f| f.finding.severity()).max();
                print_json(&serde_json::json!({
                    "cve": cve,
                    "severity": severity,
                    "hosts": list.iter().map(|f| f.host).collect::<BTreeSet<_>>().len(),
                    "findings": rows,
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
            if list.is_empty() {
                println!("No host is exposed to {cve}.");
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
            ]);
            for f in &list {
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
                ]);
            }
            t.print(ctx.format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
