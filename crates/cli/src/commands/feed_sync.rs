//! `patchwatch feeds sync | catalogue | enable | disable`: downloading
//! feeds, and the built-in catalogue of vendor feeds they come from.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use patchwatch_store::{Database, Feed, NewFeed};
use patchwatch_vulndb::catalogue::{self, CATALOGUE};
use patchwatch_vulndb::sync::syncs_by_default;
use patchwatch_vulndb::{Progress, SyncOptions, SyncOutcome, Syncer};
use serde_json::json;

use super::Context;
use crate::output::{Format, Table, print_json};

pub async fn sync(
    ctx: &Context,
    db: &Arc<dyn Database>,
    names: Vec<String>,
    max_bytes: u64,
) -> anyhow::Result<ExitCode> {
    let feeds: Vec<Feed> =
        if names.is_empty() {
            let feeds: Vec<Feed> = db
                .feeds()
                .await?
                .into_iter()
                .filter(syncs_by_default)
                .collect();
            if feeds.is_empty() && ctx.format == Format::Table {
                eprintln!(
                    "No enabled feed has a URL source: see `patchwatch feeds catalogue` \
                 and `patchwatch feeds enable ID`, or name a feed to sync."
                );
            }
            feeds
        } else {
            let mut feeds = Vec::new();
            for name in &names {
                feeds.push(db.feed(name).await?.ok_or_else(|| {
                    anyhow!("no feed named {name:?}; see `patchwatch feeds list`")
                })?);
            }
            feeds
        };
    let syncer = Syncer::new(SyncOptions {
        max_bytes,
        ..SyncOptions::default()
    })?;
    // A bar only for a person watching: never in a log or a pipe.
    let bars = ctx.format == Format::Table && std::io::stderr().is_terminal();
    let mut results = Vec::new();
    let mut failed = 0;
    for feed in feeds {
        let bar = bars.then(|| {
            let bar = ProgressBar::new_spinner().with_prefix(feed.name.clone());
            bar.set_style(
                ProgressStyle::with_template("{prefix} {spinner} {bytes} {bytes_per_sec}")
                    .expect("valid template"),
            );
            bar
        });
        let on_progress = |p: Progress| {
            let Some(bar) = &bar else { return };
            if let Some(total) = p.total
                && bar.length() != Some(total)
            {
                bar.set_length(total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
            }
            bar.set_position(p.bytes);
        };
        let result = syncer.sync(&**db, &feed, &on_progress).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let value = match &result {
            Ok(outcome) => {
                let mut v = serde_json::to_value(outcome)?;
                v["feed"] = json!(feed.name);
                v
            }
            Err(e) => {
                failed += 1;
                json!({"feed": feed.name, "outcome": "failed", "error": e.to_string()})
            }
        };
        if ctx.format == Format::Json {
            results.push(value);
        } else {
            println!("{}", result_line(&feed, &result));
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

fn result_line(feed: &Feed, result: &Result<SyncOutcome, patchwatch_vulndb::SyncError>) -> String {
    let name = &feed.name;
    match result {
        Ok(SyncOutcome::Imported {
            generation,
            previous,
        }) => {
            let replacing = match previous {
                Some(_) => format!(", replacing generation {}", generation.number - 1),
                None => String::new(),
            };
            format!(
                "Feed {name}: imported generation {} ({} advisories, {} bytes){replacing}.",
                generation.number, generation.advisories, generation.size
            )
        }
        Ok(SyncOutcome::Unchanged { generation }) => format!(
            "Feed {name}: unchanged (the document of generation {}); nothing imported.",
            generation.number
        ),
        Ok(SyncOutcome::NotModified) => {
            format!("Feed {name}: not modified since the last sync.")
        }
        Err(e) => {
            let keeps = match &feed.current {
                Some(g) => format!("generation {} stays current", g.number),
                None => "nothing imported".to_owned(),
            };
            format!("Feed {name}: FAILED: {e}; {keeps}.")
        }
    }
}

pub async fn catalogue(ctx: &Context, db: &Arc<dyn Database>) -> anyhow::Result<()> {
    let feeds = db.feeds().await?;
    // An entry counts as added when a feed downloads its URL, whatever
    // the feed is called.
    let added = |url: &str| feeds.iter().find(|f| f.source == url);
    if ctx.format == Format::Json {
        let entries: Vec<_> = CATALOGUE
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).expect("serialisable");
                v["feed"] = json!(added(e.url).map(|f| &f.name));
                v
            })
            .collect();
        return print_json(&entries);
    }
    let mut t = Table::new(vec!["ID", "KIND", "RELEASES", "FEED", "URL"]);
    for e in CATALOGUE {
        t.row(vec![
            e.id.to_owned(),
            e.kind.to_string(),
            e.releases.to_owned(),
            added(e.url).map_or_else(|| "-".to_owned(), |f| f.name.clone()),
            e.url.to_owned(),
        ]);
    }
    t.print(ctx.format)?;
    if ctx.format == Format::Table {
        eprintln!(
            "(FEED: the feed that downloads it; add one with `patchwatch feeds enable ID`, \
             then `patchwatch feeds sync`)"
        );
    }
    Ok(())
}

pub async fn enable(
    ctx: &Context,
    db: &Arc<dyn Database>,
    id: String,
    name: Option<String>,
) -> anyhow::Result<()> {
    // A feed's own name (re-enabling it) wins over a catalogue id, unless
    // a new name asks for a feed from the catalogue.
    if name.is_none() && db.set_feed_enabled(&id, true).await? {
        let feed = db
            .feed(&id)
            .await?
            .ok_or_else(|| anyhow!("feed {id:?} vanished"))?;
        if ctx.format == Format::Json {
            return print_json(&feed);
        }
        println!("Enabled feed {id}.");
        return Ok(());
    }
    let Some(entry) = catalogue::entry(&id) else {
        bail!(
            "no feed or catalogue entry named {id:?}; see `patchwatch feeds list` \
             and `patchwatch feeds catalogue`"
        );
    };
    if let Some(existing) = db
        .feeds()
        .await?
        .into_iter()
        .find(|f| f.source == entry.url)
    {
        bail!(
            "catalogue entry {id} is already feed {:?}; enable that with \
             `patchwatch feeds enable {}`",
            existing.name,
            existing.name
        );
    }
    let feed = db
        .add_feed(&NewFeed {
            name: name.unwrap_or_else(|| entry.id.to_owned()),
            kind: entry.kind,
            source: entry.url.to_owned(),
            releases: entry.releases.to_owned(),
        })
        .await?;
    if ctx.format == Format::Json {
        return print_json(&feed);
    }
    println!(
        "Added feed {} ({}) from {}; download it with `patchwatch feeds sync {}`.",
        feed.name, feed.kind, feed.source, feed.name
    );
    Ok(())
}

pub async fn disable(db: &Arc<dyn Database>, name: &str) -> anyhow::Result<()> {
    if !db.set_feed_enabled(name, false).await? {
        bail!("no feed named {name:?}; see `patchwatch feeds list`");
    }
    println!("Disabled feed {name}: it is no longer synced or assessed (its generations stay).");
    Ok(())
}
