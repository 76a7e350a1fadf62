//! Which advisory data applies to a host's OS.
//!
//! Advisory rows name a distro and a release the way the vendor publishes
//! data ([`patchwatch_advisories::Affected::distro`] / `release`): Debian per
//! major release (`12`), Ubuntu per `YY.MM`, AlmaLinux and Rocky per major
//! release (`AlmaLinux:9`), Alpine per branch (`3.19`), SUSE per service pack
//! (`15.5`). A host's normalised OS keeps its point release (`debian 12.5`,
//! `almalinux 9.3`, `alpine 3.19.1`), so the automatic mapping cuts the
//! release to the vendor's granularity ([`OsScope::automatic`]).
//!
//! Administrators override that with [`OsGroups`], as in Pakiti: a group
//! names member OS releases (patterns) and the data scopes that apply to
//! them, e.g. `centos 7` -> `rhel 7`, or `rocky 9` -> `almalinux 9`. The
//! first group with a matching member wins and replaces the automatic
//! mapping entirely, so a group can also *narrow* what applies.
//!
//! Config shape (the lead wires it to TOML):
//!
//! ```toml
//! [[group]]
//! name = "el9"
//! members = ["rocky 9", "centos-stream 9"]   # distro + release prefix
//! data = ["almalinux 9"]
//!
//! [[group]]
//! name = "bookworm-points"
//! members = ["debian 12.1", "debian 12.2", "debian 12.5"]
//! data = ["debian 12"]
//! ```
//!
//! A member `distro release` matches that distro when the host's release
//! equals `release` or continues it after a dot (`rocky 9` matches `9`,
//! `9.3`, `9.3.1`, not `90`); `distro *` (or a bare `distro`) matches every
//! release.

use std::fmt;

use patchwatch_reports::model::OsRelease;
use serde::{Deserialize, Serialize};

use crate::error::AssessError;

/// One slice of advisory data: a distro and a release as the feeds name
/// them (`debian 12`, `almalinux 9`, `ubuntu 22.04`, `alpine 3.19`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OsScope {
    pub distro: String,
    pub release: String,
}

/// How finely a vendor cuts its data by release.
enum Granularity {
    /// `12` for `12.5`.
    Major,
    /// `3.19` for `3.19.1`, `15.5` for `15.5`.
    MajorMinor,
    /// The release as given (`22.04`, `sid`, `rolling`).
    Full,
}

fn granularity(distro: &str) -> Granularity {
    match distro {
        "ubuntu" | "linuxmint" | "pop" => Granularity::Full,
        "alpine" | "sles" | "sles_sap" | "sled" | "opensuse-leap" | "sle-micro" => {
            Granularity::MajorMinor
        }
        _ => Granularity::Major,
    }
}

impl OsScope {
    pub fn new(distro: &str, release: &str) -> OsScope {
        OsScope {
            distro: distro.to_ascii_lowercase(),
            release: release.to_owned(),
        }
    }

    /// Parses `distro release` (`almalinux 9`).
    pub fn parse(s: &str) -> Result<OsScope, AssessError> {
        let mut words = s.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(d), Some(r), None) => Ok(OsScope::new(d, r)),
            _ => Err(AssessError::BadScope(s.to_owned())),
        }
    }

    /// The vendor data slice a normalised OS reads without any group:
    /// `debian 12.5` -> `debian 12`, `almalinux 9.3` -> `almalinux 9`,
    /// `alpine 3.19.1` -> `alpine 3.19`, `ubuntu 22.04` -> `ubuntu 22.04`.
    /// `None` for an unknown OS: no data applies to it.
    pub fn automatic(os: &OsRelease) -> Option<OsScope> {
        if os.is_unknown() || os.distro.is_empty() {
            return None;
        }
        let release = if !os.release.starts_with(|c: char| c.is_ascii_digit()) {
            // `sid`, `edge`, `rolling`: not numbered, keep as is.
            os.release.as_str()
        } else {
            match granularity(&os.distro) {
                Granularity::Major => os.major(),
                Granularity::MajorMinor => os.major_minor(),
                Granularity::Full => os.release.as_str(),
            }
        };
        Some(OsScope::new(&os.distro, release))
    }
}

impl fmt::Display for OsScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.distro, self.release)
    }
}

/// One admin-defined group, as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsGroupConfig {
    pub name: String,
    /// `distro release-prefix` patterns (`rocky 9`, `debian 12.5`, `centos *`).
    pub members: Vec<String>,
    /// Scopes whose data applies (`almalinux 9`).
    pub data: Vec<String>,
}

/// The whole `[[group]]` list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsGroupsConfig {
    #[serde(default, rename = "group")]
    pub groups: Vec<OsGroupConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    distro: String,
    /// `None`: every release.
    release: Option<String>,
}

impl Member {
    fn matches(&self, os: &OsRelease) -> bool {
        if !os.distro.eq_ignore_ascii_case(&self.distro) {
            return false;
        }
        match &self.release {
            None => true,
            Some(r) => {
                os.release == *r
                    || os
                        .release
                        .strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            }
        }
    }
}

/// A validated group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsGroup {
    pub name: String,
    members: Vec<Member>,
    pub data: Vec<OsScope>,
}

/// Admin-defined OS groups, checked in order before the automatic mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsGroups {
    groups: Vec<OsGroup>,
}

impl OsGroups {
    /// No groups: every OS uses [`OsScope::automatic`].
    pub fn none() -> OsGroups {
        OsGroups::default()
    }

    /// Validates a configuration: every group needs a name, at least one
    /// member and at least one data scope, each of the right shape.
    pub fn from_config(config: &OsGroupsConfig) -> Result<OsGroups, AssessError> {
        let mut groups = Vec::with_capacity(config.groups.len());
        for g in &config.groups {
            if g.name.trim().is_empty() {
                return Err(AssessError::BadGroup {
                    group: g.name.clone(),
                    reason: "empty name".into(),
                });
            }
            if g.members.is_empty() || g.data.is_empty() {
                return Err(AssessError::BadGroup {
                    group: g.name.clone(),
                    reason: "a group needs members and data".into(),
                });
            }
            let members = g
                .members
                .iter()
                .map(|m| parse_member(m))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| AssessError::BadGroup {
                    group: g.name.clone(),
                    reason: format!("members must be `distro [release]`: {:?}", g.members),
                })?;
            let data = g
                .data
                .iter()
                .map(|d| OsScope::parse(d))
                .collect::<Result<Vec<_>, _>>()?;
            groups.push(OsGroup {
                name: g.name.clone(),
                members,
                data,
            });
        }
        Ok(OsGroups { groups })
    }

    pub fn groups(&self) -> &[OsGroup] {
        &self.groups
    }

    /// The group an OS belongs to, if any (first match wins).
    pub fn group_of(&self, os: &OsRelease) -> Option<&OsGroup> {
        self.groups
            .iter()
            .find(|g| g.members.iter().any(|m| m.matches(os)))
    }

    /// The data scopes that apply to `os`: its group's data, else the
    /// automatic scope, else nothing.
    pub fn scopes_for(&self, os: &OsRelease) -> Vec<OsScope> {
        match self.group_of(os) {
            Some(g) => g.data.clone(),
            None => OsScope::automatic(os).into_iter().collect(),
        }
    }
}

fn parse_member(s: &str) -> Option<Member> {
    let mut words = s.split_whitespace();
    let distro = words.next()?.to_ascii_lowercase();
    let release = match words.next() {
        None | Some("*") => None,
        Some(r) => Some(r.to_owned()),
    };
    if words.next().is_some() {
        return None;
    }
    Some(Member { distro, release })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(d: &str, r: &str) -> OsRelease {
        OsRelease {
            distro: d.into(),
            release: r.into(),
        }
    }

    #[test]
    fn automatic_scopes() {
        let s = |d, r| OsScope::automatic(&os(d, r)).map(|s| s.to_string());
        assert_eq!(s("debian", "12.5").as_deref(), Some("debian 12"));
        assert_eq!(s("debian", "sid").as_deref(), Some("debian sid"));
        assert_eq!(s("almalinux", "9.3").as_deref(), Some("almalinux 9"));
        assert_eq!(s("rhel", "9.4").as_deref(), Some("rhel 9"));
        assert_eq!(s("ubuntu", "22.04").as_deref(), Some("ubuntu 22.04"));
        assert_eq!(s("alpine", "3.19.1").as_deref(), Some("alpine 3.19"));
        assert_eq!(s("sles", "15.5").as_deref(), Some("sles 15.5"));
        assert_eq!(s("unknown", "foo"), None);
    }

    #[test]
    fn groups_override_and_match_on_dot_boundaries() {
        let cfg = OsGroupsConfig {
            groups: vec![
                OsGroupConfig {
                    name: "el9".into(),
                    members: vec!["rocky 9".into(), "centos *".into()],
                    data: vec!["almalinux 9".into()],
                },
                OsGroupConfig {
                    name: "points".into(),
                    members: vec!["debian 12.1".into(), "debian 12.5".into()],
                    data: vec!["debian 12".into(), "debian 11".into()],
                },
            ],
        };
        let g = OsGroups::from_config(&cfg).unwrap();
        let scopes = |d, r| {
            g.scopes_for(&os(d, r))
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(scopes("rocky", "9.3"), ["almalinux 9"]);
        assert_eq!(scopes("rocky", "90"), ["rocky 90"]);
        assert_eq!(scopes("centos", "7.9.2009"), ["almalinux 9"]);
        assert_eq!(scopes("debian", "12.5"), ["debian 12", "debian 11"]);
        assert_eq!(scopes("debian", "12.4"), ["debian 12"]);
        assert_eq!(scopes("debian", "12.10"), ["debian 12"]);
    }

    #[test]
    fn bad_configs_are_typed_errors() {
        let bad = |members: &[&str], data: &[&str]| {
            OsGroups::from_config(&OsGroupsConfig {
                groups: vec![OsGroupConfig {
                    name: "g".into(),
                    members: members.iter().map(|s| s.to_string()).collect(),
                    data: data.iter().map(|s| s.to_string()).collect(),
                }],
            })
            .unwrap_err()
        };
        assert!(matches!(
            bad(&[], &["debian 12"]),
            AssessError::BadGroup { .. }
        ));
        assert!(matches!(
            bad(&["debian 12 x"], &["debian 12"]),
            AssessError::BadGroup { .. }
        ));
        assert!(matches!(
            bad(&["debian 12"], &["debian"]),
            AssessError::BadScope(_)
        ));
    }
}
