//! `patchwatch feeds ...`: feeds and their generations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use patchwatch_store::{Database, Feed, FeedKind, ImportOutcome, NewFeed, format_millis};

use super::{Context, feed_sync};
use crate::cli::FeedsCommand;
use crate::output::{Format, Table, ago, print_json};
use patchwatch_vulndb::{parse_document, sha256_hex};

pub async fn run(ctx: Context, cmd: FeedsCommand) -> anyhow::Result<ExitCode> {
    // Kinds are checked before the database is opened: a typo should not
    // need a reachable database to be reported.
    if let FeedsCommand::Add { kind, .. }
    | FeedsCommand::Import {
        kind: Some(kind), ..
    } = &cmd
    {
        FeedKind::parse(kind)?;
    }
    let db = ctx.open().await?;
    match cmd {
        FeedsCommand::Add {
            name,
            kind,
            source,
            releases,
        } => {
            let feed = db
                .add_feed(&NewFeed {
                    name,
                    kind: FeedKind::parse(&kind)?,
                    source,
                    releases,
                })
                .await?;
            if ctx.format == Format::Json {
                print_json(&feed)?;
            } else {
                println!(
                    "Added feed {} ({}); import it with `patchwatch feeds import {}`.",
                    feed.name, feed.kind, feed.name
                );
            }
        }
        FeedsCommand::List => list(&ctx, &db).await?,
        FeedsCommand::Import { name, file, kind } => {
            let (feed, file) = match (kind, file) {
                // `--kind KIND FILE`: the single positional is the file.
                (Some(kind), None) => {
                    let file = PathBuf::from(name);
                    (feed_for_file(&db, &kind, &file).await?, file)
                }
                // `--kind KIND NAME FILE`: NAME is created when absent.
                (Some(kind), Some(file)) if db.feed(&name).await?.is_none() => {
                    let feed = add_for_file(&db, name, FeedKind::parse(&kind)?, &file).await?;
                    (feed, file)
                }
                (kind, file) => {
                    let feed = known_feed(&db, &name).await?;
                    if let Some(kind) = kind
                        && FeedKind::parse(&kind)? != feed.kind
                    {
                        bail!(
                            "feed {name:?} is of kind {}, not {kind}",
                            feed.kind.as_str()
                        );
                    }
                    let file = match file {
                        Some(f) => f,
                        None => source_file(&feed)?,
                    };
                    (feed, file)
                }
            };
            import(&ctx, &db, &feed, &file).await?;
        }
        FeedsCommand::Remove { name } => {
            if !db.delete_feed(&name).await? {
                bail!("no feed named {name:?}; see `patchwatch feeds list`");
            }
            println!("Removed feed {name} and its generations.");
        }
        FeedsCommand::Sync { names, max_bytes } => {
            return feed_sync::sync(&ctx, &db, names, max_bytes).await;
        }
        FeedsCommand::Catalogue => feed_sync::catalogue(&ctx, &db).await?,
        FeedsCommand::Enable { id, name } => feed_sync::enable(&ctx, &db, id, name).await?,
        FeedsCommand::Disable { name } => feed_sync::disable(&db, &name).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn known_feed(db: &Arc<dyn Database>, name: &str) -> anyhow::Result<Feed> {
    db.feed(name)
        .await?
        .ok_or_else(|| anyhow!("no feed named {name:?}; see `patchwatch feeds list`"))
}

/// The file a feed's source names; URLs are for `feeds sync`.
fn source_file(feed: &Feed) -> anyhow::Result<PathBuf> {
    let s = feed.source.as_str();
    if s.starts_with("http://") || s.starts_with("https://") {
        bail!(
            "feed {:?} comes from the URL {s}: use `patchwatch feeds sync {}`, \
             or download it and pass the FILE",
            feed.name,
            feed.name
        );
    }
    Ok(PathBuf::from(s))
}

/// The feed named after `file` (its name up to the first dot), created with
/// `kind` when absent.
async fn feed_for_file(db: &Arc<dyn Database>, kind: &str, file: &Path) -> anyhow::Result<Feed> {
    let kind = FeedKind::parse(kind)?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.split('.').next())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| anyhow!("cannot name a feed after {}", file.display()))?
        .to_owned();
    if let Some(feed) = db.feed(&name).await? {
        if feed.kind != kind {
            bail!(
                "feed {name:?} exists with kind {}, not {kind}",
                feed.kind.as_str()
            );
        }
        return Ok(feed);
    }
    add_for_file(db, name, kind, file).await
}

/// Creates a feed whose source is `file` (absolute, so a later plain
/// `feeds import NAME` finds it from any directory).
async fn add_for_file(
    db: &Arc<dyn Database>,
    name: String,
    kind: FeedKind,
    file: &Path,
) -> anyhow::Result<Feed> {
    let source = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    let feed = db
        .add_feed(&NewFeed {
            name,
            kind,
            source: source.display().to_string(),
            releases: String::new(),
        })
        .await?;
    eprintln!("Added feed {} ({}).", feed.name, feed.kind);
    Ok(feed)
}

async fn import(
    ctx: &Context,
    db: &Arc<dyn Database>,
    feed: &Feed,
    file: &Path,
) -> anyhow::Result<()> {
    let doc = tokio::fs::read(file)
        .await
        .with_context(|| format!("reading {}", file.display()))?;
    let sha256 = sha256_hex(&doc);
    // Parse only what would be stored: an unchanged document is skipped.
    let outcome = match feed.current.as_ref().filter(|g| g.sha256 == sha256) {
        Some(g) => ImportOutcome::Unchanged {
            generation: g.clone(),
        },
        None => {
            let (kind, label) = (feed.kind, file.display().to_string());
            let (doc, count) = tokio::task::spawn_blocking(move || {
                let n = parse_document(kind, &label, &doc, |_| {});
                n.map(|n| (doc, n))
            })
            .await
            .context("the parser thread failed")?
            .with_context(|| {
                format!(
                    "refusing {}: it does not parse as {}; feed {:?} keeps its current generation",
                    file.display(),
                    feed.kind,
                    feed.name
                )
            })?;
            db.import_generation(feed.id, doc, &sha256, count as i64)
                .await?
        }
    };
    if ctx.format == Format::Json {
        return print_json(&outcome);
    }
    match outcome {
        ImportOutcome::Unchanged { generation } => println!(
            "Feed {}: unchanged (generation {} of {} has the same sha256); nothing imported.",
            feed.name,
            generation.id,
            format_millis(generation.imported_at)
        ),
        ImportOutcome::Imported {
            generation,
            previous,
        } => {
            print!(
                "Feed {}: imported generation {} ({} advisories, {} bytes)",
                feed.name, generation.id, generation.advisories, generation.size
            );
            match previous {
                Some(p) => println!(", replacing generation {p}."),
                None => println!("."),
            }
        }
    }
    Ok(())
}

async fn list(ctx: &Context, db: &Arc<dyn Database>) -> anyhow::Result<()> {
    let feeds = db.feeds().await?;
    if ctx.format == Format::Json {
        return print_json(&feeds);
    }
    let mut t = Table::new(vec![
        "NAME",
        "KIND",
        "SOURCE",
        "GENERATION",
        "IMPORTED",
        "ADVISORIES",
        "BYTES",
        "SHA256",
        "KEPT",
        "SYNCED",
        "SYNC ERROR",
    ]);
    for f in feeds {
        let g = f.current.as_ref();
        t.row(vec![
            f.name.clone(),
            f.kind.to_string(),
            f.source.clone(),
            g.map_or_else(|| "-".into(), |g| g.id.to_string()),
            g.map_or_else(|| "never".into(), |g| ago(g.imported_at)),
            g.map_or_else(String::new, |g| g.advisories.to_string()),
            g.map_or_else(String::new, |g| g.size.to_string()),
            g.map_or_else(String::new, |g| g.sha256.chars().take(12).collect()),
            f.generations.to_string(),
            match (f.enabled, f.sync.synced_at) {
                (false, _) => "disabled".into(),
                (true, Some(at)) => ago(at),
                (true, None) => "never".into(),
            },
            f.sync.error.clone().unwrap_or_default(),
        ]);
    }
    t.print(ctx.format)?;
    if ctx.format == Format::Table && t.is_empty() {
        eprintln!("(no feeds; add one with `patchwatch feeds add`)");
    }
    Ok(())
}
