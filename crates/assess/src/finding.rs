//! What the matcher concludes: one [`Finding`] per (CVE, installed package)
//! the host is exposed to, with the rule that decided it.
//!
//! A fleet assessment produces millions of findings that share a few
//! thousand statements and, per set, a few hundred packages. A finding
//! therefore points at a shared [`Statement`] (advisory, feed, CVEs, fixed
//! version, severity, rule) and a shared [`InstalledRef`] (name, arch,
//! installed version), and its fields are read through accessors. The
//! explanation is kept structured ([`Rule`]) and rendered on demand
//! ([`Finding::explanation`]) for the same reason: formatting every
//! finding's sentence up front would dominate the assessment time.

use std::fmt;
use std::sync::Arc;

use patchwatch_advisories::{SeverityLevel, Source};
use patchwatch_versions::Scheme;
use serde::Serialize;
use serde::ser::SerializeStruct;

/// Where a finding's statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Advisory(Source),
    /// An OVAL document evaluated against the set.
    Oval,
}

impl Feed {
    pub fn as_str(self) -> &'static str {
        match self {
            Feed::Advisory(s) => match s {
                Source::Osv => "osv",
                Source::DebianTracker => "debian-tracker",
                Source::DebianCveList => "debian-cve-list",
                Source::DebianDsa => "debian-dsa",
                Source::DebianDla => "debian-dla",
                Source::DebianDtsa => "debian-dtsa",
                Source::AlpineSecdb => "alpine-secdb",
                Source::UbuntuCveTracker => "ubuntu-cve-tracker",
            },
            Feed::Oval => "oval",
        }
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The vendor's verdict for a vulnerable package. `NotAffected` never makes
/// a finding, and neither does an installed version at or above the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingState {
    /// Fixed in [`Finding::fixed`]; the installed version is older.
    FixAvailable,
    /// Vulnerable, no fixed version published yet.
    Affected,
    /// Debian `<no-dsa>`: vulnerable, minor; no advisory planned.
    NoAdvisory,
    /// Vulnerable, the fix is postponed to a later update.
    Deferred,
    /// Vulnerable, the vendor will not fix it in this release.
    WillNotFix,
    /// The vendor has not decided yet whether the release is affected.
    UnderInvestigation,
    /// Security support for the package or the release ended.
    EndOfLife,
}

impl FindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::FixAvailable => "fix-available",
            FindingState::Affected => "affected-no-fix",
            FindingState::NoAdvisory => "no-advisory",
            FindingState::Deferred => "deferred",
            FindingState::WillNotFix => "will-not-fix",
            FindingState::UnderInvestigation => "under-investigation",
            FindingState::EndOfLife => "end-of-life",
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            FindingState::FixAvailable => "fix available",
            FindingState::Affected => "affected, no fix yet",
            FindingState::NoAdvisory => "affected, no advisory planned",
            FindingState::Deferred => "affected, fix deferred",
            FindingState::WillNotFix => "affected, will not be fixed",
            FindingState::UnderInvestigation => "under investigation",
            FindingState::EndOfLife => "affected, security support ended",
        }
    }
}

impl fmt::Display for FindingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of the package's names the statement matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameUsed {
    /// The source package name the client reported (dpkg `Source:`, apk
    /// origin), for data that names source packages.
    Source,
    /// The binary package name, for data that names binary packages (rpm).
    Binary,
    /// The data names source packages but the client reported no source
    /// name, so the binary name stood in for it.
    BinaryAsSource,
}

impl NameUsed {
    pub fn as_str(self) -> &'static str {
        match self {
            NameUsed::Source => "source",
            NameUsed::Binary => "binary",
            NameUsed::BinaryAsSource => "binary-as-source",
        }
    }
}

/// Whether a kernel package is the one the host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelStatus {
    /// The running kernel (`uname -r`): exposed.
    Running,
    /// Installed but not booted: not exposed until the host boots it.
    InstalledNotRunning,
    /// The host did not report its running kernel: treated as exposed.
    RunningUnknown,
}

impl KernelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KernelStatus::Running => "running",
            KernelStatus::InstalledNotRunning => "installed-not-running",
            KernelStatus::RunningUnknown => "running-unknown",
        }
    }
}

/// The rule that decided a finding, for its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `installed < fixed` under `scheme`, within the `introduced` bound.
    BelowFixed {
        scheme: Scheme,
        introduced: Option<Arc<str>>,
    },
    /// The vendor's state holds for every installed version within the
    /// bounds (there is no fixed version to compare with).
    State {
        scheme: Scheme,
        vendor_status: Arc<str>,
        introduced: Option<Arc<str>>,
        last_affected: Option<Arc<str>>,
    },
    /// An OVAL definition evaluated true.
    Oval {
        definition: Arc<str>,
        /// The satisfied version comparisons, as the evaluator explains them.
        comparisons: Arc<str>,
    },
}

fn ordering_name(s: Scheme) -> &'static str {
    match s {
        Scheme::Deb => "dpkg",
        Scheme::Rpm => "rpm",
        Scheme::Apk => "apk",
        Scheme::Pacman => "pacman",
    }
}

/// What one vendor statement says, built once (per index row, or per OVAL
/// definition) and shared by every finding it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `ALSA-2024:1234`, `DSA-5678-1`, a tracker CVE id, an OVAL
    /// definition's advisory.
    pub advisory: Arc<str>,
    pub feed: Feed,
    /// The data scope (`debian 12`, `almalinux 9`; for OVAL `oval`, or the
    /// name of the OVAL feed the document came from).
    pub data: Arc<str>,
    /// The CVEs it covers (its own id when it names none).
    pub cves: Arc<[Arc<str>]>,
    pub state: FindingState,
    /// The fixed version when `state` is [`FindingState::FixAvailable`].
    pub fixed: Option<Arc<str>>,
    pub severity: SeverityLevel,
    /// The vendor's own rating word or vector (`Important`, `high**`).
    pub severity_raw: Option<Arc<str>>,
    pub rule: Rule,
}

/// The installed package a finding is about, shared by its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledRef {
    /// Binary package name.
    pub name: String,
    pub arch: String,
    /// `[epoch:]version[-release]` as the package manager prints it.
    pub installed: String,
    /// The source name the statement matched under, when the client
    /// reported one (after the kernel alias: `linux` for
    /// `linux-signed-amd64`).
    pub source: Option<String>,
}

/// One vulnerability one installed package is exposed to.
///
/// 24 bytes: the statement and the package are shared, so a fleet's
/// millions of findings cost two reference counts each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    statement: Arc<Statement>,
    package: Arc<InstalledRef>,
    /// Index into the statement's CVEs.
    cve: u32,
    name_used: NameUsed,
    kernel: Option<KernelStatus>,
    /// The fixed version has an epoch, the installed one none: the package
    /// manager read the missing epoch as 0.
    epoch_defaulted: bool,
}

impl Finding {
    /// `cve` indexes `statement.cves` (clamped to the last one).
    pub fn new(
        statement: Arc<Statement>,
        cve: u32,
        package: Arc<InstalledRef>,
        name_used: NameUsed,
        kernel: Option<KernelStatus>,
        epoch_defaulted: bool,
    ) -> Finding {
        let last = statement.cves.len().saturating_sub(1) as u32;
        Finding {
            statement,
            package,
            cve: cve.min(last),
            name_used,
            kernel,
            epoch_defaulted,
        }
    }

    /// The installed package, shared by all its findings (so consecutive
    /// findings of one package can be told apart by pointer).
    pub fn installed_ref(&self) -> &Arc<InstalledRef> {
        &self.package
    }

    /// `CVE-YYYY-N`; the advisory id when the statement names no CVE.
    pub fn cve(&self) -> &str {
        self.statement
            .cves
            .get(self.cve as usize)
            .map_or(&*self.statement.advisory, |c| c)
    }
    pub fn advisory(&self) -> &str {
        &self.statement.advisory
    }
    pub fn feed(&self) -> Feed {
        self.statement.feed
    }
    /// The data scope the statement belongs to (`debian 12`).
    pub fn data(&self) -> &str {
        &self.statement.data
    }
    /// Installed binary package name.
    pub fn package(&self) -> &str {
        &self.package.name
    }
    pub fn arch(&self) -> &str {
        &self.package.arch
    }
    /// Installed `[epoch:]version[-release]`.
    pub fn installed(&self) -> &str {
        &self.package.installed
    }
    /// The fixed version, when the state is [`FindingState::FixAvailable`].
    pub fn fixed(&self) -> Option<&str> {
        self.statement.fixed.as_deref()
    }
    pub fn state(&self) -> FindingState {
        self.statement.state
    }
    pub fn severity(&self) -> SeverityLevel {
        self.statement.severity
    }
    pub fn severity_raw(&self) -> Option<&str> {
        self.statement.severity_raw.as_deref()
    }
    /// The name the statement is about (`openssl` for `libssl3`).
    pub fn matched_name(&self) -> &str {
        match (self.name_used, &self.package.source) {
            (NameUsed::Source, Some(s)) => s,
            _ => &self.package.name,
        }
    }
    pub fn name_used(&self) -> NameUsed {
        self.name_used
    }
    /// `Some` for kernel packages (one per installed kernel).
    pub fn kernel(&self) -> Option<KernelStatus> {
        self.kernel
    }
    pub fn statement(&self) -> &Statement {
        &self.statement
    }
    pub fn rule(&self) -> &Rule {
        &self.statement.rule
    }

    /// Whether the host is exposed now: everything but a kernel that is
    /// installed and not running.
    pub fn is_exposed(&self) -> bool {
        self.kernel != Some(KernelStatus::InstalledNotRunning)
    }

    /// The rule in words, e.g. `installed 3.0.11-1~deb12u2 < fixed
    /// 3.0.13-1~deb12u1 (dpkg ordering); DSA-5678-1 via debian-tracker;
    /// source name openssl`.
    pub fn explanation(&self) -> String {
        self.to_string()
    }

    fn write_rule(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.statement.rule {
            Rule::BelowFixed { scheme, introduced } => {
                if let Some(i) = introduced {
                    write!(f, "introduced {i} <= ")?;
                }
                write!(
                    f,
                    "installed {} < fixed {} ({} ordering",
                    self.installed(),
                    self.fixed().unwrap_or("?"),
                    ordering_name(*scheme)
                )?;
                if self.epoch_defaulted {
                    f.write_str("; no installed epoch = epoch 0")?;
                }
                f.write_str(")")
            }
            Rule::State {
                scheme,
                vendor_status,
                introduced,
                last_affected,
            } => {
                write!(
                    f,
                    "{}: installed {}",
                    self.state().phrase(),
                    self.installed()
                )?;
                if let Some(i) = introduced {
                    write!(f, " >= introduced {i}")?;
                }
                if let Some(l) = last_affected {
                    write!(f, " <= last affected {l}")?;
                }
                if introduced.is_some() || last_affected.is_some() {
                    write!(f, " ({} ordering)", ordering_name(*scheme))?;
                }
                if !vendor_status.is_empty() {
                    write!(f, " (vendor status {vendor_status})")?;
                }
                Ok(())
            }
            Rule::Oval {
                definition,
                comparisons,
            } => {
                write!(f, "OVAL {definition} true")?;
                if !comparisons.is_empty() {
                    write!(f, ": {comparisons}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_rule(f)?;
        write!(f, "; {} via {}", self.advisory(), self.feed())?;
        match self.name_used {
            NameUsed::Source => write!(f, "; source name {}", self.matched_name())?,
            NameUsed::Binary => {}
            NameUsed::BinaryAsSource => write!(
                f,
                "; binary name {} used as source name (none reported)",
                self.matched_name()
            )?,
        }
        match self.kernel {
            Some(KernelStatus::Running) => f.write_str("; running kernel"),
            Some(KernelStatus::InstalledNotRunning) => {
                f.write_str("; kernel installed, not running")
            }
            Some(KernelStatus::RunningUnknown) => {
                f.write_str("; kernel (running kernel not reported)")
            }
            None => Ok(()),
        }
    }
}

/// JSON shape for the CLI and API: the fields plus the rendered explanation.
impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Finding", 16)?;
        st.serialize_field("cve", self.cve())?;
        st.serialize_field("advisory", self.advisory())?;
        st.serialize_field("feed", self.feed().as_str())?;
        st.serialize_field("data", self.data())?;
        st.serialize_field("package", self.package())?;
        st.serialize_field("arch", self.arch())?;
        st.serialize_field("installed", self.installed())?;
        st.serialize_field("fixed", &self.fixed())?;
        st.serialize_field("state", self.state().as_str())?;
        st.serialize_field("severity", &self.severity())?;
        st.serialize_field("severity_raw", &self.severity_raw())?;
        st.serialize_field("matched_name", self.matched_name())?;
        st.serialize_field("name_used", self.name_used.as_str())?;
        st.serialize_field("kernel", &self.kernel.map(KernelStatus::as_str))?;
        st.serialize_field("exposed", &self.is_exposed())?;
        st.serialize_field("explanation", &self.explanation())?;
        st.end()
    }
}
