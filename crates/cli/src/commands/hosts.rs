//! `patchwatch hosts ...`

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use patchwatch_store::{
    Database, HostDetail, HostFilter, PackageChange, PackageDiff, PackageView, format_millis,
    host_history, now_millis,
};

use super::Context;
use crate::cli::{HostFilterArgs, HostRefArgs, HostsCommand};
use crate::output::{Format, Table, ago, print_json};

pub async fn run(ctx: Context, cmd: HostsCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        HostsCommand::List(args) => list(&ctx, &db, args).await?,
        HostsCommand::Show(host) => show(&ctx, &db, &host).await?,
        HostsCommand::History { host, limit } => history(&ctx, &db, &host, limit).await?,
        HostsCommand::Diff { a, b, site } => {
            let a = resolve(
                &db,
                &HostRefArgs {
                    host: a,
                    site: site.clone(),
                },
            )
            .await?;
            let b = resolve(&db, &HostRefArgs { host: b, site }).await?;
            diff(&ctx, &db, &a, &b).await?;
        }
        HostsCommand::Vulns(args) => super::vulns::host(&ctx, &db, args).await?,
        HostsCommand::Delete(host) => {
            let h = resolve(&db, &host).await?;
            db.delete_host(h.summary.id).await?;
            println!(
                "Deleted host {} (site {}) with its report history.",
                h.summary.hostname, h.summary.site
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Finds a host by id or by hostname (case-insensitive), naming the sites
/// when a hostname is ambiguous.
pub(super) async fn resolve(db: &Arc<dyn Database>, r: &HostRefArgs) -> anyhow::Result<HostDetail> {
    if let Ok(id) = r.host.parse::<i64>()
        && let Some(h) = db.host(id).await?
    {
        return Ok(h);
    }
    let page = db
        .hosts(&HostFilter {
            hostname: Some(r.host.clone()),
            site: r.site.clone(),
            ..HostFilter::default()
        })
        .await?;
    match page.items.as_slice() {
        [] => match &r.site {
            Some(s) => bail!("no host {:?} in site {s:?}", r.host),
            None => bail!("no host {:?}; see `patchwatch hosts list`", r.host),
        },
        [one] => db
            .host(one.id)
            .await?
            .ok_or_else(|| anyhow!("host {:?} was deleted meanwhile", r.host)),
        many => {
            let sites: Vec<&str> = many.iter().map(|h| h.site.as_str()).collect();
            bail!(
                "host {:?} exists in several sites ({}); pass --site",
                r.host,
                sites.join(", ")
            )
        }
    }
}

async fn list(ctx: &Context, db: &Arc<dyn Database>, args: HostFilterArgs) -> anyhow::Result<()> {
    let filter = HostFilter {
        site_ids: None,
        site: args.site,
        os: args.os,
        tag: args.tag,
        domains: args.domain,
        last_seen_before: args
            .not_seen_days
            .map(|d| now_millis() - i64::from(d) * 86_400_000),
        hostname: None,
        limit: args.limit,
        offset: 0,
    };
    let page = db.hosts(&filter).await?;
    if ctx.format == Format::Json {
        return print_json(&page);
    }
    let mut t = Table::new(vec![
        "HOST",
        "SITE",
        "OS",
        "KERNEL",
        "PACKAGES",
        "LAST SEEN",
        "TAGS",
    ]);
    for h in page.items {
        t.row(vec![
            h.hostname,
            h.site,
            h.os.to_string(),
            h.kernel,
            h.packages.to_string(),
            ago(h.last_seen),
            h.tags.join(","),
        ]);
    }
    t.print(ctx.format)?;
    if ctx.format == Format::Table && t.is_empty() {
        eprintln!("(no hosts match)");
    }
    Ok(())
}

async fn show(ctx: &Context, db: &Arc<dyn Database>, r: &HostRefArgs) -> anyhow::Result<()> {
    let host = resolve(db, r).await?;
    let packages = db.package_set(host.summary.package_set_id).await?;
    let views: Vec<PackageView> = packages.iter().map(PackageView::from).collect();
    match ctx.format {
        Format::Json => {
            let mut value = serde_json::to_value(&host)?;
            value["packages"] = serde_json::to_value(&views)?;
            print_json(&value)
        }
        Format::Csv => package_table(&views).print(Format::Csv),
        Format::Table => {
            let s = &host.summary;
            let os_name = if host.os_release.pretty_name.is_empty() {
                host.os_string.clone()
            } else {
                host.os_release.pretty_name.clone()
            };
            println!("Host:      {} (id {})", s.hostname, s.id);
            println!("Site:      {}", s.site);
            println!("OS:        {} ({os_name})", s.os);
            println!("Kernel:    {} {}", s.kernel, host.kernel_version);
            println!("Arch:      {}", s.arch);
            if !s.tags.is_empty() {
                println!("Tags:      {}", s.tags.join(", "));
            }
            let reboot = match s.reboot_required {
                Some(true) if host.reboot_reasons.is_empty() => "required".to_owned(),
                Some(true) => format!("required ({})", host.reboot_reasons.join(", ")),
                Some(false) => "not required".to_owned(),
                None => "unknown".to_owned(),
            };
            println!("Reboot:    {reboot}");
            println!("First:     {}", format_millis(s.first_seen));
            println!(
                "Last seen: {} ({}, {})",
                format_millis(s.last_seen),
                ago(s.last_seen),
                s.protocol
            );
            if !host.client.name.is_empty() {
                println!("Client:    {} {}", host.client.name, host.client.version);
            }
            println!("Packages:  {}\n", views.len());
            package_table(&views).print(Format::Table)
        }
    }
}

fn package_table(views: &[PackageView]) -> Table {
    let mut t = Table::new(vec!["PACKAGE", "VERSION", "ARCH", "TYPE", "SOURCE"]);
    for p in views {
        let source = match (p.source_name.as_str(), p.source_version.as_str()) {
            ("", _) => String::new(),
            (n, "") => n.to_owned(),
            (n, v) if v == p.version => n.to_owned(),
            (n, v) => format!("{n} {v}"),
        };
        t.row(vec![
            p.name.clone(),
            p.version.clone(),
            p.arch.clone(),
            p.kind.to_string(),
            source,
        ]);
    }
    t
}

async fn history(
    ctx: &Context,
    db: &Arc<dyn Database>,
    r: &HostRefArgs,
    limit: u32,
) -> anyhow::Result<()> {
    let host = resolve(db, r).await?;
    let entries = host_history(db.as_ref(), host.summary.id, limit, 0).await?;
    if ctx.format == Format::Json {
        return print_json(&entries);
    }
    if ctx.format == Format::Csv {
        let mut t = Table::new(vec![
            "RECEIVED", "PROTOCOL", "PACKAGES", "KERNEL", "SENDER", "CHANGE", "PACKAGE", "ARCH",
            "FROM", "TO",
        ]);
        for e in &entries {
            let base = |change: &str, name: &str, arch: &str, from: &str, to: &str| {
                vec![
                    format_millis(e.report.received_at),
                    e.report.protocol.clone(),
                    e.report.packages.to_string(),
                    e.report.kernel.clone(),
                    e.report.sender.clone(),
                    change.to_owned(),
                    name.to_owned(),
                    arch.to_owned(),
                    from.to_owned(),
                    to.to_owned(),
                ]
            };
            let changes = e
                .changes
                .as_ref()
                .map(|d| d.changes.as_slice())
                .unwrap_or_default();
            if changes.is_empty() {
                t.row(base("", "", "", "", ""));
            }
            for c in changes {
                t.row(match c {
                    PackageChange::Added {
                        name,
                        arch,
                        version,
                    } => base("added", name, arch, "", version),
                    PackageChange::Removed {
                        name,
                        arch,
                        version,
                    } => base("removed", name, arch, version, ""),
                    PackageChange::Changed {
                        name,
                        arch,
                        from,
                        to,
                    } => base("changed", name, arch, from, to),
                });
            }
        }
        return t.print(Format::Csv);
    }
    println!(
        "History of {} (site {}), newest first:\n",
        host.summary.hostname, host.summary.site
    );
    for e in &entries {
        let r = &e.report;
        let summary = match &e.changes {
            None => "first report shown".to_owned(),
            Some(d) if d.is_empty() => "unchanged".to_owned(),
            Some(d) => change_counts(d),
        };
        println!(
            "{}  {:<10}  {:>5} packages  kernel {}  from {}  {summary}",
            format_millis(r.received_at),
            r.protocol,
            r.packages,
            r.kernel,
            if r.sender.is_empty() { "-" } else { &r.sender },
        );
        if let Some(d) = &e.changes {
            for c in &d.changes {
                println!("    {}", describe(c));
            }
        }
    }
    Ok(())
}

fn change_counts(d: &PackageDiff) -> String {
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    for c in &d.changes {
        match c {
            PackageChange::Added { .. } => added += 1,
            PackageChange::Removed { .. } => removed += 1,
            PackageChange::Changed { .. } => changed += 1,
        }
    }
    format!("{changed} changed, {added} added, {removed} removed")
}

fn describe(c: &PackageChange) -> String {
    match c {
        PackageChange::Added {
            name,
            arch,
            version,
        } => format!("+ {name} {version} {arch}"),
        PackageChange::Removed {
            name,
            arch,
            version,
        } => format!("- {name} {version} {arch}"),
        PackageChange::Changed {
            name,
            arch,
            from,
            to,
        } => format!("~ {name} {from} -> {to} {arch}"),
    }
}

async fn diff(
    ctx: &Context,
    db: &Arc<dyn Database>,
    a: &HostDetail,
    b: &HostDetail,
) -> anyhow::Result<()> {
    let pa = db.package_set(a.summary.package_set_id).await?;
    let pb = db.package_set(b.summary.package_set_id).await?;
    let d = PackageDiff::between(&pa, &pb);
    if ctx.format == Format::Json {
        return print_json(&serde_json::json!({
            "a": a.summary.hostname,
            "b": b.summary.hostname,
            "differences": d.changes,
        }));
    }
    let (na, nb) = (a.summary.hostname.as_str(), b.summary.hostname.as_str());
    let mut t = Table::new(vec!["PACKAGE", "ARCH", "A", "B"]);
    for c in &d.changes {
        let (name, arch, va, vb) = match c {
            PackageChange::Added {
                name,
                arch,
                version,
            } => (name, arch, "-", version.as_str()),
            PackageChange::Removed {
                name,
                arch,
                version,
            } => (name, arch, version.as_str(), "-"),
            PackageChange::Changed {
                name,
                arch,
                from,
                to,
            } => (name, arch, from.as_str(), to.as_str()),
        };
        t.row(vec![
            name.clone(),
            arch.clone(),
            va.to_owned(),
            vb.to_owned(),
        ]);
    }
    if ctx.format == Format::Table {
        println!("A = {na}, B = {nb}: {} packages differ\n", d.changes.len());
    }
    t.print(ctx.format)
}
