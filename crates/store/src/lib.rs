//! Patchwatch's storage model and the [`Database`] trait.
//!
//! Each backend lives in its own crate with its own migrations
//! (`patchwatch-store-sqlite`, `patchwatch-store-postgres`); what they share
//! (canonical package sets, content hashes, the compact set encoding, diffs,
//! tokens) lives here so both store exactly the same thing.
#![forbid(unsafe_code)]

pub mod database;
pub mod diff;
pub mod error;
pub mod feeds;
pub mod filter;
pub mod history;
pub mod package_set;
pub mod records;
pub mod repos;
pub mod rows;
pub mod sessions;
pub mod token;
pub mod triage;
pub mod users;

pub use database::{
    Database, IngestRequest, KernelCheck, KernelVerdict, RepeatRequest, ReportChange,
    report_changes_sql, sort_packages,
};
pub use diff::{PackageChange, PackageDiff};
pub use error::StoreError;
pub use feeds::{
    Feed, FeedKind, GENERATIONS_KEPT, Generation, ImportOutcome, NewFeed, SyncState,
    validate_feed_name, validate_sha256,
};
pub use filter::{
    HOST_REF_COLUMNS, HOST_SUMMARY_COLUMN_COUNT, HOST_SUMMARY_COLUMNS, HOST_SUMMARY_FROM,
    HostFilter, HostJoins, HostListSql, HostSort, HostWhere, LARGE_SELECTION, Page, SortKey,
    SqlDialect, SqlValue, host_list_sql, host_where, is_large_selection, select_window,
};
pub use history::{HistoryEntry, host_history};
pub use package_set::{CanonicalSet, PackageKey, SetHash};
pub use records::*;
pub use repos::{
    NewRepository, RepoImportOutcome, RepoSnapshotRecord, Repository, RepositoryKind,
    SNAPSHOTS_KEPT, validate_repository,
};
pub use sessions::{NewSession, Session};
pub use token::{NewToken, Revocation, TokenKind};
pub use triage::{
    CveTag, DEFAULT_TAGS, Exception, NewAssignment, NewException, TagAssignment, canonical_cve,
    parse_cve_id, parse_expiry, validate_tag_name,
};
pub use users::{NewGrant, NewUser, SiteGroup, User, UserGrant};

/// Milliseconds since the Unix epoch: how every timestamp is stored, in both
/// backends, so they sort and compare the same way.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as Millis
}

/// RFC 3339 text for a stored timestamp (`2026-11-21T07:08:36.123Z`).
pub fn format_millis(ms: Millis) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}
