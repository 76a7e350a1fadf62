//! `patchwatch hosts updates HOST` and `patchwatch updates list`: pending
//! updates from the repositories' current snapshots.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use patchwatch_store::{Database, HostFilter};
use patchwatch_updates::{
    Catalogue, HostUpdate, KeptUpdates, KernelStatus, fleet_updates, package_counts, package_view,
};
use serde::Serialize;

use super::Context;
use crate::cli::UpdatesCommand;
use crate::cli_repos::HostUpdatesArgs;
use crate::output::{Format, Table, print_json};

/// Every enabled repository's current snapshot, decoded, with no result
/// computed yet.
async fn kept(db: &Arc<dyn Database>) -> anyhow::Result<KeptUpdates> {
    let stored = db.current_repo_snapshots().await?;
    let catalogue = tokio::task::spawn_blocking(move || Catalogue::new(stored))
        .await?
        .context("reading the stored repository snapshots")?;
    if catalogue.is_empty() {
        bail!(
            "no repository has been imported yet: add one with `patchwatch repos add` and \
             read its index with `patchwatch repos import`"
        );
    }
    Ok(KeptUpdates::new(Arc::new(catalogue)))
}

#[derive(Serialize)]
struct HostUpdatesView<'a> {
    host: &'a str,
    site: &'a str,
    repositories: Vec<&'a str>,
    updates: Vec<&'a HostUpdate>,
    kernel: &'a KernelStatus,
    /// CVEs the feeds say are fixed in a version no repository of the host
    /// offers yet.
    fixes_not_in_repositories: Vec<String>,
    /// apt preferences files whose pins were not applied: `file: reason`.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    ignored_preferences: &'a [String],
}

/// Adds the CVEs each update closes according to the imported feeds (none
/// imported: nothing added); returns the CVEs whose fix no update brings.
async fn close_from_feeds(
    ctx: &Context,
    db: &Arc<dyn Database>,
    host: &patchwatch_store::HostSummary,
    packages: &[patchwatch_reports::Package],
    updates: &mut [HostUpdate],
) -> anyhow::Result<Vec<String>> {
    let groups = ctx.config.server.os_groups().context("[server] os_group")?;
    let mut loaded = patchwatch_vulndb::load_index(db.as_ref()).await?;
    if loaded.feeds == 0 {
        return Ok(Vec::new());
    }
    loaded.index.set_os_groups(groups);
    let findings = patchwatch_vulndb::host_findings(&loaded, host, packages);
    let fixed_by = patchwatch_updates::closes::annotate(updates, &findings);
    let mut missing: Vec<String> = findings
        .iter()
        .zip(&fixed_by)
        .filter(|(f, by)| {
            by.is_none() && f.state() == patchwatch_assess::FindingState::FixAvailable
        })
        .map(|(f, _)| f.cve().to_owned())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    Ok(missing)
}

pub async fn host(
    ctx: &Context,
    db: &Arc<dyn Database>,
    args: HostUpdatesArgs,
) -> anyhow::Result<()> {
    let h = super::hosts::resolve(db, &args.host).await?;
    let mut kept = kept(db).await?;
    let groups = ctx.config.server.os_groups().context("[server] os_group")?;
    let (repos, computed) = kept.host(db.as_ref(), &h, &groups).await?;
    let ignored_preferences = kept.fleet_host(&h, &groups).sources.ignored_preferences;
    let catalogue = kept.catalogue().clone();
    if repos.is_empty() {
        bail!(
            "no configured repository applies to {} ({}): its report names none of them and \
             none is a default for its OS (`patchwatch repos add ... --default-for \"{}\"`)",
            h.summary.hostname,
            h.summary.os,
            h.summary.os
        );
    }
    let packages = db.package_set(h.summary.package_set_id).await?;
    let mut updates: Vec<HostUpdate> = computed.as_ref().clone();
    let kernel = catalogue.kernel_status(
        &repos,
        &packages,
        &h.summary.kernel,
        &h.summary.arch,
        h.summary.reboot_required,
    );
    let no_update = close_from_feeds(ctx, db, &h.summary, &packages, &mut updates).await?;
    let shown: Vec<&HostUpdate> = updates
        .iter()
        .filter(|u| !args.security || u.security)
        .collect();
    if ctx.format == Format::Json {
        return print_json(&HostUpdatesView {
            host: &h.summary.hostname,
            site: &h.summary.site,
            repositories: repos
                .iter()
                .map(|&i| catalogue.repositories()[i].name.as_str())
                .collect(),
            updates: shown,
            kernel: &kernel,
            fixes_not_in_repositories: no_update,
            ignored_preferences: &ignored_preferences,
        });
    }
    let mut t = Table::new(vec![
        "NAME",
        "ARCH",
        "INSTALLED",
        "CANDIDATE",
        "REPOSITORY",
        "SECURITY",
        "CVES",
    ])
    .when_empty(if args.security {
        "no security updates pending"
    } else {
        "no updates pending"
    });
    for u in &shown {
        t.row(vec![
            u.name.clone(),
            u.arch.clone(),
            u.installed.clone(),
            u.candidate.clone(),
            u.repository.clone(),
            if u.security { "yes" } else { "no" }.to_owned(),
            u.cves.join(" "),
        ]);
    }
    t.print(ctx.format)?;
    if ctx.format == Format::Table && !shown.is_empty() {
        let security = updates.iter().filter(|u| u.security).count();
        println!(
            "\n{} updates, {} of them security updates.",
            updates.len(),
            security
        );
    }
    if ctx.format == Format::Table {
        println!("{}", crate::output::escape(&kernel_line(&kernel)));
    }
    // On stderr for CSV, so the rows stay machine-readable.
    for ignored in &ignored_preferences {
        let line = format!("apt preferences ignored (its pins are not applied): {ignored}");
        let line = crate::output::escape(&line);
        if ctx.format == Format::Table {
            println!("{line}");
        } else {
            eprintln!("warning: {line}");
        }
    }
    Ok(())
}

/// `kernel: running R, newest installed N, newest available A; reboot
/// required (...)`: one line under the `hosts updates` table.
fn kernel_line(k: &KernelStatus) -> String {
    let package = |p: &Option<patchwatch_updates::KernelPackage>| {
        p.as_ref().map_or_else(
            || "none".to_owned(),
            |p| format!("{} {}", p.name, p.version),
        )
    };
    let reboot = match (k.reboot_required_derived, k.reboot_required_reported) {
        (true, Some(true)) => "reboot required (newer kernel installed; the client says so too)",
        (true, _) => "reboot required (a newer kernel is installed)",
        (false, Some(true)) => "reboot required (the client says so)",
        (false, _) => "no reboot required",
    };
    format!(
        "kernel: running {}, newest installed {}, newest available {}{}; {reboot}",
        k.running,
        package(&k.newest_installed),
        package(&k.newest_available),
        if k.update_available { " (newer)" } else { "" },
    )
}

pub async fn fleet(ctx: Context, cmd: UpdatesCommand) -> anyhow::Result<ExitCode> {
    let UpdatesCommand::List { security } = cmd;
    let db = ctx.open().await?;
    let mut kept = kept(&db).await?;
    let groups = ctx.config.server.os_groups().context("[server] os_group")?;
    let fleet = fleet_updates(&*db, &HostFilter::default(), &mut kept, &groups).await?;
    let packages = package_counts(&fleet, security);
    if ctx.format == Format::Json {
        #[derive(Serialize)]
        struct View<'a> {
            hosts: Vec<HostCount<'a>>,
            packages: &'a [patchwatch_updates::PackageCount],
        }
        #[derive(Serialize)]
        struct HostCount<'a> {
            hostname: &'a str,
            site: &'a str,
            updates: usize,
            security: usize,
        }
        let hosts = fleet
            .hosts
            .iter()
            .map(|h| HostCount {
                hostname: &h.hostname,
                site: &h.site,
                updates: h.updates.len(),
                security: h.security(),
            })
            .collect();
        return print_json(&View {
            hosts,
            packages: &packages,
        })
        .map(|_| ExitCode::SUCCESS);
    }
    let mut hosts: Vec<_> = fleet
        .hosts
        .iter()
        .filter(|h| !security || h.security() > 0)
        .collect();
    hosts.sort_by(|a, b| {
        (b.security(), b.updates.len(), &a.hostname).cmp(&(
            a.security(),
            a.updates.len(),
            &b.hostname,
        ))
    });
    let mut t = Table::new(vec!["HOST", "SITE", "UPDATES", "SECURITY", "REPOSITORIES"])
        .when_empty("no hosts");
    for h in &hosts {
        t.row(vec![
            h.hostname.clone(),
            h.site.clone(),
            h.updates.len().to_string(),
            h.security().to_string(),
            if h.repositories.is_empty() {
                "(none applies)".to_owned()
            } else {
                h.repositories.join(",")
            },
        ]);
    }
    t.print(ctx.format)?;
    if ctx.format == Format::Csv {
        return Ok(ExitCode::SUCCESS);
    }
    let with_security = fleet.hosts.iter().filter(|h| h.security() > 0).count();
    println!(
        "\n{with_security} of {} hosts have security updates pending.\n",
        fleet.hosts.len()
    );
    let mut t = Table::new(vec!["PACKAGE", "HOSTS", "SECURITY HOSTS"]).when_empty("no updates");
    for p in &packages {
        t.row(vec![
            p.name.clone(),
            p.hosts.to_string(),
            p.security_hosts.to_string(),
        ]);
    }
    t.print(ctx.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Pending (updates, security updates) per host id, for `hosts list
/// --updates`; hosts no repository applies to are left out.
pub(super) async fn counts(
    ctx: &Context,
    db: &Arc<dyn Database>,
    filter: &HostFilter,
) -> anyhow::Result<std::collections::HashMap<i64, (usize, usize)>> {
    let mut kept = kept(db).await?;
    let groups = ctx.config.server.os_groups().context("[server] os_group")?;
    let fleet = fleet_updates(&**db, filter, &mut kept, &groups).await?;
    Ok(fleet
        .hosts
        .iter()
        .filter(|h| !h.repositories.is_empty())
        .map(|h| (h.host_id, (h.updates.len(), h.security())))
        .collect())
}

/// `patchwatch packages show NAME`.
pub async fn package(ctx: Context, cmd: crate::cli::PackagesCommand) -> anyhow::Result<ExitCode> {
    let crate::cli::PackagesCommand::Show { name, installed } = cmd;
    let db = ctx.open().await?;
    let mut kept = kept(&db).await?;
    let groups = ctx.config.server.os_groups().context("[server] os_group")?;
    let rows = package_view(
        &*db,
        &HostFilter::default(),
        &mut kept,
        &groups,
        &name,
        installed,
    )
    .await?;
    if ctx.format == Format::Json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(vec![
        "HOST",
        "SITE",
        "INSTALLED",
        "FROM",
        "STATE",
        "CANDIDATE",
        "REPOSITORY",
        "SECURITY",
    ])
    .when_empty("no hosts");
    for r in &rows {
        let state = serde_json::to_value(r.state)?;
        t.row(vec![
            r.hostname.clone(),
            r.site.clone(),
            r.installed
                .iter()
                .map(|v| format!("{} {}", v.version, v.arch))
                .collect::<Vec<_>>()
                .join(", "),
            r.installed
                .iter()
                .map(|v| {
                    if v.from.is_empty() {
                        "(no repository)".to_owned()
                    } else {
                        v.from.join(",")
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
            state.as_str().unwrap_or_default().to_owned(),
            r.candidate.clone().unwrap_or_default(),
            r.repository.clone().unwrap_or_default(),
            if r.security { "yes" } else { "no" }.to_owned(),
        ]);
    }
    t.print(ctx.format)?;
    Ok(ExitCode::SUCCESS)
}
