//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::cli_repos::{HostUpdatesArgs, PackagesCommand, ReposCommand, UpdatesCommand};

#[derive(Debug, Parser)]
#[command(
    name = "patchwatch",
    version,
    about = "Patch-status and vulnerability monitor for Linux fleets"
)]
pub struct Cli {
    /// Database: `sqlite:PATH` or `postgres://USER@HOST/DB`. Default: the
    /// configuration file's `database`, else
    /// `~/.local/share/patchwatch/patchwatch.sqlite`
    /// (`/var/lib/patchwatch/patchwatch.sqlite` for root;
    /// `$XDG_DATA_HOME/patchwatch/...` when set).
    #[arg(long, global = true, env = "PATCHWATCH_DATABASE")]
    pub database: Option<String>,

    /// TOML configuration file (default: `~/.config/patchwatch/patchwatch.toml`
    /// if it exists, else `/etc/patchwatch/patchwatch.toml` if it exists).
    #[arg(long, global = true, env = "PATCHWATCH_CONFIG")]
    pub config: Option<PathBuf>,

    /// Print JSON instead of a table.
    #[arg(long, global = true, conflicts_with = "csv")]
    pub json: bool,

    /// Print CSV instead of a table.
    #[arg(long, global = true)]
    pub csv: bool,

    /// More log output (-v info, -vv debug, -vvv trace; `serve` logs info
    /// by default); PATCHWATCH_LOG (`warn`, `patchwatch_server=debug`, ...)
    /// overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log lines as text, or as one JSON object a line (for log shippers).
    #[arg(long, global = true, value_enum, env = "PATCHWATCH_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (creates the database when absent).
    Serve(ServeArgs),
    /// Create the database (or bring its schema up to date) and say where
    /// it is. Other commands never create one.
    Init,
    /// Check the installation: database, migrations, feeds, TLS files,
    /// clock. Exits with 1 when a check fails.
    Doctor(DoctorArgs),
    /// Sites (host groups) and their ingest tokens.
    #[command(subcommand)]
    Sites(SitesCommand),
    /// API tokens (read or triage, scoped to a user, a site or a site
    /// group), and extra ingest tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Users and their roles (admin, auditor, viewer, triager).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Site groups (an NGI: a group of sites, nesting one level).
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Hosts, their packages and their history.
    #[command(subcommand)]
    Hosts(HostsCommand),
    /// Delete reports older than N days (a host's latest report is always
    /// kept), then package sets and packages nothing uses any more.
    Prune {
        #[arg(long, value_name = "N")]
        older_than_days: u32,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Compare package versions the way dpkg, rpm, apk or pacman do.
    Vercmp(VercmpArgs),
    /// Benchmarks of the hot paths.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Vulnerability feeds: add, import a file, sync from URLs, list, the
    /// vendor catalogue.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// CVEs the fleet is exposed to, from the current feed generations.
    #[command(subcommand)]
    Cves(CvesCommand),
    /// CVE tags (as in Pakiti): list, add, enable, disable, remove, and
    /// attach CVEs to them.
    #[command(subcommand)]
    Tags(TagsCommand),
    /// Exceptions: a CVE that does not count for one installed package
    /// version on an OS group or a site.
    #[command(subcommand)]
    Exceptions(ExceptionsCommand),
    /// Package repositories hosts install from: add, import an index from
    /// files, list, show, enable, disable, remove.
    #[command(subcommand)]
    Repos(ReposCommand),
    /// Pending updates across the fleet, from the repositories' indexes.
    #[command(subcommand)]
    Updates(UpdatesCommand),
    /// One package across the fleet: versions, pending updates, hosts
    /// lacking it.
    #[command(subcommand)]
    Packages(PackagesCommand),
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// A feed whose last successful import or sync is older than this
    /// many hours is reported as stale.
    #[arg(long, default_value_t = 48, value_name = "HOURS")]
    pub max_feed_age_hours: u32,
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
    /// Create a token, printed as the last line, once. With only --site:
    /// an ingest token for that site. Otherwise an API token: --access
    /// read (default) or triage, on --site, --group or --user (that user's
    /// roles, capped by --access), or with none of them on every site.
    Add {
        name: String,
        #[arg(long)]
        site: Option<String>,
        #[arg(long, value_parser = ["read", "triage"])]
        access: Option<String>,
        #[arg(long, conflicts_with_all = ["site", "user"])]
        group: Option<String>,
        #[arg(long, conflicts_with = "site")]
        user: Option<String>,
    },
    /// List tokens (never their secrets) with their last use (to the
    /// minute) and state: active, or revoked (when, by whom).
    List,
    /// Revoke a token by name: it never works again and stays listed as
    /// revoked. Revoking it again changes nothing.
    Revoke { name: String },
    /// Delete a revoked token, freeing its name.
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a local user with no roles; the first admin is made this way
    /// (`users add NAME --password-stdin`, then `users grant NAME admin`).
    Add {
        name: String,
        /// Read the password (at least 12 characters) from the first line
        /// of standard input; without it the user can only log in via SSO.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Users with their roles.
    List,
    /// Delete a user, their roles and their tokens.
    Remove { name: String },
    /// Set a user's password from the first line of standard input.
    Passwd {
        name: String,
        /// Remove the password instead (SSO only).
        #[arg(long)]
        clear: bool,
    },
    /// Grant a role: admin or auditor (everywhere), viewer or triager
    /// (on --site or --group).
    Grant(GrantArgs),
    /// Take a role back (the same arguments as grant).
    Revoke(GrantArgs),
    /// Import site contacts (GOCDB-style) from JSON (`[{"name", "role",
    /// "site" or "group"}]`) or CSV (header `name,role,site,group`):
    /// users are created without passwords (they log in via SSO) and
    /// granted their role; GOCDB roles map to viewer (administrators) and
    /// triager (security officers). Nothing is written if a row is wrong.
    Import { file: std::path::PathBuf },
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    pub name: String,
    #[arg(value_parser = ["admin", "auditor", "viewer", "triager"])]
    pub role: String,
    #[arg(long, conflicts_with = "group")]
    pub site: Option<String>,
    #[arg(long)]
    pub group: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Create a site group, optionally inside a top-level group.
    Add {
        name: String,
        #[arg(long)]
        parent: Option<String>,
    },
    /// Groups with their parent and member sites.
    List,
    /// Delete a group, its child groups and the roles and tokens on them.
    Remove { name: String },
    /// Put sites in a group.
    AddSite { group: String, sites: Vec<String> },
    /// Take sites out of a group.
    RemoveSite { group: String, sites: Vec<String> },
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
    /// Add each host's pending update and security update counts (from
    /// the imported repositories, see `repos`).
    #[arg(long)]
    pub updates: bool,
    /// Only hosts with security updates pending (implies --updates).
    #[arg(long)]
    pub with_security_updates: bool,
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
        /// A hostname, or `id:N`.
        a: String,
        /// A hostname, or `id:N`.
        b: String,
        /// Site of both hosts, when a hostname exists in several sites.
        #[arg(long)]
        site: Option<String>,
    },
    /// Delete a host and its history.
    Delete {
        #[command(flatten)]
        host: HostRefArgs,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// The vulnerabilities a host is exposed to, with the rule for each.
    Vulns(HostVulnsArgs),
    /// The updates a host's package manager would install from its
    /// repositories (`repos`), security updates flagged.
    Updates(HostUpdatesArgs),
}

#[derive(Debug, Args)]
pub struct HostRefArgs {
    /// A hostname (a bare number is a hostname too), or `id:N` for the host
    /// with id N (as `hosts list --json` shows it).
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
    /// Assess a synthetic fleet against the real AlmaLinux OSV database,
    /// then re-assess it after feed changes, as the server does.
    Assess(BenchAssessArgs),
    /// Request every web UI page many times over a synthetic fleet in
    /// SQLite, as an administrator, and print p50/p95 per page.
    Web(BenchWebArgs),
    /// Compute the pending updates of a synthetic fleet from the real
    /// bookworm suites, then again after the security suite changes
    /// (kept results, only the groups using it), as the server does.
    Updates(BenchUpdatesArgs),
}

#[derive(Debug, Args)]
pub struct BenchWebArgs {
    /// Distinct hosts in the fleet.
    #[arg(long, default_value_t = 100_000)]
    pub hosts: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 20)]
    pub requests: usize,
    /// Stop requesting a page after this many seconds (at least three
    /// requests are made); the output says how many were.
    #[arg(long, default_value_t = 15)]
    pub max_seconds_per_page: u64,
    /// Hosts in a thousand whose packages differ from their image.
    #[arg(long, default_value_t = 300)]
    pub drift: u32,
    /// Stored reports written at once while the fleet is loaded.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Another page to request (a path such as `/packages/bash`); repeat
    /// for more.
    #[arg(long)]
    pub url: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BenchUpdatesArgs {
    /// Distinct hosts in the fleet (nine in ten Debian 12, one in ten RHEL 9).
    #[arg(long, default_value_t = 10_000)]
    pub hosts: usize,
    /// Hosts in a thousand whose packages differ from their image.
    #[arg(long, default_value_t = 300)]
    pub drift: u32,
    /// Stored reports written at once while the fleet is loaded.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Times each step is run; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Debug, Args)]
pub struct BenchAssessArgs {
    /// Distinct hosts in the fleet.
    #[arg(long, default_value_t = 100_000)]
    pub hosts: usize,
    /// Hosts in a thousand whose packages differ from their image.
    #[arg(long, default_value_t = 300)]
    pub drift: u32,
    /// Stored reports written at once while the fleet is loaded.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
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

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Register a feed (nothing is imported yet).
    Add {
        name: String,
        /// Document format: osv, debian-tracker, debian-dsa, debian-dla,
        /// alpine-secdb, oval (an OVAL 5 definitions document, evaluated
        /// against each host), ubuntu-tracker (a tar of Ubuntu CVE Tracker
        /// files).
        #[arg(long)]
        kind: String,
        /// The file (or URL) the feed's documents come from.
        #[arg(long)]
        source: String,
        /// Which distribution releases the feed covers (a note).
        #[arg(long, default_value = "")]
        releases: String,
    },
    /// Feeds with their current generation.
    List,
    /// Import a document as the feed's new current generation. It is
    /// parsed completely first; a broken file is refused and the current
    /// generation stays. `feeds import NAME [FILE]` (FILE defaults to the
    /// feed's source), or `feeds import --kind KIND FILE` to create the
    /// feed, named after the file, when it does not exist.
    Import {
        /// Feed name (or, with --kind and no FILE, the file).
        name: String,
        file: Option<PathBuf>,
        /// Create the feed with this kind when it does not exist: osv,
        /// debian-tracker, debian-dsa, debian-dla, alpine-secdb, oval,
        /// ubuntu-tracker.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Delete a feed and its generations.
    Remove { name: String },
    /// Download feeds and import what changed. Without names: every
    /// enabled feed whose source is a URL. Conditional requests (ETag,
    /// Last-Modified) skip unchanged documents; a failed or truncated
    /// download is recorded and the current generation stays. Proxies
    /// come from HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY.
    Sync {
        names: Vec<String>,
        /// Refuse documents larger than this many bytes.
        #[arg(long, default_value_t = patchwatch_vulndb::sync::DEFAULT_MAX_BYTES)]
        max_bytes: u64,
    },
    /// The built-in catalogue of official vendor feeds (none is
    /// downloaded until enabled with `feeds enable ID`).
    Catalogue,
    /// Enable a feed: a catalogue ID adds it as a feed (named ID, or
    /// --name), a feed's name re-enables it.
    Enable {
        /// Catalogue ID or feed name.
        id: String,
        /// Name of the feed added from the catalogue.
        #[arg(long)]
        name: Option<String>,
    },
    /// Disable a feed: it is neither synced nor assessed; its generations
    /// are kept.
    Disable { name: String },
}

/// Severity levels, lowest first; a filter keeps this level and above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

/// Fix states as printed in the STATE column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    FixAvailable,
    AffectedNoFix,
    NoAdvisory,
    Deferred,
    WillNotFix,
    UnderInvestigation,
    EndOfLife,
}

#[derive(Debug, Args)]
pub struct HostVulnsArgs {
    #[command(flatten)]
    pub host: HostRefArgs,
    /// Only findings of this severity or higher.
    #[arg(long, value_enum)]
    pub severity: Option<SeverityArg>,
    /// Only findings in this fix state.
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// Only findings whose CVE carries this (enabled) tag.
    #[arg(long)]
    pub tag: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CvesCommand {
    /// CVEs affecting at least one host, with host counts.
    List {
        /// Only CVEs of this severity or higher.
        #[arg(long, value_enum)]
        severity: Option<SeverityArg>,
        /// Only hosts of this site.
        #[arg(long)]
        site: Option<String>,
        /// Only CVEs carrying this (enabled) tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// Which hosts a CVE affects, through which packages, fixed where.
    Show {
        cve: String,
        /// Only hosts of this site.
        #[arg(long)]
        site: Option<String>,
        /// Only findings carrying this (enabled) tag.
        #[arg(long)]
        tag: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TagsCommand {
    /// Tags with their state and how many CVEs are attached by hand, or
    /// with --assignments every CVE attached to a tag.
    List {
        #[arg(long)]
        assignments: bool,
    },
    /// Create a tag.
    Add {
        name: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Enable a tag.
    Enable { name: String },
    /// Disable a tag: it keeps its CVEs but tags nothing.
    Disable { name: String },
    /// Delete a tag and its CVE assignments.
    Remove { name: String },
    /// Attach a CVE to a tag.
    Assign {
        cve: String,
        tag: String,
        #[arg(long, default_value = "")]
        reason: String,
        /// Who decided (default: $USER).
        #[arg(long)]
        author: Option<String>,
    },
    /// Detach a CVE from a tag.
    Unassign { cve: String, tag: String },
}

#[derive(Debug, Subcommand)]
pub enum ExceptionsCommand {
    /// Every exception, expired ones marked.
    List,
    /// Except a CVE for one installed package version on an OS group
    /// (`debian 12`, an admin group name) or a site.
    #[command(group(clap::ArgGroup::new("scope").required(true).args(["os_group", "site"])))]
    Add {
        #[arg(long)]
        cve: String,
        /// Installed package name (binary, or the advisory's source name).
        #[arg(long)]
        package: String,
        /// The exact installed version (`1:3.2.2-6.el9_5`).
        #[arg(long)]
        version: String,
        #[arg(long)]
        os_group: Option<String>,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        reason: String,
        /// Who decided (default: $USER).
        #[arg(long)]
        author: Option<String>,
        /// Last day it holds (`2027-01-31`, UTC) or an RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Delete an exception by id.
    Remove { id: i64 },
}
