//! One module a command.

mod bench;
mod bench_assess;
mod bench_updates;
mod bench_web;
mod contacts;
mod doctor;
mod exceptions;
mod feed_sync;
mod feeds;
mod hosts;
mod init;
mod repos;
mod serve;
mod sites;
mod tags;
mod updates;
mod users;
mod vercmp;
mod vulns;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use patchwatch_store::Database;

use crate::cli::{Cli, Command};
use crate::config::{Config, Environment};
use crate::database::Location;
use crate::output::Format;

/// What every command gets: the configuration and how to print.
pub struct Context {
    pub config: Config,
    /// The configuration file read, if any.
    pub config_path: Option<std::path::PathBuf>,
    pub location: Location,
    /// Where `location` came from, for messages.
    pub location_source: String,
    /// `--database` / PATCHWATCH_DATABASE, when given.
    pub cli_database: Option<String>,
    pub format: Format,
}

impl Context {
    /// Opens the database; only `serve` and `init` may create one, so a
    /// command run with the wrong settings says so instead of showing an
    /// empty fleet.
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Database>> {
        if let Location::Sqlite(path) = &self.location
            && !path.exists()
        {
            anyhow::bail!(
                "no Patchwatch database at {} ({}); create it with `patchwatch init` \
                 (or start `patchwatch serve`), or name another with --database, \
                 PATCHWATCH_DATABASE or `database =` in the configuration file",
                self.location.display(),
                self.location_source
            );
        }
        tracing::info!(database = %self.location.display(), source = %self.location_source, "opening the database");
        self.location.open().await
    }

    /// Opens the database, creating it (and its directory) when absent.
    pub async fn open_or_create(&self) -> anyhow::Result<Arc<dyn Database>> {
        if let Location::Sqlite(path) = &self.location
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the directory {}", dir.display()))?;
        }
        self.location.open().await
    }
}

/// Who a tag assignment or an exception is recorded as by default.
pub fn default_author() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Asks on the terminal before something is deleted; `--yes` answers for
/// scripts, which must give it (there is nobody to ask).
pub fn confirm(yes: bool, question: &str) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "{question} Standard input is not a terminal, so nobody can confirm: \
             pass --yes to go ahead"
        );
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => anyhow::bail!("cancelled; nothing was deleted"),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let env = Environment::current();
    let (config, config_path) = Config::find(cli.config.as_deref(), &env)?;
    let (url, location_source) = match (&cli.database, &config.database, &config_path) {
        (Some(url), _, _) => (
            url.clone(),
            "from --database or PATCHWATCH_DATABASE".to_owned(),
        ),
        (None, Some(url), Some(path)) => (url.clone(), format!("from {}", path.display())),
        _ => (
            format!("sqlite:{}", env.default_database()?.display()),
            "the default for this user".to_owned(),
        ),
    };
    tracing::debug!(database = %url, source = %location_source, "database");
    let format = if cli.json {
        Format::Json
    } else if cli.csv {
        Format::Csv
    } else {
        Format::Table
    };
    let ctx = Context {
        location: Location::parse(&url)?,
        location_source,
        cli_database: cli.database.clone(),
        config,
        config_path,
        format,
    };
    match cli.command {
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Init => init::run(ctx).await,
        Command::Doctor(args) => doctor::run(ctx, args).await,
        Command::Sites(cmd) => sites::sites(ctx, cmd).await,
        Command::Tokens(cmd) => sites::tokens(ctx, cmd).await,
        Command::Users(cmd) => users::users(ctx, cmd).await,
        Command::Groups(cmd) => users::groups(ctx, cmd).await,
        Command::Hosts(cmd) => hosts::run(ctx, cmd).await,
        Command::Prune {
            older_than_days,
            yes,
        } => {
            let db = ctx.open().await?;
            let before = patchwatch_store::now_millis() - i64::from(older_than_days) * 86_400_000;
            confirm(
                yes,
                &format!(
                    "Delete every report received before {} (a host's latest is kept) from {}?",
                    crate::output::timestamp(before),
                    ctx.location.display()
                ),
            )?;
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
        Command::Repos(cmd) => repos::run(ctx, cmd).await,
        Command::Updates(cmd) => updates::fleet(ctx, cmd).await,
        Command::Packages(cmd) => updates::package(ctx, cmd).await,
    }
}
