//! The command line of `repos`, `hosts updates` and `updates` (issue 9).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ReposCommand {
    /// Configure a repository (its index is read by `repos import`).
    Add(RepoAddArgs),
    /// Repositories with their current snapshot.
    List,
    /// One repository: its settings, current snapshot and last sync.
    Show { name: String },
    /// Read a repository's index from files (offline sites) and make it
    /// the current snapshot if it parses completely: an apt `dists/SUITE`
    /// directory, its InRelease/Release, or apt's `lists/` directory; an
    /// rpm-md directory (holding `repodata/`); an `APKINDEX.tar.gz`.
    Import {
        name: String,
        /// Where the files are (default: the repository's source).
        path: Option<PathBuf>,
    },
    /// Download repositories' indexes over HTTP (conditional requests,
    /// proxies from the environment, a size cap) and import them; without
    /// NAMEs, every enabled repository with an http(s) source.
    Sync {
        names: Vec<String>,
        /// Largest file downloaded, in bytes.
        #[arg(long, default_value_t = patchwatch_vulndb::sync::DEFAULT_MAX_BYTES)]
        max_bytes: u64,
    },
    /// Delete a repository and its snapshots.
    Remove {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Use the repository for updates again.
    Enable { name: String },
    /// Stop using the repository for updates (its snapshots stay).
    Disable { name: String },
}

#[derive(Debug, Args)]
pub struct RepoAddArgs {
    pub name: String,
    /// `apt`, `rpm-md` or `apk`.
    #[arg(long)]
    pub kind: String,
    /// The repository's URL (as hosts list it) or a local path.
    #[arg(long)]
    pub source: String,
    /// apt suite (`bookworm-security`).
    #[arg(long, default_value = "")]
    pub suite: String,
    /// apt components (default `main`); repeat or separate by commas.
    #[arg(long = "component", value_delimiter = ',')]
    pub components: Vec<String>,
    /// Architecture to read (`amd64` for apt, `x86_64` for apk and rpm).
    #[arg(long)]
    pub arch: Option<String>,
    /// dnf priority (lower wins; default 99).
    #[arg(long, default_value_t = 0)]
    pub priority: i64,
    /// dnf cost (default 1000).
    #[arg(long, default_value_t = 1000)]
    pub cost: i64,
    /// An OS group (`debian 12`, `alpine 3.21`, a configured group name)
    /// whose hosts use this repository when their reports name none we
    /// know; repeatable.
    #[arg(long = "default-for")]
    pub default_for: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HostUpdatesArgs {
    #[command(flatten)]
    pub host: crate::cli::HostRefArgs,
    /// Only security updates.
    #[arg(long)]
    pub security: bool,
}

#[derive(Debug, Subcommand)]
pub enum UpdatesCommand {
    /// The fleet's pending updates: hosts with security updates, and per
    /// package how many hosts need it.
    List {
        /// Only security updates.
        #[arg(long)]
        security: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PackagesCommand {
    /// The fleet view of one package (Pakiti v2's Outdated/Missing): which
    /// hosts run which version, who has an update pending (to what, from
    /// which repository), who lacks it.
    Show {
        name: String,
        /// Only hosts that have it installed.
        #[arg(long)]
        installed: bool,
    },
}
