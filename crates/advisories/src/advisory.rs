//! The normalised advisory model every feed parser produces.
//!
//! One [`Advisory`] is one vendor statement (an AlmaLinux erratum, a DSA, a
//! Debian tracker entry for one CVE in one source package, an Alpine secfix).
//! Its [`Affected`] rows say, per distribution release and package, what the
//! vendor decided ([`FixState`]). The matcher compares a host's installed
//! version with `FixState::Fixed { version }` using the ordering named by
//! [`Affected::scheme`]; every other state is a verdict on its own.

use std::fmt;

use patchwatch_reports::model::PackageType;
use serde::{Deserialize, Serialize};

/// Which feed (and so which parser and which vendor vocabulary) a statement
/// came from. Kept so the matcher can rank overlapping statements, e.g. prefer
/// the Debian tracker's per-CVE state over an older DSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// An OSV record (AlmaLinux, Rocky, Debian, Ubuntu, Alpine, SUSE...).
    Osv,
    /// Debian security tracker JSON (`/tracker/data/json`).
    DebianTracker,
    /// Debian tracker `data/CVE/list`.
    DebianCveList,
    /// Debian Security Advisory list (`data/DSA/list`).
    DebianDsa,
    /// Debian LTS Advisory list (`data/DLA/list`).
    DebianDla,
    /// Debian Testing Security Advisory list (`data/DTSA/list`).
    DebianDtsa,
    /// Alpine secdb (JSON or the legacy YAML).
    AlpineSecdb,
    /// Ubuntu CVE Tracker per-CVE text files.
    UbuntuCveTracker,
}

/// Normalised severity scale, ordered from least to most severe so the
/// matcher can take a maximum.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum SeverityLevel {
    /// Not rated yet (`not yet assigned`, `untriaged`) or not mappable.
    #[default]
    Unknown,
    /// Debian `unimportant`, Ubuntu `negligible`: no security impact in practice.
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

/// A severity with the vendor's own word (or CVSS vector) kept beside the
/// normalised level, because the words do not map one to one
/// (Debian's `high**` means "high, guessed from NVD").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Severity {
    pub level: SeverityLevel,
    /// The vendor's raw rating, e.g. `Important`, `high**`, `medium`,
    /// or a `CVSS:3.1/...` vector; `None` when the feed gave nothing.
    pub raw: Option<String>,
}

impl Severity {
    pub fn unknown() -> Severity {
        Severity::default()
    }

    /// Red Hat style words as used in AlmaLinux/Rocky advisory titles
    /// (`Important: openssl security update`).
    pub fn from_redhat(word: &str) -> Option<Severity> {
        let level = match word.trim().to_ascii_lowercase().as_str() {
            "critical" => SeverityLevel::Critical,
            "important" => SeverityLevel::High,
            "moderate" => SeverityLevel::Medium,
            "low" => SeverityLevel::Low,
            _ => return None,
        };
        Some(Severity {
            level,
            raw: Some(word.trim().to_owned()),
        })
    }

    /// Debian urgency (`unimportant`, `low`, `medium`, `high`, `not yet
    /// assigned`, `end-of-life`), with the tracker's `*`/`**` suffixes
    /// (urgency guessed from NVD) ignored for the level but kept in `raw`.
    /// Also used for Ubuntu priorities, whose vocabulary is a superset.
    pub fn from_debian(word: &str) -> Severity {
        let w = word.trim();
        let level = match w.trim_end_matches('*').to_ascii_lowercase().as_str() {
            "unimportant" | "negligible" => SeverityLevel::Negligible,
            "low" => SeverityLevel::Low,
            "medium" => SeverityLevel::Medium,
            "high" => SeverityLevel::High,
            "critical" => SeverityLevel::Critical,
            _ => SeverityLevel::Unknown,
        };
        Severity {
            level,
            raw: (!w.is_empty()).then(|| w.to_owned()),
        }
    }

    /// Ubuntu priorities: `negligible`, `low`, `medium`, `high`, `critical`,
    /// `untriaged`.
    pub fn from_ubuntu(word: &str) -> Severity {
        Severity::from_debian(word)
    }

    /// A CVSS v3.x vector, rated by its base score with the FIRST
    /// qualitative scale (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high,
    /// 9.0-10 critical). Other CVSS versions keep the vector with level
    /// `Unknown`.
    pub fn from_cvss(vector: &str) -> Severity {
        let level = crate::cvss::base_score_v3(vector).map_or(SeverityLevel::Unknown, |s| {
            if s >= 9.0 {
                SeverityLevel::Critical
            } else if s >= 7.0 {
                SeverityLevel::High
            } else if s >= 4.0 {
                SeverityLevel::Medium
            } else if s > 0.0 {
                SeverityLevel::Low
            } else {
                SeverityLevel::Negligible
            }
        });
        Severity {
            level,
            raw: Some(vector.to_owned()),
        }
    }
}

/// Whether [`Affected::package`] names a source package (Debian, Ubuntu,
/// Alpine origin) or a binary package (RPM-based OSV feeds list binary rpms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameKind {
    Source,
    Binary,
}

/// What the vendor says about one package in one release. The variants are
/// kept apart on purpose: a host is vulnerable in `Affected`, `NoAdvisory`,
/// `Deferred`, `WillNotFix` and `EndOfLife`, but the operator's remedy
/// differs (wait, accept, or upgrade the release).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FixState {
    /// Fixed in `version` (and later); older versions are vulnerable.
    Fixed { version: String },
    /// Vulnerable, no fixed version published yet (Debian `open`/`<unfixed>`,
    /// Ubuntu `needed`/`pending`, OSV range without `fixed`).
    Affected,
    /// Debian `<no-dsa>` (tracker JSON: `open` with `nodsa` and an empty
    /// `nodsa_reason`): vulnerable, judged minor; no security advisory
    /// planned, a fix may arrive through a point release.
    NoAdvisory,
    /// Debian `<postponed>` (`nodsa_reason: postponed`), Ubuntu `deferred`:
    /// vulnerable, fix planned for a later update.
    Deferred,
    /// Debian `<ignored>` (`nodsa_reason: ignored`), Ubuntu `ignored`:
    /// vulnerable, the vendor will not fix it in this release.
    WillNotFix,
    /// Debian `undetermined`/`<undetermined>`/`TODO`, Ubuntu `needs-triage`.
    UnderInvestigation,
    /// Never affected (Debian fixed version `0`, `<not-affected>`, Alpine
    /// fixed version `0`, Ubuntu `not-affected`).
    NotAffected,
    /// Security support for the package or release ended (Debian
    /// `<end-of-life>` or urgency `end-of-life`, Ubuntu `ignored (end of life)`).
    EndOfLife,
}

impl FixState {
    /// The fixed version, when there is one.
    pub fn fixed_version(&self) -> Option<&str> {
        match self {
            FixState::Fixed { version } => Some(version),
            _ => None,
        }
    }
}

/// One package in one distribution release and what the vendor decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// Lower-case os-release `ID`: `debian`, `ubuntu`, `almalinux`, `rocky`,
    /// `alpine`, `sles`, `sled`, `opensuse-leap`...
    pub distro: String,
    /// os-release `VERSION_ID` style: `12`, `22.04`, `9`, `3.19`, `15.5`;
    /// Debian unstable is `sid`, Alpine edge is `edge`, Ubuntu's development
    /// series is `devel`.
    pub release: String,
    /// The codename the feed used (`bookworm`, `jammy`), when it used one.
    pub codename: Option<String>,
    /// Where the fix is published when that is narrower than the release:
    /// Alpine repository (`main`, `community`), Ubuntu `pro`/`esm`, a Rocky
    /// yum repository (`AppStream`).
    pub repository: Option<String>,
    pub package: String,
    pub name_kind: NameKind,
    /// Version ordering to compare with: dpkg, rpm or apk.
    pub scheme: PackageType,
    /// OSV `introduced` bound when it is not `0` (versions before it are
    /// not affected).
    pub introduced: Option<String>,
    /// OSV `last_affected` bound: versions after it are not affected, but no
    /// fixed version is named.
    pub last_affected: Option<String>,
    pub state: FixState,
    /// Per-release rating when the feed gives one (Debian urgency, Ubuntu
    /// priority); the advisory-wide rating is [`Advisory::severity`].
    pub severity: Option<Severity>,
    /// The fixed build comes from an RPM module stream (release contains
    /// `.module`); [`Advisory::modules`] names the stream(s) when the title does.
    pub modular: bool,
    /// Architectures the statement applies to; empty means all.
    pub arch: Vec<String>,
    /// Binary packages built from this source, when the feed lists them
    /// (Ubuntu OSV `ecosystem_specific.binaries`).
    pub binaries: Vec<String>,
    /// The vendor's raw status words, e.g. `resolved`, `open/nodsa:ignored`,
    /// `<no-dsa>`, `needed`, `released`, `ECOSYSTEM`.
    pub vendor_status: String,
    /// Free-text remark from the vendor (`Minor issue`, `out of standard
    /// support`, Ubuntu Pro availability...).
    pub note: Option<String>,
}

impl Affected {
    /// A row with the common defaults; parsers fill in the rest.
    pub fn new(
        distro: &str,
        release: &str,
        package: &str,
        name_kind: NameKind,
        scheme: PackageType,
        state: FixState,
    ) -> Affected {
        Affected {
            distro: distro.to_owned(),
            release: release.to_owned(),
            codename: None,
            repository: None,
            package: package.to_owned(),
            name_kind,
            scheme,
            introduced: None,
            last_affected: None,
            state,
            severity: None,
            modular: false,
            arch: Vec::new(),
            binaries: Vec::new(),
            vendor_status: String::new(),
            note: None,
        }
    }
}

/// One vendor statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// Vendor id: `ALSA-2023:6938`, `DSA-5380-1`, `CVE-2021-36367` (tracker
    /// entries), `UBUNTU-CVE-2022-24823`, `v3.9/main/ansible/2.7.13-r0`
    /// (Alpine secfix: release/repository/package/fixed version).
    pub id: String,
    pub source: Source,
    pub title: String,
    /// CVE ids this statement covers, normalised to `CVE-YYYY-NNNN`.
    pub cves: Vec<String>,
    /// Other ids: related advisories (`DSA-5546-1`, `USN-5614-1`), Xen
    /// `XSA-207`, `TALOS-…`, `UBUNTU-CVE-…`.
    pub aliases: Vec<String>,
    pub severity: Severity,
    /// ISO 8601 date or timestamp as given by the feed (dates from the Debian
    /// lists are converted to `YYYY-MM-DD`).
    pub published: Option<String>,
    pub modified: Option<String>,
    /// The statement was withdrawn (OSV `withdrawn`) or the CVE rejected
    /// (Debian `REJECTED`): the matcher should drop it.
    pub withdrawn: bool,
    /// RPM module streams named in the title (`container-tools:4.0`).
    pub modules: Vec<String>,
    /// Tracker remarks that are not per-package: `NOT-FOR-US: …`, `TODO: …`,
    /// `RESERVED`, parse warnings (ids that had to be normalised).
    pub notes: Vec<String>,
    pub affected: Vec<Affected>,
}

impl Advisory {
    pub fn new(id: &str, source: Source) -> Advisory {
        Advisory {
            id: id.to_owned(),
            source,
            title: String::new(),
            cves: Vec::new(),
            aliases: Vec::new(),
            severity: Severity::unknown(),
            published: None,
            modified: None,
            withdrawn: false,
            modules: Vec::new(),
            notes: Vec::new(),
            affected: Vec::new(),
        }
    }

    /// Adds an id to `cves` or `aliases`, normalising CVE spellings and
    /// skipping duplicates.
    pub fn add_id(&mut self, raw: &str) {
        match crate::ids::normalise_cve(raw) {
            Some(cve) => {
                if !self.cves.contains(&cve) {
                    self.cves.push(cve);
                }
            }
            None => {
                let raw = raw.trim();
                if !raw.is_empty() && !self.aliases.iter().any(|a| a == raw) {
                    self.aliases.push(raw.to_owned());
                }
            }
        }
    }

    /// Highest per-package severity, used when the feed has no advisory-wide
    /// rating.
    pub fn max_affected_severity(&self) -> Option<Severity> {
        self.affected
            .iter()
            .filter_map(|a| a.severity.clone())
            .max_by_key(|s| s.level)
    }
}

impl fmt::Display for FixState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixState::Fixed { version } => write!(f, "fixed in {version}"),
            FixState::Affected => f.write_str("affected"),
            FixState::NoAdvisory => f.write_str("affected (no advisory planned)"),
            FixState::Deferred => f.write_str("deferred"),
            FixState::WillNotFix => f.write_str("will not fix"),
            FixState::UnderInvestigation => f.write_str("under investigation"),
            FixState::NotAffected => f.write_str("not affected"),
            FixState::EndOfLife => f.write_str("end of life"),
        }
    }
}
