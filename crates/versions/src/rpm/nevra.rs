use std::fmt;

use super::Evr;
use crate::VersionError;

/// A package label `name-[epoch:]version-release.arch`, as printed by
/// `rpm -q`, listed in Red Hat advisories, or used as a file name
/// (`name-version-release.arch.rpm`, `name-version-release.src.rpm`).
///
/// The yum/dnf spelling with the epoch in front (`epoch:name-version-release.arch`)
/// is accepted too. Parsing works from the right, because names may contain
/// `-` and releases may contain `.`: the arch follows the last `.`, the
/// release the last `-` before it, the version the `-` before that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nevra<'a> {
    /// Package name.
    pub name: &'a str,
    /// Epoch digits, `None` when absent.
    pub epoch: Option<&'a str>,
    /// Version.
    pub version: &'a str,
    /// Release.
    pub release: &'a str,
    /// Architecture (`x86_64`, `noarch`, `src`, ...).
    pub arch: &'a str,
}

impl<'a> Nevra<'a> {
    /// Parses a NEVRA or an rpm file name.
    pub fn parse(s: &'a str) -> Result<Self, VersionError> {
        let empty = |part| VersionError::EmptyPart {
            version: s.to_owned(),
            part,
        };
        // A label whose arch is literally "rpm" is indistinguishable from
        // a file name; no real arch is called that, so the suffix goes.
        let body = s.strip_suffix(".rpm").unwrap_or(s);
        let (rest, arch) = body.rsplit_once('.').ok_or_else(|| empty("arch"))?;
        if arch.is_empty() || arch.contains('-') {
            return Err(empty("arch"));
        }
        let (rest, release) = rest.rsplit_once('-').ok_or_else(|| empty("release"))?;
        let (name, version) = rest.rsplit_once('-').ok_or_else(|| empty("version"))?;
        if release.is_empty() {
            return Err(empty("release"));
        }
        let (epoch, version) = match version.split_once(':') {
            Some((e, v)) => (Some(e), v),
            None => (None, version),
        };
        let (epoch, name) = match (epoch, name.split_once(':')) {
            (None, Some((e, n))) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
                (Some(e), n)
            }
            (epoch, _) => (epoch, name),
        };
        if name.is_empty() {
            return Err(empty("name"));
        }
        if version.is_empty() {
            return Err(empty("version"));
        }
        if let Some(e) = epoch {
            if e.is_empty() {
                return Err(empty("epoch"));
            }
            if !e.bytes().all(|c| c.is_ascii_digit()) {
                return Err(VersionError::EpochNotNumber {
                    version: s.to_owned(),
                });
            }
        }
        Ok(Nevra {
            name,
            epoch,
            version,
            release,
            arch,
        })
    }

    /// The epoch-version-release part, for ordering.
    pub fn evr(&self) -> Evr<'a> {
        Evr {
            epoch: self.epoch,
            version: self.version,
            release: Some(self.release),
        }
    }
}

impl fmt::Display for Nevra<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-", self.name)?;
        if let Some(e) = self.epoch {
            write!(f, "{e}:")?;
        }
        write!(f, "{}-{}.{}", self.version, self.release, self.arch)
    }
}
