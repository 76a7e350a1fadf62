//! One module a command.

mod bench;
mod bench_assess;
mod contacts;
mod exceptions;
mod feed_sync;
mod feeds;
mod hosts;
mod serve;
mod sites;
mod tags;
mod users;
mod vercmp;
mod vulns;

use std::process::ExitCode;
use std::sync::Arc;

use patchwatch_store::Database;

use crate::cli::{Cli, Command};
use crate::config::{Config, DEFAULT_DATABASE};
use crate::database::Location;
use crate::output::Format;

/// What every command gets: the configuration and how to print.
pub struct Context {
    pub config: Config,
    pub location: Location,
    pub format: Format,
}

impl Context {
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Database>> {
        self.location.open().await
    }
}

/// Who a tag assignment or an exception is recorded as by default.
pub fn default_author() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    let url = cli
        .database
        .clone()
        .or_else(|| config.database.clone())
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    let format = if cli.json {
        Format::Json
    } else if cli.csv {
        Format::Csv
    } else {
        Format::Table
    };
    let ctx = Context {
        location: Location::parse(&url)?,
        config,
        format,
    };
    match cli.command {
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Sites(cmd) => sites::sites(ctx, cmd).await,
        Command::Tokens(cmd) => sites::tokens(ctx, cmd).await,
        Command::Users(cmd) => users::users(ctx, cmd).await,
        Command::Groups(cmd) => users::groups(ctx, cmd).await,
        Command::Hosts(cmd) => hosts::run(ctx, cmd).await,
        Command::Prune { older_than_days } => {
            let db = ctx.open().await?;
            let before = patchwatch_store::now_millis() - i64::from(older_than_days) * 86_400_000;
            let stats = db.prune(before).await?;
            if ctx.format == Format::Json {
                crate::output::print_json(&stats)?;
            } else {
                println!(
                    "Deleted {} reports, {} package sets and {} packages no longer used.",
                    stats.reports, stats.package_sets, stats.packages
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Vercmp(args) => vercmp::run(args),
        Command::Bench(cmd) => bench::run(ctx, cmd).await,
        Command::Feeds(cmd) => feeds::run(ctx, cmd).await,
        Command::Cves(cmd) => vulns::cves(ctx, cmd).await,
        Command::Tags(cmd) => tags::run(ctx, cmd).await,
        Command::Exceptions(cmd) => exceptions::run(ctx, cmd).await,
    }
}
