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
use crate::output::{Format, Table, ago, count, escape, print_json, timestamp, when};

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
        HostsCommand::Updates(args) => super::updates::host(&ctx, &db, args).await?,
        HostsCommand::Delete { host, yes } => {
            let h = resolve(&db, &host).await?;
            super::confirm(
                yes,
                &format!(
                    "Delete host {} (id:{}, site {}) and its report history from {}?",
                    escape(&h.summary.hostname),
                    h.summary.id,
                    escape(&h.summary.site),
                    ctx.location.display()
                ),
            )?;
            db.delete_host(h.summary.id).await?;
            println!(
                "Deleted host {} (id:{}, site {}) with its report history.",
                escape(&h.summary.hostname),
                h.summary.id,
                escape(&h.summary.site)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How a HOST argument names a host: `id:N` is the host with id N, anything
/// else a hostname. A bare number is a hostname (`1` is a valid one), so
/// `hosts delete 1` can never pick another host by its id.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum HostRef {
    Id(i64),
    Hostname(String),
}

impl HostRef {
    pub(super) fn parse(arg: &str) -> anyhow::Result<HostRef> {
        if let Some(id) = arg.strip_prefix("id:") {
            return match id.trim().parse::<i64>() {
                Ok(id) if id > 0 => Ok(HostRef::Id(id)),
                _ => bail!("{arg:?} is not a host id: write id:N with N a positive number"),
            };
        }
        // The hostname in the form hosts are stored in, so `Web1.Example.org.`
        // finds `web1.example.org`.
        let name = patchwatch_reports::hostname::normalise(arg)
            .map_err(|e| anyhow!("{arg:?} is not a hostname ({e}); write id:N for a host id"))?;
        Ok(HostRef::Hostname(name))
    }
}

/// Finds a host by `id:N` or by hostname (case-insensitive), naming the
/// sites when a hostname is ambiguous.
pub(super) async fn resolve(db: &Arc<dyn Database>, r: &HostRefArgs) -> anyhow::Result<HostDetail> {
    let hostname = match HostRef::parse(&r.host)? {
        HostRef::Id(id) => {
            let host = db
                .host(id)
                .await?
                .ok_or_else(|| anyhow!("no host with id {id}; see `patchwatch hosts list`"))?;
            if let Some(site) = &r.site
                && host.summary.site != *site
            {
                bail!(
                    "host id {id} is in site {:?}, not {site:?}",
                    host.summary.site
                );
            }
            return Ok(host);
        }
        HostRef::Hostname(name) => name,
    };
    let page = db
        .hosts(&HostFilter {
            hostname: Some(hostname.clone()),
            site: r.site.clone(),
            ..HostFilter::default()
        })
        .await?;
    match page.items.as_slice() {
        [] => match &r.site {
            Some(s) => bail!("no host {hostname:?} in site {s:?}"),
            None => bail!(
                "no host {hostname:?}; see `patchwatch hosts list` (write id:N for a host id)"
            ),
        },
        [one] => db
            .host(one.id)
            .await?
            .ok_or_else(|| anyhow!("host {hostname:?} was deleted meanwhile")),
        many => {
            let sites: Vec<&str> = many.iter().map(|h| h.site.as_str()).collect();
            bail!(
                "host {hostname:?} exists in several sites ({}); pass --site",
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
        limit: args.limit,
        ..HostFilter::default()
    };
    let mut page = db.hosts(&filter).await?;
    let counts = if args.updates || args.with_security_updates {
        Some(super::updates::counts(ctx, db, &filter).await?)
    } else {
        None
    };
    if let Some(counts) = &counts
        && args.with_security_updates
    {
        page.items
            .retain(|h| counts.get(&h.id).is_some_and(|&(_, security)| security > 0));
    }
    if ctx.format == Format::Json {
        let Some(counts) = &counts else {
            return print_json(&page);
        };
        let mut v = serde_json::to_value(&page)?;
        for item in v["items"].as_array_mut().into_iter().flatten() {
            let id = item["id"].as_i64().unwrap_or_default();
            let (updates, security) = counts.get(&id).copied().unwrap_or_default();
            item["updates"] = updates.into();
            item["security_updates"] = security.into();
        }
        return print_json(&v);
    }
    let mut header = vec![
        "HOST",
        "SITE",
        "OS",
        "KERNEL",
        "PACKAGES",
        "LAST SEEN",
        "TAGS",
    ];
    if counts.is_some() {
        header.extend(["UPDATES", "SECURITY"]);
    }
    let mut t = Table::new(header).when_empty("no hosts match");
    for h in page.items {
        let mut row = vec![
            h.hostname,
            h.site,
            h.os.to_string(),
            h.kernel,
            h.packages.to_string(),
            when(ctx.format, h.last_seen),
            h.tags.join(","),
        ];
        if let Some(counts) = &counts {
            let (updates, security) = counts.get(&h.id).copied().unwrap_or_default();
            row.extend([updates.to_string(), security.to_string()]);
        }
        t.row(row);
    }
    t.print(ctx.format)
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
            println!("Host:      {} (id:{})", escape(&s.hostname), s.id);
            println!("Site:      {}", escape(&s.site));
            println!(
                "OS:        {} ({})",
                escape(&s.os.to_string()),
                escape(&os_name)
            );
            println!(
                "Kernel:    {} {}",
                escape(&s.kernel),
                escape(&host.kernel_version)
            );
            println!("Arch:      {}", escape(&s.arch));
            if !s.tags.is_empty() {
                println!("Tags:      {}", escape(&s.tags.join(", ")));
            }
            let mut why = Vec::new();
            if s.reboot_required == Some(true) {
                why.push(if host.reboot_reasons.is_empty() {
                    "the client says so".to_owned()
                } else {
                    host.reboot_reasons.join(", ")
                });
            }
            if s.reboot_required_derived == Some(true) {
                why.push("a newer kernel is installed".to_owned());
            }
            let reboot = match (s.reboot_required, s.reboot_required_derived) {
                _ if !why.is_empty() => format!("required ({})", why.join("; ")),
                (None, None) => "unknown".to_owned(),
                (_, None) => "not required by the client; not derived yet".to_owned(),
                (_, Some(_)) => "not required".to_owned(),
            };
            println!("Reboot:    {}", escape(&reboot));
            println!("First:     {}", format_millis(s.first_seen));
            println!(
                "Last seen: {} ({}, {})",
                format_millis(s.last_seen),
                ago(s.last_seen),
                s.protocol
            );
            if !host.client.name.is_empty() {
                println!(
                    "Client:    {} {}",
                    escape(&host.client.name),
                    escape(&host.client.version)
                );
            }
            println!("Packages:  {}\n", views.len());
            package_table(&views).print(Format::Table)
        }
    }
}

fn package_table(views: &[PackageView]) -> Table {
    let mut t =
        Table::new(vec!["PACKAGE", "VERSION", "ARCH", "TYPE", "SOURCE"]).when_empty("no packages");
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
                    timestamp(e.report.received_at),
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
        escape(&host.summary.hostname),
        escape(&host.summary.site)
    );
    // Columns padded to the widest cell, so the rows line up whatever the
    // protocol, kernel or sender.
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let r = &e.report;
            let summary = match &e.changes {
                None => "first report".to_owned(),
                Some(d) if d.is_empty() => "unchanged".to_owned(),
                Some(d) => change_counts(d),
            };
            [
                timestamp(r.received_at),
                escape(&r.protocol).into_owned(),
                count(r.packages as usize, "package", "packages"),
                format!("kernel {}", escape(&r.kernel)),
                format!(
                    "from {}",
                    if r.sender.is_empty() {
                        "-".into()
                    } else {
                        escape(&r.sender)
                    }
                ),
                summary,
            ]
        })
        .collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for (row, e) in rows.iter().zip(&entries) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            // The package count is right-aligned, as numbers are.
            let pad = w - cell.chars().count();
            if i == 2 {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        println!("{}", line.trim_end());
        if let Some(d) = &e.changes {
            for c in &d.changes {
                println!("    {}", escape(&describe(c)));
            }
        }
    }
    if entries.is_empty() {
        eprintln!("(no reports)");
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
    let mut parts = Vec::new();
    for (n, what) in [(changed, "changed"), (added, "added"), (removed, "removed")] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
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
    let mut t = Table::new(vec!["PACKAGE", "ARCH", "A", "B"]).when_empty("no differences");
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
        println!(
            "A = {}, B = {}: {} packages differ\n",
            escape(na),
            escape(nb),
            d.changes.len()
        );
    }
    t.print(ctx.format)
}

#[cfg(test)]
mod tests {
    use super::HostRef;

    #[test]
    fn a_bare_number_is_a_hostname_and_id_colon_an_id() {
        assert_eq!(HostRef::parse("1").unwrap(), HostRef::Hostname("1".into()));
        assert_eq!(HostRef::parse("id:1").unwrap(), HostRef::Id(1));
        assert_eq!(
            HostRef::parse("Web1.Example.org.").unwrap(),
            HostRef::Hostname("web1.example.org".into())
        );
        for bad in ["id:", "id:x", "id:-3", "id:0"] {
            let e = HostRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains("write id:N"), "{bad}: {e}");
        }
        let e = HostRef::parse("web1\u{202e}").unwrap_err().to_string();
        assert!(e.contains("write id:N for a host id"), "{e}");
    }
}
