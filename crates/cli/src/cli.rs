//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "patchwatch",
    version,
    about = "Patch-status and vulnerability monitor for Linux fleets"
)]
pub struct Cli {
    /// Database: `sqlite:PATH` (default `sqlite:patchwatch.sqlite` in the
    /// current directory) or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "PATCHWATCH_DATABASE")]
    pub database: Option<String>,

    /// TOML configuration file.
    #[arg(long, global = true, env = "PATCHWATCH_CONFIG")]
    pub config: Option<PathBuf>,

    /// Print JSON instead of a table.
    #[arg(long, global = true, conflicts_with = "csv")]
    pub json: bool,

    /// Print CSV instead of a table.
    #[arg(long, global = true)]
    pub csv: bool,

    /// More log output (-v debug, -vv trace); PATCHWATCH_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Sites (host groups) and their ingest tokens.
    #[command(subcommand)]
    Sites(SitesCommand),
    /// API tokens for reading, and extra ingest tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Hosts, their packages and their history.
    #[command(subcommand)]
    Hosts(HostsCommand),
    /// Delete reports older than N days (a host's latest report is always
    /// kept), then package sets and packages nothing uses any more.
    Prune {
        #[arg(long, value_name = "N")]
        older_than_days: u32,
    },
    /// Compare package versions the way dpkg, rpm, apk or pacman do.
    Vercmp(VercmpArgs),
    /// Benchmarks of the hot paths.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PATCHWATCH_LISTEN")]
    pub listen: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// Create a site; its ingest token is printed as the last line.
    Add { name: String },
    /// List sites with their host counts.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token: an API (read) token, or with --site an ingest token
    /// for that site. The token is printed as the last line, once.
    Add {
        name: String,
        #[arg(long)]
        site: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

#[derive(Debug, Args, Default)]
pub struct HostFilterArgs {
    /// Only hosts of this site.
    #[arg(long)]
    pub site: Option<String>,
    /// Only this OS: `debian` or `debian 12`.
    #[arg(long)]
    pub os: Option<String>,
    /// Only hosts with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only hostnames ending in one of these comma-separated suffixes: `.cz,.de`.
    #[arg(long, value_delimiter = ',')]
    pub domain: Vec<String>,
    /// Only hosts that have not reported for at least N days.
    #[arg(long, value_name = "N")]
    pub not_seen_days: Option<u32>,
    /// Show at most this many hosts.
    #[arg(long)]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// List hosts.
    List(HostFilterArgs),
    /// A host and its installed packages.
    Show(HostRefArgs),
    /// A host's reports, with what changed between consecutive ones.
    History {
        #[command(flatten)]
        host: HostRefArgs,
        /// Show at most this many reports.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Packages that differ between two hosts.
    Diff {
        a: String,
        b: String,
        /// Site of both hosts, when a hostname exists in several sites.
        #[arg(long)]
        site: Option<String>,
    },
    /// Delete a host and its history.
    Delete(HostRefArgs),
}

#[derive(Debug, Args)]
pub struct HostRefArgs {
    /// Hostname or numeric host id.
    pub host: String,
    /// The host's site, when the hostname exists in several sites.
    #[arg(long)]
    pub site: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VersionType {
    Deb,
    Rpm,
    Apk,
    Pacman,
}

#[derive(Debug, Args)]
pub struct VercmpArgs {
    /// Which package manager's ordering.
    #[arg(long = "type", value_enum)]
    pub kind: VersionType,
    /// First version; with B, prints `<`, `=` or `>`. Without both, reads
    /// `A B` lines from standard input and prints one result a line.
    pub a: Option<String>,
    pub b: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load-test report ingest over loopback HTTP with a synthetic fleet
    /// built from the real inventories in ../shared/data/hosts.
    Ingest(BenchIngestArgs),
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Distinct hosts in the fleet.
    #[arg(long, default_value_t = 10_000)]
    pub hosts: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Hosts in a thousand whose packages differ from their image.
    #[arg(long, default_value_t = 300)]
    pub drift: u32,
    /// Send bodies uncompressed (the client gzips by default).
    #[arg(long)]
    pub no_gzip: bool,
    /// How many times the unchanged round is repeated.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Which client's wire format to send (foreign formats are sent
    /// uncompressed, as those clients do).
    #[arg(long, value_enum, default_value_t = BenchProtocol::Native)]
    pub protocol: BenchProtocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchProtocol {
    Native,
    Pakiti5,
    Pakiti4,
    Patchman1,
    Patchman2,
}
