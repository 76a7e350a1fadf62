//! `patchwatch feeds ...`: feeds and their generations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use patchwatch_store::{Database, Feed, FeedKind, ImportOutcome, NewFeed};

use super::{Context, feed_sync};
use crate::cli::FeedsCommand;
use crate::output::{Format, Table, ago, print_json, shorten, timestamp};
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

/// The feed named after `file` (see [`feed_name_for`]), created with
/// `kind` when absent.
async fn feed_for_file(db: &Arc<dyn Database>, kind: &str, file: &Path) -> anyhow::Result<Feed> {
    let kind = FeedKind::parse(kind)?;
    let name = feed_name_for(file)
        .ok_or_else(|| anyhow!("cannot name a feed after {}", file.display()))?;
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
            generation.number,
            timestamp(generation.imported_at)
        ),
        ImportOutcome::Imported {
            generation,
            previous,
        } => {
            print!(
                "Feed {}: imported generation {} ({} advisories, {} bytes)",
                feed.name, generation.number, generation.advisories, generation.size
            );
            // Numbers count the feed's imports: the one replaced is the one before.
            match previous {
                Some(_) => println!(", replacing generation {}.", generation.number - 1),
                None => println!("."),
            }
        }
    }
    Ok(())
}

async fn list(ctx: &Context, db: &Arc<dyn Database>) -> anyhow::Result<()> {
    let feeds = db.feeds().await?;
    match ctx.format {
        Format::Json => print_json(&feeds),
        Format::Csv => list_csv(&feeds),
        Format::Table => list_table(&feeds),
    }
}

/// Every detail, in full, for scripts.
fn list_csv(feeds: &[Feed]) -> anyhow::Result<()> {
    let mut t = Table::new(vec![
        "NAME",
        "KIND",
        "ENABLED",
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
            f.enabled.to_string(),
            f.source.clone(),
            g.map_or_else(String::new, |g| g.number.to_string()),
            g.map_or_else(String::new, |g| timestamp(g.imported_at)),
            g.map_or_else(String::new, |g| g.advisories.to_string()),
            g.map_or_else(String::new, |g| g.size.to_string()),
            g.map_or_else(String::new, |g| g.sha256.clone()),
            f.generations.to_string(),
            f.sync.synced_at.map_or_else(String::new, timestamp),
            f.sync.error.clone().unwrap_or_default(),
        ]);
    }
    t.print(Format::Csv)
}

/// Widest line of a sync error shown under the table.
const ERROR_LINE: usize = 120;

/// A table that fits a terminal: sync errors go under it, one line each;
/// sources and digests are in `--json` and `--csv`.
fn list_table(feeds: &[Feed]) -> anyhow::Result<()> {
    let mut t = Table::new(vec![
        "NAME",
        "KIND",
        "GEN",
        "IMPORTED",
        "ADVISORIES",
        "SIZE",
        "SYNCED",
    ])
    .when_empty("no feeds; add one with `patchwatch feeds add` or `patchwatch feeds enable`");
    let mut errors = Vec::new();
    for f in feeds {
        let g = f.current.as_ref();
        let synced = match (f.enabled, f.sync.synced_at) {
            (false, _) => "disabled".to_owned(),
            (true, Some(at)) => ago(at),
            (true, None) => "never".to_owned(),
        };
        let synced = match &f.sync.error {
            Some(e) => {
                let room = ERROR_LINE
                    .saturating_sub(f.name.chars().count() + 4)
                    .max(40);
                errors.push(format!("{}: {}", f.name, shorten(e, room)));
                format!("{synced}, failed")
            }
            None => synced,
        };
        t.row(vec![
            f.name.clone(),
            f.kind.to_string(),
            g.map_or_else(|| "-".into(), |g| g.number.to_string()),
            g.map_or_else(|| "never".into(), |g| ago(g.imported_at)),
            g.map_or_else(|| "-".into(), |g| g.advisories.to_string()),
            g.map_or_else(|| "-".into(), |g| human_bytes(g.size)),
            synced,
        ]);
    }
    t.print(Format::Table)?;
    if !errors.is_empty() {
        println!("\nLast sync errors (whole in `patchwatch feeds list --json`):");
        for e in errors {
            println!("  {e}");
        }
    }
    Ok(())
}

/// `512 B`, `3.4 MB`, `1.2 GB` (decimal units, as download sizes are given).
fn human_bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n < 1e3 => format!("{n} B"),
        n if n < 1e6 => format!("{:.1} kB", n / 1e3),
        n if n < 1e9 => format!("{:.1} MB", n / 1e6),
        n => format!("{:.1} GB", n / 1e9),
    }
}

/// A file's name without its format and compression suffixes:
/// `debian-tracker.json.xz` -> `debian-tracker`,
/// `com.ubuntu.noble.cve.oval.xml.bz2` -> `com.ubuntu.noble.cve`
/// (dots inside the name are kept).
fn feed_name_for(file: &Path) -> Option<String> {
    const SUFFIXES: &[&str] = &[
        "gz", "bz2", "xz", "zst", "zstd", "zip", "tgz", "tar", "json", "xml", "yaml", "yml",
        "list", "txt", "oval", "osv",
    ];
    let mut name = file.file_name()?.to_str()?;
    while let Some((stem, ext)) = name.rsplit_once('.') {
        if stem.is_empty() || !SUFFIXES.contains(&ext.to_ascii_lowercase().as_str()) {
            break;
        }
        name = stem;
    }
    let name = name.trim();
    (!name.is_empty()
        && !name.starts_with('.')
        && patchwatch_store::validate_feed_name(name).is_ok())
    .then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_are_named_after_the_whole_file_name() {
        let name = |f: &str| feed_name_for(Path::new(f));
        assert_eq!(
            name("/srv/debian-tracker.json").as_deref(),
            Some("debian-tracker")
        );
        assert_eq!(
            name("osv.debian-tracker.json.xz").as_deref(),
            Some("osv.debian-tracker")
        );
        assert_eq!(
            name("com.ubuntu.noble.cve.oval.xml.bz2").as_deref(),
            Some("com.ubuntu.noble.cve")
        );
        assert_eq!(
            name("osv.dev_DLA-3623-1.osv.json").as_deref(),
            Some("osv.dev_DLA-3623-1")
        );
        assert_eq!(
            name("AlmaLinux-osv-database-advisories.tar.xz").as_deref(),
            Some("AlmaLinux-osv-database-advisories")
        );
        assert_eq!(name(".json"), None);
        assert_eq!(name("/"), None);
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3_400_000), "3.4 MB");
    }
}
