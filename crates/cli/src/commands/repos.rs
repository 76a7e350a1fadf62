//! `patchwatch repos ...`: repositories and their snapshots.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use patchwatch_store::{Database, NewRepository, RepoImportOutcome, Repository, RepositoryKind};
use patchwatch_updates::import_files;

use super::Context;
use crate::cli::ReposCommand;
use crate::cli_repos::RepoAddArgs;
use crate::output::{Format, Table, ago, escape, print_json, timestamp};

pub async fn run(ctx: Context, cmd: ReposCommand) -> anyhow::Result<ExitCode> {
    // Checked before the database is opened: a typo needs no database.
    if let ReposCommand::Add(args) = &cmd {
        RepositoryKind::parse(&args.kind)?;
    }
    let db = ctx.open().await?;
    match cmd {
        ReposCommand::Add(args) => {
            let repo = db.add_repository(&new_repository(args)?).await?;
            if ctx.format == Format::Json {
                print_json(&repo)?;
            } else {
                println!(
                    "Added repository {} ({}); read its index with `patchwatch repos import {}`.",
                    repo.name, repo.kind, repo.name
                );
            }
        }
        ReposCommand::List => list(&ctx, &db).await?,
        ReposCommand::Show { name } => {
            let repo = find(&db, &name).await?;
            if ctx.format == Format::Json {
                print_json(&repo)?;
            } else {
                show(&repo);
            }
        }
        ReposCommand::Import { name, path } => import(&ctx, &db, &name, path).await?,
        ReposCommand::Sync { names, max_bytes } => return sync(&ctx, &db, names, max_bytes).await,
        ReposCommand::Remove { name, yes } => {
            find(&db, &name).await?;
            super::confirm(
                yes,
                &format!(
                    "Delete repository {name} and its snapshots from {}?",
                    ctx.location.display()
                ),
            )?;
            db.remove_repository(&name).await?;
            println!("Deleted repository {name}.");
        }
        ReposCommand::Enable { name } => set_enabled(&db, &name, true).await?,
        ReposCommand::Disable { name } => set_enabled(&db, &name, false).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn new_repository(args: RepoAddArgs) -> anyhow::Result<NewRepository> {
    let kind = RepositoryKind::parse(&args.kind)?;
    let arch = args.arch.unwrap_or_else(|| {
        match kind {
            RepositoryKind::Apt => "amd64",
            RepositoryKind::RpmMd | RepositoryKind::Apk => "x86_64",
        }
        .to_owned()
    });
    let components = match (kind, args.components.is_empty()) {
        (RepositoryKind::Apt, true) if !args.suite.is_empty() => vec!["main".to_owned()],
        _ => args
            .components
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect(),
    };
    if kind != RepositoryKind::Apt && (!args.suite.is_empty() || !components.is_empty()) {
        bail!("--suite and --component are for apt repositories only");
    }
    Ok(NewRepository {
        name: args.name,
        kind,
        source: args.source,
        suite: args.suite,
        components,
        architectures: vec![arch],
        priority: args.priority,
        cost: args.cost,
        default_for: args
            .default_for
            .iter()
            .map(|g| g.trim().to_ascii_lowercase())
            .collect(),
    })
}

async fn find(db: &Arc<dyn Database>, name: &str) -> anyhow::Result<Repository> {
    db.repository(name)
        .await?
        .ok_or_else(|| anyhow!("no repository named {name:?} (see `patchwatch repos list`)"))
}

async fn set_enabled(db: &Arc<dyn Database>, name: &str, enabled: bool) -> anyhow::Result<()> {
    if !db.set_repository_enabled(name, enabled).await? {
        bail!("no repository named {name:?} (see `patchwatch repos list`)");
    }
    println!(
        "Repository {name} {}.",
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

async fn list(ctx: &Context, db: &Arc<dyn Database>) -> anyhow::Result<()> {
    let repos = db.repositories().await?;
    if ctx.format == Format::Json {
        return print_json(&repos);
    }
    let mut t = Table::new(vec![
        "NAME",
        "KIND",
        "SOURCE",
        "SUITE",
        "ENABLED",
        "PACKAGES",
        "IMPORTED",
        "DEFAULT FOR",
    ])
    .when_empty("no repositories; add one with `patchwatch repos add`");
    for r in repos {
        let (packages, imported) = match &r.current {
            Some(s) => (
                s.packages.to_string(),
                crate::output::when(ctx.format, s.imported_at),
            ),
            None => ("-".to_owned(), "never".to_owned()),
        };
        t.row(vec![
            r.name,
            r.kind.to_string(),
            r.source,
            r.suite,
            if r.enabled { "yes" } else { "no" }.to_owned(),
            packages,
            imported,
            r.default_for.join(", "),
        ]);
    }
    t.print(ctx.format)
}

fn show(r: &Repository) {
    println!("Repository:    {} ({})", escape(&r.name), r.kind);
    println!("Source:        {}", escape(&r.source));
    if !r.suite.is_empty() {
        println!("Suite:         {}", escape(&r.suite));
    }
    if !r.components.is_empty() {
        println!("Components:    {}", escape(&r.components.join(" ")));
    }
    println!("Architectures: {}", escape(&r.architectures.join(" ")));
    if r.kind == RepositoryKind::RpmMd {
        println!("Priority/cost: {} / {}", r.priority, r.cost);
    }
    println!("Enabled:       {}", if r.enabled { "yes" } else { "no" });
    if !r.default_for.is_empty() {
        println!("Default for:   {}", escape(&r.default_for.join(", ")));
    }
    match &r.current {
        Some(s) => println!(
            "Snapshot:      #{} imported {} ({}): {} packages, {} bytes stored, sha256 {}",
            s.number,
            timestamp(s.imported_at),
            ago(s.imported_at),
            s.packages,
            s.size,
            s.sha256
        ),
        None => println!(
            "Snapshot:      none yet (`patchwatch repos import {}`)",
            r.name
        ),
    }
    if let Some(at) = r.sync.synced_at {
        match &r.sync.error {
            Some(e) => println!("Last sync:     {} failed: {}", timestamp(at), escape(e)),
            None => println!("Last sync:     {} ok", timestamp(at)),
        }
    }
}

async fn import(
    ctx: &Context,
    db: &Arc<dyn Database>,
    name: &str,
    path: Option<PathBuf>,
) -> anyhow::Result<()> {
    let repo = find(db, name).await?;
    let path = match path {
        Some(p) => p,
        None if repo.source.contains("://") => bail!(
            "repository {name} comes from {}; give the PATH of local copies of its files",
            repo.source
        ),
        None => PathBuf::from(&repo.source),
    };
    let started = std::time::Instant::now();
    let (outcome, _) = import_files(db.as_ref(), &repo, &path)
        .await
        .with_context(|| {
            format!(
                "importing repository {name} from {}; its current snapshot is unchanged",
                path.display()
            )
        })?;
    if ctx.format == Format::Json {
        return print_json(&outcome);
    }
    match outcome {
        RepoImportOutcome::Imported { snapshot, .. } => println!(
            "Imported {name}: snapshot #{} with {} packages ({} bytes stored) in {:.2} s.",
            snapshot.number,
            snapshot.packages,
            snapshot.size,
            started.elapsed().as_secs_f64()
        ),
        RepoImportOutcome::Unchanged { snapshot } => println!(
            "{name} is unchanged (snapshot #{} has the same content).",
            snapshot.number
        ),
    }
    Ok(())
}

async fn sync(
    ctx: &Context,
    db: &Arc<dyn Database>,
    names: Vec<String>,
    max_bytes: u64,
) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;

    use indicatif::{ProgressBar, ProgressStyle};
    use patchwatch_vulndb::{Progress, SyncOptions, Syncer};

    let repos: Vec<Repository> = if names.is_empty() {
        db.repositories()
            .await?
            .into_iter()
            .filter(|r| r.enabled && r.source.contains("://"))
            .collect()
    } else {
        let mut repos = Vec::new();
        for name in &names {
            repos.push(find(db, name).await?);
        }
        repos
    };
    let syncer = Syncer::new(SyncOptions {
        max_bytes,
        ..SyncOptions::default()
    })?;
    // A bar only for a person watching: never in a log or a pipe.
    let bars = ctx.format == Format::Table && std::io::stderr().is_terminal();
    let mut results = Vec::new();
    let mut failed = 0;
    for repo in repos {
        let bar = bars.then(|| {
            let bar = ProgressBar::new_spinner().with_prefix(repo.name.clone());
            bar.set_style(
                ProgressStyle::with_template("{prefix} {spinner} {bytes} {bytes_per_sec}")
                    .expect("valid template"),
            );
            bar
        });
        let on_progress = |p: Progress| {
            if let Some(bar) = &bar {
                bar.set_position(p.bytes);
            }
        };
        let result = patchwatch_updates::sync_repository(&syncer, &**db, &repo, &on_progress).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let (value, line) = match &result {
            Ok(outcome) => {
                let mut v = serde_json::to_value(outcome)?;
                v["repository"] = serde_json::json!(repo.name);
                let line = match outcome {
                    patchwatch_updates::RepoSyncOutcome::NotModified => {
                        format!("{}: not modified", repo.name)
                    }
                    patchwatch_updates::RepoSyncOutcome::IndexesUnchanged { reason } => {
                        format!("{}: unchanged: {}", repo.name, escape(reason))
                    }
                    patchwatch_updates::RepoSyncOutcome::Imported(
                        RepoImportOutcome::Imported { snapshot, .. },
                    ) => format!(
                        "{}: imported snapshot #{} with {} packages",
                        repo.name, snapshot.number, snapshot.packages
                    ),
                    patchwatch_updates::RepoSyncOutcome::Imported(
                        RepoImportOutcome::Unchanged { snapshot },
                    ) => format!("{}: unchanged (snapshot #{})", repo.name, snapshot.number),
                };
                (v, line)
            }
            Err(e) => {
                failed += 1;
                (
                    serde_json::json!({"repository": repo.name, "outcome": "failed", "error": e.to_string()}),
                    format!(
                        "{}: FAILED: {} (the current snapshot is unchanged)",
                        repo.name,
                        escape(&e.to_string())
                    ),
                )
            }
        };
        if ctx.format == Format::Json {
            results.push(value);
        } else {
            println!("{line}");
        }
    }
    if ctx.format == Format::Json {
        print_json(&results)?;
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
