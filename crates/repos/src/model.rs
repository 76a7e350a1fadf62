//! The one repository model every index format is parsed into, and the
//! update a host would install from it.

use patchwatch_reports::Package;
use serde::{Deserialize, Serialize};

/// The index format, which also decides whose candidate rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepoKind {
    /// A Debian/Ubuntu apt repository (a `dists/SUITE` or a flat repository).
    Apt,
    /// A yum/dnf/zypper rpm-md repository (`repodata/repomd.xml`).
    RpmMd,
    /// An Alpine repository (`APKINDEX.tar.gz`).
    Apk,
}

impl RepoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoKind::Apt => "apt",
            RepoKind::RpmMd => "rpm-md",
            RepoKind::Apk => "apk",
        }
    }
}

/// What the repository says about itself: apt's `Release` fields, rpm-md's
/// `repomd.xml` revision and tags, apk's `DESCRIPTION`. Fields a format does
/// not have stay empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoMeta {
    pub origin: String,
    pub label: String,
    /// apt `Suite` (`bookworm-security`); rpm-md `revision`; apk `DESCRIPTION`.
    pub suite: String,
    pub codename: String,
    pub version: String,
    /// Components of an apt repository (`main`), empty elsewhere.
    pub components: Vec<String>,
    pub architectures: Vec<String>,
    /// apt `NotAutomatic: yes`: candidates only on request (pin 1).
    pub not_automatic: bool,
    /// apt `ButAutomaticUpgrades: yes` with `NotAutomatic`: pin 100.
    pub but_automatic_upgrades: bool,
    /// When the repository was published (RFC 3339), if it says.
    pub date: String,
    /// rpm-md distro/content tags (CPEs), for Red Hat OVAL v2 applicability.
    pub cpes: Vec<String>,
    /// The index files this snapshot was read from, with the checksums
    /// their Release or repomd.xml gave (recorded by `repos sync`, which
    /// skips downloading them again while the checksums stay the same).
    /// Absent in snapshots stored before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub index_files: Vec<IndexFile>,
}

/// One index file a snapshot was read from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexFile {
    /// As the Release or repomd.xml lists it (`main/binary-amd64/Packages.xz`,
    /// `repodata/…-primary.xml.gz`).
    pub path: String,
    /// `sha256`, `sha512`, … as the listing names it.
    pub algorithm: String,
    /// Lower-case hex.
    pub checksum: String,
}

/// One binary package the repository offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailablePackage {
    /// Name, epoch/version/release, arch, type, source: the same shape as an
    /// installed package so they compare directly.
    pub package: Package,
    /// Modular rpm: the `name:stream` it belongs to (from modules.yaml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// apt `Phased-Update-Percentage` (Ubuntu), when the index has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phased_percentage: Option<u8>,
    /// apt `Multi-Arch` (`same`, `foreign`, `allowed`), empty if none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub multi_arch: String,
}

/// A modulemd stream of an rpm-md repository, and whether it is a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleStream {
    pub name: String,
    pub stream: String,
    pub version: u64,
    pub context: String,
    pub arch: String,
    /// The NEVRAs (`name-epoch:version-release.arch`) the stream ships.
    pub artifacts: Vec<String>,
    /// modulemd-defaults names this stream as the module's default.
    pub is_default: bool,
}

/// How the repository classifies an update (updateinfo `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateKind {
    Security,
    Bugfix,
    Enhancement,
    Newpackage,
    Recommended,
    Optional,
    Other,
}

/// An advisory the repository itself publishes (rpm-md `updateinfo.xml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoAdvisory {
    /// `RLSA-2021:2575`, `FEDORA-2013-1234`, SUSE patch name.
    pub id: String,
    pub kind: UpdateKind,
    pub severity: String,
    pub title: String,
    /// Issued, RFC 3339, when the advisory says.
    pub issued: String,
    pub cves: Vec<String>,
    /// The packages the advisory ships (name, evr, arch).
    pub packages: Vec<Package>,
}

/// A parsed repository index: what the repository offered at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSnapshot {
    pub kind: RepoKind,
    pub meta: RepoMeta,
    pub packages: Vec<AvailablePackage>,
    pub advisories: Vec<RepoAdvisory>,
    pub modules: Vec<ModuleStream>,
}

/// One pending update: an installed package and the version the host's
/// package manager would install instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    pub name: String,
    pub arch: String,
    /// Installed `[epoch:]version[-release]`.
    pub installed: String,
    /// The candidate `[epoch:]version[-release]`.
    pub candidate: String,
    /// Which of the host's repositories the candidate comes from (the index
    /// into the repository list the computation was given).
    pub repository: usize,
    /// A security update (see the format module for the exact rule).
    pub security: bool,
    /// The CVEs the update closes, sorted, without duplicates.
    pub cves: Vec<String>,
    /// The repository advisories that ship it (updateinfo ids).
    pub advisories: Vec<String>,
    /// Ubuntu phased update not yet offered to every host.
    pub phased: bool,
}
