//! Vulnerability feeds and their generations: each import of a feed's
//! document is a new generation, switched to in one transaction, so a
//! broken or truncated download never replaces data that parsed.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::StoreError;
use crate::{Millis, format_millis};

fn rfc3339<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*ms))
}

fn opt_rfc3339<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format_millis(*ms)),
        None => s.serialize_none(),
    }
}

/// How many generations a feed keeps: the current one and the one before,
/// so an operator can still see what changed after a bad vendor release.
pub const GENERATIONS_KEPT: i64 = 2;

/// The document format of a feed, which decides its parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    Osv,
    DebianTracker,
    DebianDsa,
    DebianDla,
    AlpineSecdb,
    /// An OVAL definitions document (Red Hat, Debian, Ubuntu, SUSE,
    /// AlmaLinux), evaluated against each host's packages.
    Oval,
    /// The Ubuntu CVE tracker (a tar of `active/`, `retired/` entries).
    UbuntuTracker,
}

impl FeedKind {
    pub const ALL: [FeedKind; 7] = [
        FeedKind::Osv,
        FeedKind::DebianTracker,
        FeedKind::DebianDsa,
        FeedKind::DebianDla,
        FeedKind::AlpineSecdb,
        FeedKind::Oval,
        FeedKind::UbuntuTracker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Osv => "osv",
            FeedKind::DebianTracker => "debian-tracker",
            FeedKind::DebianDsa => "debian-dsa",
            FeedKind::DebianDla => "debian-dla",
            FeedKind::AlpineSecdb => "alpine-secdb",
            FeedKind::Oval => "oval",
            FeedKind::UbuntuTracker => "ubuntu-tracker",
        }
    }

    /// Parses a kind name; the error lists the known kinds.
    pub fn parse(s: &str) -> Result<FeedKind, StoreError> {
        FeedKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = FeedKind::ALL.iter().map(|k| k.as_str()).collect();
                StoreError::Invalid(format!(
                    "unknown feed kind {s:?}; known kinds: {}",
                    known.join(", ")
                ))
            })
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A feed to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    pub name: String,
    pub kind: FeedKind,
    /// A file path or a URL, as the operator gave it.
    pub source: String,
    /// Free text: which distribution releases the feed covers.
    pub releases: String,
}

/// One stored generation, without its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generation {
    pub id: i64,
    /// Which import of its feed this is: 1 for the first, counted per feed
    /// (`id` is shared by all feeds).
    pub number: i64,
    #[serde(serialize_with = "rfc3339")]
    pub imported_at: Millis,
    /// Hex SHA-256 of the document as stored.
    pub sha256: String,
    pub size: i64,
    pub advisories: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feed {
    pub id: i64,
    pub name: String,
    pub kind: FeedKind,
    pub source: String,
    pub releases: String,
    pub enabled: bool,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    /// The generation assessments read; `None` before the first import.
    pub current: Option<Generation>,
    /// Generations stored (current and kept older ones).
    pub generations: i64,
    /// What the last download left behind (all empty for file feeds
    /// that were only ever imported).
    pub sync: SyncState,
}

/// A feed's download state: the validators of the document last fetched,
/// sent back as a conditional request next time, and how the last attempt
/// ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// When the last sync attempt ended, successful or not.
    #[serde(serialize_with = "opt_rfc3339")]
    pub synced_at: Option<Millis>,
    /// Why the last attempt failed; `None` after a success.
    pub error: Option<String>,
}

/// What [`crate::Database::import_generation`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ImportOutcome {
    /// A new current generation; `previous` is the one it replaced.
    Imported {
        generation: Generation,
        previous: Option<i64>,
    },
    /// The document is the current generation's: nothing written.
    Unchanged { generation: Generation },
}

/// Feed names are used on the command line and in file names: printable,
/// no spaces, at most 100 characters.
pub fn validate_feed_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::Invalid(format!(
            "feed name {name:?} must be 1 to 100 characters"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '/')
    {
        return Err(StoreError::Invalid(format!(
            "feed name {name:?} must not contain {c:?}"
        )));
    }
    Ok(())
}

/// Checks the digest a caller hands in is what the stores keep: 64
/// lowercase hex digits.
pub fn validate_sha256(sha256: &str) -> Result<(), StoreError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "sha256 {sha256:?} is not 64 lowercase hex digits"
        )))
    }
}
