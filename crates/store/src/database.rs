//! The [`Database`] trait: everything the server and the CLI ask of storage.

use async_trait::async_trait;
use patchwatch_reports::{OsRelease, Package, Report};

use crate::Millis;
use crate::error::StoreError;
use crate::feeds::{Feed, ImportOutcome, NewFeed, SyncState};
use crate::filter::{HostFilter, Page};
use crate::package_set::CanonicalSet;
use crate::records::{
    HostDetail, HostKeys, HostRef, HostSummary, IngestOutcome, PruneStats, ReportRecord, Site,
    TokenRecord,
};
use crate::repos::{NewRepository, RepoImportOutcome, Repository};
use crate::sessions::{NewSession, Session};
use crate::token::{NewToken, Revocation};
use crate::triage::{CveTag, Exception, NewAssignment, NewException, TagAssignment};
use crate::users::{NewGrant, NewUser, SiteGroup, User, UserGrant};

/// A parsed, validated report on its way into the store.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub site_id: i64,
    pub report: Report,
    /// The report's packages in canonical form; `None` when the client said
    /// they are unchanged since its last report.
    pub packages: Option<CanonicalSet>,
    pub os: OsRelease,
    pub received_at: Millis,
    pub sender: String,
    pub user_agent: String,
    /// Whether the host runs a kernel older than the newest installed one,
    /// derived by the caller from the report (the store does not judge
    /// kernels); `None` when it could not tell, such as a report that says
    /// its packages are unchanged. Stored as the host's `kernel_outdated`.
    pub kernel_outdated: Option<bool>,
}

impl IngestRequest {
    /// Builds the request: normalises the hostname and canonicalises the
    /// package list (the CPU work, done before the store is involved).
    pub fn new(
        site_id: i64,
        mut report: Report,
        os: OsRelease,
        received_at: Millis,
        sender: String,
        user_agent: String,
    ) -> IngestRequest {
        report.hostname = report.hostname.to_ascii_lowercase();
        let packages = report.packages.take().map(CanonicalSet::new);
        IngestRequest {
            site_id,
            report,
            packages,
            os,
            received_at,
            sender,
            user_agent,
            kernel_outdated: None,
        }
    }

    /// The request with the derived kernel flag (see
    /// [`IngestRequest::kernel_outdated`]).
    pub fn with_kernel_outdated(mut self, outdated: Option<bool>) -> IngestRequest {
        self.kernel_outdated = outdated;
        self
    }
}

/// A host whose derived kernel flag is not known yet: what deriving it
/// needs besides the packages of its set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelCheck {
    pub host_id: i64,
    pub package_set_id: i64,
    /// The running kernel (`uname -r`).
    pub kernel: String,
    pub arch: String,
}

/// The derived kernel flag of a [`KernelCheck`]ed host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelVerdict {
    pub check: KernelCheck,
    pub outdated: bool,
}

/// A resubmission of exactly the report the host sent last time.
#[derive(Debug, Clone)]
pub struct RepeatRequest {
    pub host_id: i64,
    /// The report it repeats; if the host has a newer one, the repeat is
    /// refused and the caller stores the report in full.
    pub repeats_report_id: i64,
    pub received_at: Millis,
    pub sender: String,
    pub user_agent: String,
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Cheap round trip, for `/healthz`.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn create_site(&self, name: &str) -> Result<Site, StoreError>;
    async fn sites(&self) -> Result<Vec<Site>, StoreError>;
    async fn site(&self, name: &str) -> Result<Option<Site>, StoreError>;

    async fn add_token(&self, token: &NewToken) -> Result<TokenRecord, StoreError>;
    /// Every token, revoked ones included, by name.
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// The active token with this hash: a revoked token is not found, so
    /// it is refused exactly as an unknown one.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Marks a token revoked, keeping its row (listed as revoked, with
    /// when and by whom: `revoked_by` is a user id, `None` for the command
    /// line). Revoking again changes nothing.
    async fn revoke_token(
        &self,
        name: &str,
        revoked_by: Option<i64>,
    ) -> Result<Revocation, StoreError>;
    /// Deletes a token, active or revoked; false when absent.
    async fn delete_token(&self, name: &str) -> Result<bool, StoreError>;
    /// Records that the active token `id` authenticated a request `at`,
    /// unless a use within [`crate::token::USE_RECORDED_EVERY_MS`] before
    /// is recorded already; true when written.
    async fn record_token_use(&self, id: i64, at: Millis) -> Result<bool, StoreError>;

    /// Stores a report; returns once it is durably committed.
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome, StoreError>;
    /// Records a resubmission without re-storing its content. `None` when
    /// the host's latest report is no longer the one repeated.
    async fn ingest_repeat(
        &self,
        request: RepeatRequest,
    ) -> Result<Option<IngestOutcome>, StoreError>;

    async fn hosts(&self, filter: &HostFilter) -> Result<Page<HostSummary>, StoreError>;
    /// The hosts `filter` selects (scope, limit and offset included), in
    /// [`Database::hosts`]' order, as [`HostRef`]s: a view over many hosts
    /// (the fleet view of a package) orders and counts them from this and
    /// reads the summaries of only the page it shows.
    async fn host_refs(&self, filter: &HostFilter) -> Result<Vec<HostRef>, StoreError>;
    async fn host(&self, id: i64) -> Result<Option<HostDetail>, StoreError>;
    /// Every host `filter` selects (its scope, limit and offset included)
    /// with its details, in one query and in [`Database::hosts`]' order:
    /// how the fleet's reported repositories and kernels are read without
    /// a query per host.
    async fn host_details(&self, filter: &HostFilter) -> Result<Vec<HostDetail>, StoreError>;
    async fn delete_host(&self, id: i64) -> Result<bool, StoreError>;
    /// Up to `limit` hosts with an id above `after_id` whose
    /// `kernel_outdated` is unknown (NULL), by id: the background pass
    /// that derives it for hosts stored before migration 11.
    async fn hosts_without_kernel_verdict(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<KernelCheck>, StoreError>;
    /// Stores derived kernel flags, each only if the host's flag is still
    /// unknown and its package set and kernel are still those checked (a
    /// report stored meanwhile carries its own). Returns how many hosts
    /// were updated.
    async fn set_kernel_verdicts(&self, verdicts: &[KernelVerdict]) -> Result<u64, StoreError>;
    /// Every host's id, site, package set, OS release id and running
    /// kernel, by id, with the OS releases and sites they name: what the
    /// fleet's assessment reads on every CVE view, without the joins, JSON
    /// and strings of [`Database::hosts`]. Everything, the version
    /// included, is read in one snapshot, so every OS release and site the
    /// hosts name is in the lists and a kept (version, keys) pair is
    /// always consistent.
    async fn host_keys(&self) -> Result<HostKeys, StoreError>;
    /// A number that changes exactly when what [`Database::host_keys`]
    /// reads changes (a host added or deleted; a host's site, package set,
    /// OS release or kernel changed; a site added or deleted), and only
    /// then: a report that changes nothing but when the host was last seen
    /// leaves it. One single-row read, so a caller can keep the keys it
    /// read until this moves (migration 12).
    async fn host_keys_version(&self) -> Result<i64, StoreError>;
    /// The packages of a stored set, sorted by name, arch and version.
    async fn package_set(&self, set_id: i64) -> Result<Vec<Package>, StoreError>;
    /// Many sets at once, as the package ids each holds (sorted): with
    /// [`Database::packages_by_id`], how a fleet's sets are read without a
    /// query per set. Unknown set ids are left out.
    async fn package_set_members(
        &self,
        set_ids: &[i64],
    ) -> Result<Vec<(i64, Vec<i64>)>, StoreError>;
    /// Packages by id, in no particular order; unknown ids are left out.
    async fn packages_by_id(&self, ids: &[i64]) -> Result<Vec<(i64, Package)>, StoreError>;
    /// A host's reports, newest first.
    async fn reports(
        &self,
        host_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ReportRecord>, StoreError>;

    /// Deletes reports received before `before` (never a host's latest),
    /// then package sets and packages nothing refers to any more.
    async fn prune(&self, before: Millis) -> Result<PruneStats, StoreError>;

    // Vulnerability feeds.

    /// Creates a feed; `AlreadyExists` when the name is taken.
    async fn add_feed(&self, feed: &NewFeed) -> Result<Feed, StoreError>;
    /// All feeds by name, each with its current generation.
    async fn feeds(&self) -> Result<Vec<Feed>, StoreError>;
    async fn feed(&self, name: &str) -> Result<Option<Feed>, StoreError>;
    /// Stores `document` (exactly as given) as the feed's new current
    /// generation in one transaction, keeping the previous one as
    /// non-current and deleting older ones; the caller has parsed it
    /// completely first. A document whose `sha256` (lowercase hex) is the
    /// current generation's is not stored again.
    async fn import_generation(
        &self,
        feed_id: i64,
        document: Vec<u8>,
        sha256: &str,
        advisories: i64,
    ) -> Result<ImportOutcome, StoreError>;
    /// The current document of every enabled feed that has one, by name.
    async fn current_documents(&self) -> Result<Vec<(Feed, Vec<u8>)>, StoreError>;
    /// Deletes a feed and its generations; false when there was none.
    async fn delete_feed(&self, name: &str) -> Result<bool, StoreError>;
    /// Records how a sync attempt of the feed ended. A success
    /// (`state.error` is `None`) stores the new validators and clears the
    /// error; a failure stores `synced_at` and the error but keeps the
    /// validators of the document last fetched, since that document is
    /// still the current generation. `NotFound` when the feed is gone.
    async fn record_sync(&self, feed_id: i64, state: &SyncState) -> Result<(), StoreError>;
    /// Enables or disables a feed (a disabled feed is neither synced nor
    /// assessed; its generations stay). False when there is no such feed.
    async fn set_feed_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError>;

    // Package repositories and their snapshots (see `repos`; migration 8).

    /// Creates an enabled repository (checked by
    /// `repos::validate_repository`); `AlreadyExists` when the name is taken.
    async fn add_repository(&self, repo: &NewRepository) -> Result<Repository, StoreError>;
    /// All repositories by name, each with its current snapshot.
    async fn repositories(&self) -> Result<Vec<Repository>, StoreError>;
    async fn repository(&self, name: &str) -> Result<Option<Repository>, StoreError>;
    /// Deletes a repository and its snapshots; false when there was none.
    async fn remove_repository(&self, name: &str) -> Result<bool, StoreError>;
    /// A disabled repository is neither synced nor used for updates; its
    /// snapshots stay. False when there is no such repository.
    async fn set_repository_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError>;
    /// Stores `document` (a parsed snapshot, encoded by the caller) as the
    /// repository's new current snapshot in one transaction, keeping the
    /// previous one and deleting older ones. A document whose `sha256` is
    /// the current snapshot's is not stored again. `NotFound` when the
    /// repository is gone.
    async fn import_repo_snapshot(
        &self,
        repository_id: i64,
        document: Vec<u8>,
        sha256: &str,
        packages: i64,
    ) -> Result<RepoImportOutcome, StoreError>;
    /// The current document of every enabled repository that has one, by
    /// name, read at one moment.
    async fn current_repo_snapshots(&self) -> Result<Vec<(Repository, Vec<u8>)>, StoreError>;
    /// Records how a sync of the repository ended, with the same rules as
    /// [`Database::record_sync`] for feeds.
    async fn record_repo_sync(
        &self,
        repository_id: i64,
        state: &crate::feeds::SyncState,
    ) -> Result<(), StoreError>;

    // CVE tags and exceptions (see `triage`).

    /// Creates an enabled tag; `AlreadyExists` when the name is taken.
    async fn add_tag(&self, name: &str, reason: &str) -> Result<CveTag, StoreError>;
    /// All tags by name, with their assignment counts.
    async fn tags(&self) -> Result<Vec<CveTag>, StoreError>;
    /// Enables or disables a tag; `NotFound` when there is none.
    async fn set_tag_enabled(&self, name: &str, enabled: bool) -> Result<CveTag, StoreError>;
    /// Deletes a tag and its assignments; `NotFound` when there is none.
    async fn remove_tag(&self, name: &str) -> Result<(), StoreError>;
    /// Attaches a CVE to a tag: `Invalid` for a malformed CVE id,
    /// `NotFound` for an unknown tag, `AlreadyExists` when attached already.
    async fn assign_tag(&self, assignment: &NewAssignment) -> Result<TagAssignment, StoreError>;
    /// `NotFound` when the CVE is not attached to the tag.
    async fn unassign_tag(&self, cve: &str, tag: &str) -> Result<(), StoreError>;
    /// Every assignment, by CVE then tag.
    async fn tag_assignments(&self) -> Result<Vec<TagAssignment>, StoreError>;
    /// Stores an exception (checked by `triage::validate_exception`; an
    /// unknown site is `NotFound`, the same exception twice
    /// `AlreadyExists`).
    async fn add_exception(&self, exception: &NewException) -> Result<Exception, StoreError>;
    /// Every exception, expired ones included, by id.
    async fn exceptions(&self) -> Result<Vec<Exception>, StoreError>;
    /// `NotFound` when there is no exception with that id.
    async fn remove_exception(&self, id: i64) -> Result<(), StoreError>;

    // Users, role grants and site groups (see `users`; migration 5).

    /// `AlreadyExists` when the name is taken.
    async fn add_user(&self, user: &NewUser) -> Result<User, StoreError>;
    /// Every user by name, with their grants.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Deletes a user, their grants and their tokens; false when absent.
    async fn remove_user(&self, name: &str) -> Result<bool, StoreError>;
    /// Sets (or, with `None`, clears) a password hash; false when absent.
    async fn set_password(&self, name: &str, hash: Option<&str>) -> Result<bool, StoreError>;
    /// `NotFound` for an unknown user, site or group, `AlreadyExists` for
    /// the same grant twice, `Invalid` for a role on the wrong target.
    async fn grant(&self, user: &str, grant: &NewGrant) -> Result<UserGrant, StoreError>;
    /// False when the user has no such grant (or does not exist).
    async fn revoke(&self, user: &str, grant: &NewGrant) -> Result<bool, StoreError>;
    /// `NotFound` for an unknown parent, `Invalid` when the parent has a
    /// parent itself (groups nest one level).
    async fn add_site_group(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<SiteGroup, StoreError>;
    /// Every group by name with its own member sites.
    async fn site_groups(&self) -> Result<Vec<SiteGroup>, StoreError>;
    /// Deletes a group, its child groups, and grants and tokens on them.
    async fn remove_site_group(&self, name: &str) -> Result<bool, StoreError>;
    /// Adds (`member`) or removes a site; `NotFound` for an unknown group
    /// or site. Adding twice or removing a non-member changes nothing.
    async fn set_group_member(
        &self,
        group: &str,
        site: &str,
        member: bool,
    ) -> Result<(), StoreError>;

    // Web UI sessions (migration 7).
    /// Stores a new session (`Invalid` for a malformed hash or token,
    /// `NotFound` for an unknown user), created and last seen `at`.
    async fn create_session(&self, session: &NewSession, at: Millis)
    -> Result<Session, StoreError>;
    /// The session whose id hashes to `id_hash`, with its user's name.
    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError>;
    /// Records activity on a session; false when it no longer exists.
    async fn touch_session(&self, id_hash: &str, at: Millis) -> Result<bool, StoreError>;
    /// Ends a session (logout); false when it did not exist.
    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError>;
    /// Deletes sessions created before `created_before` or idle since
    /// before `idle_before`; returns how many.
    async fn expire_sessions(
        &self,
        created_before: Millis,
        idle_before: Millis,
    ) -> Result<u64, StoreError>;

    // Web UI dashboard trends (issue 11).
    /// What each host ran over time, from `since` on: per host its last
    /// report before `since` (its state when the window opens), then every
    /// report from `since` on whose package set, OS or running kernel
    /// differs from the host's report before it. Sorted by time, then
    /// host. Deleted hosts are gone with their reports.
    async fn report_changes_since(&self, since: Millis) -> Result<Vec<ReportChange>, StoreError>;
}

/// One point of a host's history: what it ran from `received_at` on (see
/// [`Database::report_changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportChange {
    pub host_id: i64,
    pub site_id: i64,
    pub received_at: Millis,
    pub package_set_id: i64,
    pub os: OsRelease,
    pub kernel: String,
}

/// The query of [`Database::report_changes_since`], the same text in both
/// backends but for the placeholder (`{since}`): window functions are
/// standard SQL, and SQLite has had them since 3.25.
pub fn report_changes_sql(placeholder: &str) -> String {
    format!(
        "SELECT r.host_id, h.site_id, r.received_at, r.package_set_id, o.distro, o.release, r.kernel
         FROM hosts h
         JOIN reports r ON r.id = (SELECT b.id FROM reports b WHERE b.host_id = h.id
                                   AND b.received_at < {since}
                                   ORDER BY b.received_at DESC, b.id DESC LIMIT 1)
         JOIN os_releases o ON o.id = r.os_release_id
         UNION ALL
         SELECT x.host_id, x.site_id, x.received_at, x.package_set_id, o.distro, o.release, x.kernel
         FROM (SELECT r.host_id, h.site_id, r.received_at, r.package_set_id, r.os_release_id,
                      r.kernel, r.id,
                      LAG(r.package_set_id) OVER w AS prev_set,
                      LAG(r.os_release_id) OVER w AS prev_os,
                      LAG(r.kernel) OVER w AS prev_kernel
               FROM reports r JOIN hosts h ON h.id = r.host_id
               WHERE r.received_at >= {since}
               WINDOW w AS (PARTITION BY r.host_id ORDER BY r.received_at, r.id)) x
         JOIN os_releases o ON o.id = x.os_release_id
         WHERE x.prev_set IS NULL OR x.prev_set <> x.package_set_id
               OR x.prev_os <> x.os_release_id OR x.prev_kernel <> x.kernel
         ORDER BY 3, 1",
        since = placeholder
    )
}

/// Sorts packages the way people read them.
pub fn sort_packages(packages: &mut [Package]) {
    packages.sort_by(|a, b| {
        (&a.name, &a.arch, &a.epoch, &a.version, &a.release)
            .cmp(&(&b.name, &b.arch, &b.epoch, &b.version, &b.release))
    });
}
