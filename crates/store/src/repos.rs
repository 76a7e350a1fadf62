//! Package repositories and their snapshots (migration 8): each import of a
//! repository's index is a snapshot, stored once and shared by every host
//! using the repository, switched to in one transaction like a feed
//! generation, so a failed or truncated download never replaces data that
//! parsed.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::StoreError;
use crate::feeds::SyncState;
use crate::rows::Columns;
use crate::{Millis, format_millis};

fn rfc3339<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*ms))
}

/// How many snapshots a repository keeps: the current one and the one
/// before, as for feeds.
pub const SNAPSHOTS_KEPT: i64 = 2;

/// The index format of a repository (its package manager's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepositoryKind {
    Apt,
    RpmMd,
    Apk,
}

impl RepositoryKind {
    pub const ALL: [RepositoryKind; 3] = [
        RepositoryKind::Apt,
        RepositoryKind::RpmMd,
        RepositoryKind::Apk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RepositoryKind::Apt => "apt",
            RepositoryKind::RpmMd => "rpm-md",
            RepositoryKind::Apk => "apk",
        }
    }

    /// Parses a kind name; the error lists the known kinds.
    pub fn parse(s: &str) -> Result<RepositoryKind, StoreError> {
        RepositoryKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown repository kind {s:?}; known kinds: apt, rpm-md, apk"
                ))
            })
    }
}

impl fmt::Display for RepositoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A repository to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepository {
    pub name: String,
    pub kind: RepositoryKind,
    /// The URL it is synced from, or the path it is imported from.
    pub source: String,
    /// apt: the suite (`bookworm-security`); empty for a flat repository
    /// and for other kinds.
    pub suite: String,
    /// apt components (`main`).
    pub components: Vec<String>,
    /// The architectures read (`amd64`, `x86_64`).
    pub architectures: Vec<String>,
    /// dnf `priority` (lower wins, 99 by default); apt pin priority
    /// override (0: from the Release, as apt does); unused for apk.
    pub priority: i64,
    /// dnf `cost` (1000 by default).
    pub cost: i64,
    /// The OS groups (`debian 12`, `alpine 3.21`) whose hosts use this
    /// repository when their report names none we know; empty: none.
    pub default_for: Vec<String>,
}

/// One stored snapshot, without its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoSnapshotRecord {
    pub id: i64,
    /// Which import of its repository this is (1 for the first).
    pub number: i64,
    #[serde(serialize_with = "rfc3339")]
    pub imported_at: Millis,
    /// Hex SHA-256 of the document as stored.
    pub sha256: String,
    pub size: i64,
    /// Packages the repository offered.
    pub packages: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub kind: RepositoryKind,
    pub source: String,
    pub suite: String,
    pub components: Vec<String>,
    pub architectures: Vec<String>,
    pub priority: i64,
    pub cost: i64,
    pub enabled: bool,
    pub default_for: Vec<String>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    /// The snapshot updates are computed from; `None` before the first
    /// import.
    pub current: Option<RepoSnapshotRecord>,
    pub snapshots: i64,
    pub sync: SyncState,
}

/// What [`crate::Database::import_repo_snapshot`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RepoImportOutcome {
    /// A new current snapshot; `previous` is the one it replaced.
    Imported {
        snapshot: RepoSnapshotRecord,
        previous: Option<i64>,
    },
    /// The document is the current snapshot's: nothing written.
    Unchanged { snapshot: RepoSnapshotRecord },
}

/// Repository names are used on the command line: printable, no spaces,
/// at most 100 characters.
pub fn validate_repository(repo: &NewRepository) -> Result<(), StoreError> {
    let name = &repo.name;
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::Invalid(format!(
            "repository name {name:?} must be 1 to 100 characters"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '/')
    {
        return Err(StoreError::Invalid(format!(
            "repository name {name:?} must not contain {c:?}"
        )));
    }
    if repo.source.is_empty() || repo.source.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "repository {name:?}: the source must be a URL or a path without control characters"
        )));
    }
    for word in repo.components.iter().chain(&repo.architectures) {
        if word.is_empty() || word.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(StoreError::Invalid(format!(
                "repository {name:?}: component or architecture {word:?} must be one word"
            )));
        }
    }
    if repo
        .suite
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(StoreError::Invalid(format!(
            "repository {name:?}: suite {:?} must be one word",
            repo.suite
        )));
    }
    for group in &repo.default_for {
        if group.trim().is_empty() || group.contains(',') || group.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "repository {name:?}: OS group {group:?} must be a non-empty name without commas"
            )));
        }
    }
    Ok(())
}

/// How lists are kept in one column: words joined by spaces, OS groups
/// (which contain spaces) by commas.
pub fn join_words(words: &[String]) -> String {
    words.join(" ")
}

pub fn join_groups(groups: &[String]) -> String {
    groups.join(",")
}

fn split_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn split_groups(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A repository from the columns every backend selects in this order:
/// `r.id, r.name, r.kind, r.source, r.suite, r.components,
/// r.architectures, r.priority, r.cost, r.enabled, r.default_for,
/// r.created_at, s.id, s.number, s.imported_at, s.sha256, s.size,
/// s.packages, (snapshot count), r.etag, r.last_modified, r.synced_at,
/// r.sync_error` (`s` the current snapshot, left-joined).
pub fn repository_from_row(r: &dyn Columns) -> Result<Repository, StoreError> {
    let kind = r.text(2)?;
    let current = match r.opt_int(12)? {
        Some(id) => Some(RepoSnapshotRecord {
            id,
            number: r.int(13)?,
            imported_at: r.int(14)?,
            sha256: r.text(15)?,
            size: r.int(16)?,
            packages: r.int(17)?,
        }),
        None => None,
    };
    Ok(Repository {
        id: r.int(0)?,
        name: r.text(1)?,
        kind: RepositoryKind::parse(&kind)
            .map_err(|_| StoreError::Corrupt(format!("unknown repository kind {kind:?}")))?,
        source: r.text(3)?,
        suite: r.text(4)?,
        components: split_words(&r.text(5)?),
        architectures: split_words(&r.text(6)?),
        priority: r.int(7)?,
        cost: r.int(8)?,
        enabled: r.flag(9)?,
        default_for: split_groups(&r.text(10)?),
        created_at: r.int(11)?,
        current,
        snapshots: r.int(18)?,
        sync: SyncState {
            etag: r.opt_text(19)?,
            last_modified: r.opt_text(20)?,
            synced_at: r.opt_int(21)?,
            error: r.opt_text(22)?,
        },
    })
}

/// The repository a [`NewRepository`] becomes, once the backend gave it
/// an id.
pub fn created_repository(id: i64, repo: &NewRepository, now: Millis) -> Repository {
    Repository {
        id,
        name: repo.name.clone(),
        kind: repo.kind,
        source: repo.source.clone(),
        suite: repo.suite.clone(),
        components: repo.components.clone(),
        architectures: repo.architectures.clone(),
        priority: repo.priority,
        cost: repo.cost,
        enabled: true,
        default_for: repo.default_for.clone(),
        created_at: now,
        current: None,
        snapshots: 0,
        sync: SyncState::default(),
    }
}
