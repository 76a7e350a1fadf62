//! The one report model every client format is parsed into.
//!
//! A [`Report`] is what a host said about itself at one moment: who it is,
//! what it runs and what it has installed. The store keeps it as history; the
//! assessment reads the package set.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The wire protocol a report arrived in. Kept with every stored report so an
/// operator can see which client a host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Patchwatch's own JSON report, `POST /api/v1/reports`.
    Native,
    /// `pakiti-client` 3.x raw text.
    Pakiti5,
    /// `pakiti2-client` form post.
    Pakiti4,
    /// `patchman-client` multipart form.
    Patchman1,
    /// `patchman-client` JSON.
    Patchman2,
}

impl Protocol {
    pub const ALL: [Protocol; 5] = [
        Protocol::Native,
        Protocol::Pakiti5,
        Protocol::Pakiti4,
        Protocol::Patchman1,
        Protocol::Patchman2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Native => "native",
            Protocol::Pakiti5 => "pakiti-5",
            Protocol::Pakiti4 => "pakiti-4",
            Protocol::Patchman1 => "patchman-1",
            Protocol::Patchman2 => "patchman-2",
        }
    }

    pub fn parse(s: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which package manager installed a package; it decides how versions order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    Deb,
    Rpm,
    Apk,
    Pacman,
    Gentoo,
}

impl PackageType {
    pub const ALL: [PackageType; 5] = [
        PackageType::Deb,
        PackageType::Rpm,
        PackageType::Apk,
        PackageType::Pacman,
        PackageType::Gentoo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Rpm => "rpm",
            PackageType::Apk => "apk",
            PackageType::Pacman => "pacman",
            PackageType::Gentoo => "gentoo",
        }
    }

    pub fn parse(s: &str) -> Option<PackageType> {
        PackageType::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One installed package, split the way rpm splits a version: epoch, version
/// and release. Debian versions are split the same way (`epoch:upstream-revision`)
/// so every package manager fits one shape; [`Package::evr`] joins them back
/// into the string the package manager itself prints.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub epoch: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub release: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arch: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Source package name, where the package manager knows it (dpkg
    /// `Source:`, rpm source rpm name, apk origin).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_name: String,
    /// Source package version, when it differs from the binary's or is known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_version: String,
}

impl Package {
    /// The full version as the package manager prints it:
    /// `[epoch:]version[-release]` (apk: `version-rN` is kept in `version`).
    pub fn evr(&self) -> String {
        let mut s =
            String::with_capacity(self.epoch.len() + self.version.len() + self.release.len() + 2);
        if !self.epoch.is_empty() {
            s.push_str(&self.epoch);
            s.push(':');
        }
        s.push_str(&self.version);
        if !self.release.is_empty() {
            s.push('-');
            s.push_str(&self.release);
        }
        s
    }

    /// Brings a package to the one form every protocol agrees on, so a host
    /// reported natively and through Pakiti or Patchman yields the identical
    /// set. rpm and dpkg both treat a missing epoch as epoch 0, and rpm-based
    /// clients print `0:` where dpkg-based ones print nothing, so a zero epoch
    /// is dropped. Surrounding whitespace is never meaningful in any field.
    pub fn normalise(&mut self) {
        for field in [
            &mut self.name,
            &mut self.epoch,
            &mut self.version,
            &mut self.release,
            &mut self.arch,
            &mut self.source_name,
            &mut self.source_version,
        ] {
            // Checking the ends first skips `trim`'s UTF-8 decoding for the
            // fields that need nothing (nearly all of them).
            let clean_ends =
                |b: Option<&u8>| b.is_none_or(|b| b.is_ascii() && !b.is_ascii_whitespace());
            if clean_ends(field.as_bytes().first()) && clean_ends(field.as_bytes().last()) {
                continue;
            }
            let trimmed = field.trim();
            if trimmed.len() != field.len() {
                *field = trimmed.to_owned();
            }
        }
        if !self.epoch.is_empty() && self.epoch.bytes().all(|b| b == b'0') {
            self.epoch.clear();
        }
    }

    /// Splits a full `[epoch:]version[-release]` string the way dpkg and rpm
    /// do: the epoch ends at the first `:`, the release starts after the last
    /// `-`. apk and pacman keep their whole version in `version`... except
    /// pacman's `pkgrel`, which is a release in all but name.
    pub fn split_evr(kind: PackageType, full: &str) -> (String, String, String) {
        let (epoch, rest) = match full.split_once(':') {
            Some((e, r))
                if matches!(
                    kind,
                    PackageType::Deb | PackageType::Rpm | PackageType::Pacman
                ) =>
            {
                (e.to_owned(), r)
            }
            _ => (String::new(), full),
        };
        match kind {
            PackageType::Apk | PackageType::Gentoo => (epoch, rest.to_owned(), String::new()),
            _ => match rest.rsplit_once('-') {
                Some((v, r)) => (epoch, v.to_owned(), r.to_owned()),
                None => (epoch, rest.to_owned(), String::new()),
            },
        }
    }
}

/// The OS as the host describes it: os-release fields when the client read
/// `/etc/os-release`, else the one free-form string older clients send
/// (`Rocky Linux release 9.3 (Blue Onyx)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_codename: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id_like: String,
}

/// Distro and release in one normal form (`debian` + `12`,
/// `almalinux` + `9.3`), or `unknown` with the string the host sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OsRelease {
    pub distro: String,
    pub release: String,
}

impl OsRelease {
    pub const UNKNOWN: &'static str = "unknown";

    pub fn unknown(raw: &str) -> OsRelease {
        OsRelease {
            distro: Self::UNKNOWN.to_owned(),
            release: raw.trim().to_owned(),
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.distro == Self::UNKNOWN
    }

    /// The release up to its first dot: `12` for Debian `12.5`, `9` for
    /// Rocky `9.3`. Security data is often keyed on it.
    pub fn major(&self) -> &str {
        self.release
            .split_once('.')
            .map_or(self.release.as_str(), |(major, _)| major)
    }

    /// The first two dot-separated parts of the release: `3.19` for Alpine
    /// `3.19.1` (Alpine's secdb is per branch), `9.3` for Rocky `9.3`.
    pub fn major_minor(&self) -> &str {
        match self.release.match_indices('.').nth(1) {
            Some((second_dot, _)) => &self.release[..second_dot],
            None => &self.release,
        }
    }
}

impl fmt::Display for OsRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unknown() {
            write!(f, "unknown: {}", self.release)
        } else if self.release.is_empty() {
            f.write_str(&self.distro)
        } else {
            write!(f, "{} {}", self.distro, self.release)
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kernel {
    /// `uname -r`.
    pub release: String,
    /// `uname -v`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// A package repository the host is configured with: one `.list` line or
/// deb822 stanza, one `.repo` section, one `/etc/apk/repositories` line.
/// Every member but `type` is optional, so the lines older clients and
/// other protocols send (name, id, URLs) stay valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Repository {
    #[serde(rename = "type")]
    pub kind: PackageType,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// apt `URIs`, dnf `baseurl`, the apk or pacman server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// apt: the suites (`bookworm`, `bookworm-updates`); a deb822 stanza
    /// may name several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<String>,
    /// apt components (`main contrib`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// apt `arch=` / `Architectures:`; empty: the host's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// `false`: configured but disabled (`Enabled: no`, `enabled=0`);
    /// absent: enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// dnf `mirrorlist=`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mirrorlist: String,
    /// dnf `metalink=`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub metalink: String,
    /// dnf `cost=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<i64>,
    /// apk: the `@tag` of the line, without the `@`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
}

impl Repository {
    /// A repository of `kind` with nothing else known, for parsers to fill in.
    pub fn new(kind: PackageType) -> Repository {
        Repository {
            kind,
            name: String::new(),
            id: String::new(),
            priority: None,
            urls: Vec::new(),
            suites: Vec::new(),
            components: Vec::new(),
            architectures: Vec::new(),
            enabled: None,
            mirrorlist: String::new(),
            metalink: String::new(),
            cost: None,
            tag: String::new(),
        }
    }

    /// Whether the package manager uses it (absent `enabled` means yes).
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }
}

/// A dnf module stream the host enabled (`/etc/dnf/modules.d/*.module`
/// with `state=enabled`): its packages, and no other stream's, are
/// candidates for the module's packages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModuleStream {
    pub name: String,
    pub stream: String,
}

/// An update the host computed itself (Patchman clients on RHEL/SUSE).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientUpdate {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arch: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo: String,
    pub security: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebootHint {
    /// `None` when the client could not tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Why the client thinks so (`/var/run/reboot-required`, a newer kernel).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// An apk world pin (`name@tag` in `/etc/apk/world`): the package may come
/// from the repositories tagged `tag` as well as the untagged ones.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApkPin {
    pub name: String,
    pub tag: String,
}

/// One apt preferences file of the host (`/etc/apt/preferences` or a file
/// of `/etc/apt/preferences.d` that apt reads), as the client read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AptPreferences {
    /// Its path on the host (`/etc/apt/preferences.d/backports`).
    pub file: String,
    pub content: String,
}

/// What a host reported, whichever protocol it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub protocol: Protocol,
    pub hostname: String,
    /// The site the report names; the credentials used may pin it instead.
    pub site: Option<String>,
    pub tags: Vec<String>,
    pub os: OsInfo,
    /// The OS string as the client sent it, when it sent one string rather
    /// than os-release fields (Pakiti, Patchman).
    pub os_string: String,
    pub kernel: Kernel,
    pub arch: String,
    /// `None`: the client said "unchanged since my last report" (Patchman's
    /// empty field); the host keeps its previous set.
    pub packages: Option<Vec<Package>>,
    /// `None`: unchanged, as for packages.
    pub repositories: Option<Vec<Repository>>,
    /// Enabled dnf module streams. They belong with the repositories: when
    /// those are unchanged (`None`), the host keeps its previous streams too.
    pub module_streams: Vec<ModuleStream>,
    /// apk world pins; kept with the repositories as module streams are.
    pub apk_pins: Vec<ApkPin>,
    /// apt preferences files (pins), in the order apt reads them; kept
    /// with the repositories as module streams are.
    pub apt_preferences: Vec<AptPreferences>,
    pub updates: Vec<ClientUpdate>,
    pub reboot: RebootHint,
    pub client: ClientInfo,
}

impl Report {
    /// An empty report for `hostname`, for parsers to fill in.
    pub fn new(protocol: Protocol, hostname: impl Into<String>) -> Report {
        Report {
            protocol,
            hostname: hostname.into(),
            site: None,
            tags: Vec::new(),
            os: OsInfo::default(),
            os_string: String::new(),
            kernel: Kernel::default(),
            arch: String::new(),
            packages: Some(Vec::new()),
            repositories: Some(Vec::new()),
            module_streams: Vec::new(),
            apk_pins: Vec::new(),
            apt_preferences: Vec::new(),
            updates: Vec::new(),
            reboot: RebootHint::default(),
            client: ClientInfo::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evr_round_trips_through_split() {
        for (kind, full) in [
            (PackageType::Deb, "1:9.18.24-1"),
            (PackageType::Deb, "2.36-9+deb12u4"),
            (PackageType::Deb, "3.134"),
            (PackageType::Deb, "1.0-2-3"),
            (PackageType::Rpm, "1:3.0.7-25.el9_3"),
            (PackageType::Apk, "1.36.0-r0"),
            (PackageType::Pacman, "1:2.3-1"),
        ] {
            let (epoch, version, release) = Package::split_evr(kind, full);
            let p = Package {
                name: "x".into(),
                epoch,
                version,
                release,
                arch: String::new(),
                kind,
                source_name: String::new(),
                source_version: String::new(),
            };
            assert_eq!(p.evr(), full, "{kind} {full}");
        }
        assert_eq!(
            Package::split_evr(PackageType::Deb, "1.0-2-3"),
            ("".into(), "1.0-2".into(), "3".into())
        );
        assert_eq!(
            Package::split_evr(PackageType::Apk, "1.36.0-r0"),
            ("".into(), "1.36.0-r0".into(), "".into())
        );
    }

    #[test]
    fn normalise_drops_a_zero_epoch_only() {
        let mut p = Package {
            name: " bash ".into(),
            epoch: "0".into(),
            version: "5.1.8".into(),
            release: "6.el9_1".into(),
            arch: "x86_64".into(),
            kind: PackageType::Rpm,
            source_name: String::new(),
            source_version: String::new(),
        };
        p.normalise();
        assert_eq!(
            (p.name.as_str(), p.evr()),
            ("bash", "5.1.8-6.el9_1".to_owned())
        );
        p.epoch = "1".into();
        p.normalise();
        assert_eq!(p.evr(), "1:5.1.8-6.el9_1");
    }

    #[test]
    fn release_prefixes() {
        let r = |s: &str| OsRelease {
            distro: "x".into(),
            release: s.into(),
        };
        assert_eq!(r("12.5").major(), "12");
        assert_eq!(r("12").major(), "12");
        assert_eq!(r("").major(), "");
        assert_eq!(r("3.19.1").major_minor(), "3.19");
        assert_eq!(r("7.9.2009").major_minor(), "7.9");
        assert_eq!(r("22.04").major_minor(), "22.04");
        assert_eq!(r("39").major_minor(), "39");
    }
}
