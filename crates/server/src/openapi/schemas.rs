//! The JSON the API answers with, as schemas for the OpenAPI document.
//!
//! The handlers build their answers from the store's, vulndb's and
//! updates' own types (which know nothing of OpenAPI); these types say
//! what that JSON is, field by field, and are never built. Every object
//! refuses fields it does not list (`additionalProperties: false`), so a
//! field added to an answer without its schema fails
//! `tests/openapi.rs`, which checks real answers of a seeded server
//! against this document, and schemathesis in CI.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// Every error: a message naming the problem.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Error {
    pub error: String,
}

/// `POST /api/v1/reports`: the report is committed.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportStored {
    pub status: StoredStatus,
    pub host_id: i64,
    pub report_id: i64,
    /// The report created the host (then the status is 201).
    pub new_host: bool,
    /// False when the host's package set is the one it had before.
    pub packages_changed: bool,
    pub packages: i64,
    /// `/api/v1/hosts/{host_id}`.
    pub host_url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoredStatus {
    Stored,
}

/// A package type, and the version ordering that goes with it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    Deb,
    Rpm,
    Apk,
    Pacman,
    Gentoo,
}

/// A host as listed.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSummary {
    pub id: i64,
    /// Lower case, without a trailing dot.
    pub hostname: String,
    pub site: String,
    /// Distro and release in normal form (`debian 12`), or `unknown: ...`
    /// with what the host sent.
    pub os: String,
    /// The running kernel (`uname -r`).
    pub kernel: String,
    pub arch: String,
    pub tags: Vec<String>,
    pub packages: i64,
    #[schema(format = DateTime)]
    pub first_seen: String,
    #[schema(format = DateTime)]
    pub last_seen: String,
    /// The protocol of its latest report (`native`, `pakiti5`, ...).
    pub protocol: String,
    /// What the client said; null when it could not tell.
    #[schema(required = true)]
    pub reboot_required: Option<bool>,
    /// Derived by the server from the packages: the running kernel is
    /// older than the newest installed kernel package. Null while unknown
    /// (hosts stored before this was derived, until the server's
    /// background pass after its start has reached them). The host must
    /// reboot when either flag is true.
    #[schema(required = true)]
    pub reboot_required_derived: Option<bool>,
}

/// `GET /api/v1/hosts`: one page.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostPage {
    pub items: Vec<HostSummary>,
    /// Hosts matching the filter, all pages.
    pub total: u64,
    #[schema(required = true)]
    pub limit: Option<u32>,
    pub offset: u32,
}

/// `/etc/os-release` as the host reported it; empty fields are left out.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OsInfo {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub version_id: String,
    #[serde(default)]
    pub version_codename: String,
    #[serde(default)]
    pub pretty_name: String,
    #[serde(default)]
    pub id_like: String,
}

/// A package repository the host reported; empty fields are left out.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedRepository {
    #[serde(rename = "type")]
    pub kind: PackageType,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub urls: Vec<String>,
    /// apt suites; a deb822 stanza may name several.
    #[serde(default)]
    pub suites: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    /// Empty: the host's own architecture.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// `false`: configured but disabled; absent: enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub mirrorlist: String,
    #[serde(default)]
    pub metalink: String,
    #[serde(default)]
    pub cost: Option<i64>,
    /// apk: the line's `@tag`, without the `@`.
    #[serde(default)]
    pub tag: String,
}

/// An enabled dnf module stream.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleStream {
    pub name: String,
    pub stream: String,
}

/// An apk world pin: `name@tag`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApkPin {
    pub name: String,
    pub tag: String,
}

/// An apt preferences file of the host, as the client read it.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AptPreferences {
    /// Its path on the host (`/etc/apt/preferences.d/backports`).
    pub file: String,
    pub content: String,
}

/// An update the host computed itself (Patchman clients).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientUpdate {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub repo: String,
    pub security: bool,
}

/// The reporting client; empty fields are left out.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

/// `GET /api/v1/hosts/{id}`: the summary's fields and everything the
/// latest report said beyond them.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostDetail {
    pub id: i64,
    pub hostname: String,
    pub site: String,
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub tags: Vec<String>,
    pub packages: i64,
    #[schema(format = DateTime)]
    pub first_seen: String,
    #[schema(format = DateTime)]
    pub last_seen: String,
    pub protocol: String,
    #[schema(required = true)]
    pub reboot_required: Option<bool>,
    /// See `HostSummary`.
    #[schema(required = true)]
    pub reboot_required_derived: Option<bool>,
    pub os_release: OsInfo,
    /// The free-form OS string older clients send.
    pub os_string: String,
    /// `uname -v`.
    pub kernel_version: String,
    pub reboot_reasons: Vec<String>,
    pub repositories: Vec<ReportedRepository>,
    /// Enabled dnf module streams.
    pub module_streams: Vec<ModuleStream>,
    /// apk world pins.
    pub apk_pins: Vec<ApkPin>,
    /// apt preferences files (pins), in the order apt reads them.
    pub apt_preferences: Vec<AptPreferences>,
    pub client_updates: Vec<ClientUpdate>,
    pub client: ClientInfo,
}

/// An installed package: the full version (`version`, as the package
/// manager prints it) beside its parts.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub arch: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    pub epoch: String,
    pub upstream_version: String,
    pub release: String,
    pub source_name: String,
    pub source_version: String,
}

/// `GET /api/v1/hosts/{id}/packages`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostPackages {
    pub host_id: i64,
    pub hostname: String,
    pub count: u64,
    pub packages: Vec<Package>,
}

/// One package change between two reports.
#[derive(Serialize, ToSchema)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum PackageChange {
    Added {
        name: String,
        arch: String,
        version: String,
    },
    Removed {
        name: String,
        arch: String,
        version: String,
    },
    Changed {
        name: String,
        arch: String,
        from: String,
        to: String,
    },
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageDiff {
    pub changes: Vec<PackageChange>,
}

/// One stored report of a host.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub id: i64,
    pub host_id: i64,
    #[schema(format = DateTime)]
    pub received_at: String,
    pub protocol: String,
    pub os: String,
    pub kernel: String,
    pub packages: i64,
    /// The package set is the previous report's.
    pub unchanged: bool,
    /// The sender's address.
    pub sender: String,
    pub user_agent: String,
    /// Changes since the previous report; absent for the oldest one shown.
    #[serde(default)]
    pub changes: Option<PackageDiff>,
}

/// `GET /api/v1/hosts/{id}/reports`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostReports {
    pub host_id: i64,
    pub limit: u32,
    pub offset: u32,
    pub reports: Vec<HistoryEntry>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FindingState {
    FixAvailable,
    AffectedNoFix,
    NoAdvisory,
    Deferred,
    WillNotFix,
    UnderInvestigation,
    EndOfLife,
}

/// Which of the package's names the vendor's statement matched.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NameUsed {
    Source,
    Binary,
    BinaryAsSource,
}

/// For kernel packages: whether this kernel is the running one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KernelStatus {
    Running,
    InstalledNotRunning,
    RunningUnknown,
}

/// The kind of data a finding comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    Osv,
    DebianTracker,
    DebianCveList,
    DebianDsa,
    DebianDla,
    DebianDtsa,
    AlpineSecdb,
    UbuntuCveTracker,
    Oval,
}

/// An exception: the CVE does not count for hosts with `package` at
/// exactly `version` in the OS group or the site (exactly one is set).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub id: i64,
    pub cve: String,
    pub package: String,
    pub version: String,
    #[schema(required = true)]
    pub os_group: Option<String>,
    #[schema(required = true)]
    pub site: Option<String>,
    pub reason: String,
    /// `user:NAME` or `token:NAME`.
    pub author: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Exclusive; null: never.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
}

/// One vulnerability finding with its triage.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub cve: String,
    pub advisory: String,
    /// The configured feed it comes from.
    pub feed: String,
    pub feed_kind: FeedKind,
    /// The data set within the feed (OS release, OVAL document).
    pub data: String,
    pub package: String,
    pub arch: String,
    pub installed: String,
    /// Null when no fixed version is published.
    #[schema(required = true)]
    pub fixed: Option<String>,
    pub state: FindingState,
    pub severity: Severity,
    /// The vendor's own rating or CVSS vector.
    #[schema(required = true)]
    pub severity_raw: Option<String>,
    pub matched_name: String,
    pub name_used: NameUsed,
    #[schema(required = true)]
    pub kernel: Option<KernelStatus>,
    pub exposed: bool,
    pub explanation: String,
    /// Enabled tags.
    pub tags: Vec<String>,
    /// The exception that covers it, or null.
    #[schema(required = true)]
    pub excepted: Option<Exception>,
}

/// `GET /api/v1/hosts/{id}/vulnerabilities`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostVulnerabilities {
    pub host_id: i64,
    pub hostname: String,
    pub os: String,
    /// Feeds imported.
    pub feeds: u64,
    /// False when no imported feed has data for the host's OS: then no
    /// findings means unknown.
    pub covered: bool,
    pub count: u64,
    pub excepted: u64,
    /// Most severe first, excepted ones last.
    pub findings: Vec<Finding>,
}

/// One CVE across the caller's hosts.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CveSummary {
    pub cve: String,
    pub severity: Severity,
    /// Hosts exposed through a finding no exception covers.
    pub hosts: u64,
    pub packages: Vec<String>,
    pub tags: Vec<String>,
    /// Hosts whose every finding for the CVE is excepted.
    pub excepted_hosts: u64,
}

/// `GET /api/v1/cves`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CveList {
    pub count: u64,
    pub cves: Vec<CveSummary>,
}

/// A finding of one host.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostFinding {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub cve: String,
    pub advisory: String,
    pub feed: String,
    pub feed_kind: FeedKind,
    pub data: String,
    pub package: String,
    pub arch: String,
    pub installed: String,
    #[schema(required = true)]
    pub fixed: Option<String>,
    pub state: FindingState,
    pub severity: Severity,
    #[schema(required = true)]
    pub severity_raw: Option<String>,
    pub matched_name: String,
    pub name_used: NameUsed,
    #[schema(required = true)]
    pub kernel: Option<KernelStatus>,
    pub exposed: bool,
    pub explanation: String,
    pub tags: Vec<String>,
    #[schema(required = true)]
    pub excepted: Option<Exception>,
}

/// `GET /api/v1/cves/{id}`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CveHosts {
    pub cve: String,
    /// Hosts exposed (excepted findings left out).
    pub hosts: u64,
    pub findings: Vec<HostFinding>,
}

/// What the last assessment update did.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentUpdate {
    pub hosts: u64,
    pub assessed: u64,
    pub packages_matched: u64,
    pub sets_loaded: u64,
    pub findings: u64,
    /// Seconds.
    pub load: f64,
    /// Seconds.
    pub elapsed: f64,
}

/// `GET /api/v1/assessment`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// An update is running now (the numbers are from before it).
    pub updating: bool,
    pub feeds: u64,
    pub advisories: u64,
    /// Distinct (package set, OS, running kernel) assessments kept.
    pub assessments: u64,
    pub package_sets: u64,
    pub packages: u64,
    #[schema(required = true, format = DateTime)]
    pub updated_at: Option<String>,
    #[schema(required = true)]
    pub last_update: Option<AssessmentUpdate>,
}

/// A CVE tag.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub reason: String,
    /// A disabled tag keeps its assignments but tags nothing.
    pub enabled: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// CVEs assigned to it (of the caller's hosts, for a caller who may
    /// not read every site).
    pub cves: i64,
}

/// `GET /api/v1/tags`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagList {
    pub count: u64,
    pub tags: Vec<Tag>,
}

/// A CVE attached to a tag.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagAssignment {
    pub cve: String,
    pub tag: String,
    pub reason: String,
    pub author: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /api/v1/tags/assignments`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentList {
    pub count: u64,
    pub assignments: Vec<TagAssignment>,
}

/// `DELETE /api/v1/tags/{name}`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRemoved {
    /// The tag's name.
    pub removed: String,
}

/// `DELETE /api/v1/tags/{name}/cves/{cve}`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRemoved {
    pub tag: String,
    pub cve: String,
    pub removed: bool,
}

/// `GET /api/v1/exceptions`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionList {
    pub count: u64,
    pub exceptions: Vec<Exception>,
}

/// `DELETE /api/v1/exceptions/{id}`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionRemoved {
    /// The exception's id.
    pub removed: i64,
}

/// One pending update of a host.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostUpdate {
    pub name: String,
    pub arch: String,
    pub installed: String,
    pub candidate: String,
    /// The configured repository the candidate comes from.
    pub repository: String,
    pub security: bool,
    /// CVEs the update closes.
    pub cves: Vec<String>,
    /// Repository advisories shipping it; absent when none.
    #[serde(default)]
    pub advisories: Vec<String>,
    /// An Ubuntu phased update not yet offered to every host; absent when
    /// not phased.
    #[serde(default)]
    pub phased: bool,
}

/// `GET /api/v1/hosts/{id}/updates`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostUpdates {
    pub host_id: i64,
    pub hostname: String,
    /// The repositories used; empty when none applies (then no updates
    /// means unknown).
    pub repositories: Vec<String>,
    pub total: u64,
    pub security: u64,
    pub updates: Vec<HostUpdate>,
    /// CVEs with a fix that no repository of the host offers yet.
    pub fixes_not_in_repositories: Vec<String>,
    pub kernel: HostKernels,
    /// The host's apt preferences files that do not parse, each named
    /// with the reason: their pins are not applied.
    pub ignored_preferences: Vec<String>,
}

/// One kernel package.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KernelPackage {
    pub name: String,
    /// `[epoch:]version[-release]`.
    pub version: String,
    pub arch: String,
}

/// A host's kernels and whether it must reboot.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HostKernels {
    /// `uname -r` as reported.
    pub running: String,
    /// The installed kernel package the running kernel is, if any.
    #[schema(required = true)]
    pub running_package: Option<KernelPackage>,
    #[schema(required = true)]
    pub newest_installed: Option<KernelPackage>,
    /// The newest kernel of the same kind in the host's repositories.
    #[schema(required = true)]
    pub newest_available: Option<KernelPackage>,
    /// A newer kernel than every installed one is available.
    pub update_available: bool,
    /// The running kernel is older than the newest installed one.
    pub reboot_required_derived: bool,
    /// What the client said, when it said it.
    #[schema(required = true)]
    pub reboot_required_reported: Option<bool>,
    /// Either of the two.
    pub reboot_required: bool,
}

/// One installed instance of a package on a host.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstalledVersion {
    pub version: String,
    pub arch: String,
    /// The host's repositories offering exactly this version; empty when
    /// none does.
    pub from: Vec<String>,
}

/// Where a host stands with a package.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PackageState {
    Outdated,
    Current,
    Missing,
    Unknown,
}

/// One host in a package's fleet view.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageHost {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub installed: Vec<InstalledVersion>,
    pub state: PackageState,
    #[schema(required = true)]
    pub candidate: Option<String>,
    #[schema(required = true)]
    pub repository: Option<String>,
    pub security: bool,
}

/// `GET /api/v1/packages/{name}`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageView {
    pub name: String,
    pub hosts_total: u64,
    pub outdated: u64,
    pub current: u64,
    pub missing: u64,
    pub unknown: u64,
    pub hosts: Vec<PackageHost>,
}

/// A host's update counts.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetHostUpdates {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub repositories: Vec<String>,
    pub updates: u64,
    pub security: u64,
}

/// How many hosts have an update of a package pending.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageCount {
    pub name: String,
    pub hosts: u64,
    pub security_hosts: u64,
}

/// `GET /api/v1/updates`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetUpdates {
    pub hosts_total: u64,
    pub hosts_with_security_updates: u64,
    pub hosts: Vec<FleetHostUpdates>,
    pub packages: Vec<PackageCount>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RepositoryKind {
    Apt,
    RpmMd,
    Apk,
}

/// An imported snapshot of a repository's index.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoSnapshot {
    pub id: i64,
    /// Which import of its repository this is (1 for the first).
    pub number: i64,
    #[schema(format = DateTime)]
    pub imported_at: String,
    /// Hex SHA-256 of the document as stored.
    pub sha256: String,
    pub size: i64,
    pub packages: i64,
}

/// How the last sync of a repository went.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncState {
    #[schema(required = true)]
    pub etag: Option<String>,
    #[schema(required = true)]
    pub last_modified: Option<String>,
    #[schema(required = true, format = DateTime)]
    pub synced_at: Option<String>,
    /// Why the last attempt failed; null after a success.
    #[schema(required = true)]
    pub error: Option<String>,
}

/// A configured repository.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    pub id: i64,
    pub name: String,
    pub kind: RepositoryKind,
    /// The URL it is synced from, or the path it is imported from.
    pub source: String,
    pub suite: String,
    pub components: Vec<String>,
    pub architectures: Vec<String>,
    pub priority: i64,
    pub cost: i64,
    pub enabled: bool,
    /// OS groups whose hosts use it when their report names none known.
    pub default_for: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Null before the first import.
    #[schema(required = true)]
    pub current: Option<RepoSnapshot>,
    pub snapshots: i64,
    pub sync: SyncState,
}

/// `GET /api/v1/repos`
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryList {
    pub repositories: Vec<Repository>,
}
