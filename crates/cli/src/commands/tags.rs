//! `patchwatch tags ...`: CVE tags and the CVEs attached to them.

use std::process::ExitCode;

use patchwatch_store::{CveTag, NewAssignment};

use super::{Context, default_author};
use crate::cli::TagsCommand;
use crate::output::{Format, Table, print_json, timestamp};

pub async fn run(ctx: Context, cmd: TagsCommand) -> anyhow::Result<ExitCode> {
    let db = ctx.open().await?;
    match cmd {
        TagsCommand::List { assignments: false } => {
            let tags = db.tags().await?;
            if ctx.format == Format::Json {
                print_json(&tags)?;
            } else {
                let mut t = Table::new(vec!["TAG", "ENABLED", "CVES", "CREATED", "REASON"])
                    .when_empty("no tags");
                for tag in &tags {
                    t.row(vec![
                        tag.name.clone(),
                        if tag.enabled { "yes" } else { "no" }.into(),
                        tag.cves.to_string(),
                        timestamp(tag.created_at),
                        tag.reason.clone(),
                    ]);
                }
                t.print(ctx.format)?;
                if ctx.format == Format::Table {
                    eprintln!(
                        "Findings of severity critical / high also carry Critical / High \
                         while those tags are enabled."
                    );
                }
            }
        }
        TagsCommand::List { assignments: true } => {
            let list = db.tag_assignments().await?;
            if ctx.format == Format::Json {
                print_json(&list)?;
            } else {
                let mut t = Table::new(vec!["CVE", "TAG", "AUTHOR", "CREATED", "REASON"])
                    .when_empty("no CVE is attached to a tag");
                for a in &list {
                    t.row(vec![
                        a.cve.clone(),
                        a.tag.clone(),
                        a.author.clone(),
                        timestamp(a.created_at),
                        a.reason.clone(),
                    ]);
                }
                t.print(ctx.format)?;
            }
        }
        TagsCommand::Add { name, reason } => {
            let tag = db.add_tag(&name, &reason).await?;
            done(&ctx, &tag, &format!("Added tag {}.", tag.name))?;
        }
        TagsCommand::Enable { name } => {
            let tag = db.set_tag_enabled(&name, true).await?;
            done(&ctx, &tag, &format!("Enabled tag {}.", tag.name))?;
        }
        TagsCommand::Disable { name } => {
            let tag = db.set_tag_enabled(&name, false).await?;
            done(
                &ctx,
                &tag,
                &format!(
                    "Disabled tag {}; its {} CVE assignments are kept.",
                    tag.name, tag.cves
                ),
            )?;
        }
        TagsCommand::Remove { name } => {
            db.remove_tag(&name).await?;
            if ctx.format == Format::Json {
                print_json(&serde_json::json!({ "removed": name }))?;
            } else {
                println!("Removed tag {name} and its CVE assignments.");
            }
        }
        TagsCommand::Assign {
            cve,
            tag,
            reason,
            author,
        } => {
            let a = db
                .assign_tag(&NewAssignment {
                    cve,
                    tag,
                    reason,
                    author: author.unwrap_or_else(default_author),
                })
                .await?;
            if ctx.format == Format::Json {
                print_json(&a)?;
            } else {
                println!("Tagged {} {}.", a.cve, a.tag);
            }
        }
        TagsCommand::Unassign { cve, tag } => {
            db.unassign_tag(&cve, &tag).await?;
            if ctx.format == Format::Json {
                print_json(&serde_json::json!({ "cve": cve, "tag": tag, "removed": true }))?;
            } else {
                println!("{cve} no longer tagged {tag}.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn done(ctx: &Context, tag: &CveTag, text: &str) -> anyhow::Result<()> {
    if ctx.format == Format::Json {
        print_json(tag)
    } else {
        println!("{text}");
        Ok(())
    }
}
