//! Arch Linux versions as pacman orders them: `[epoch:]pkgver[-pkgrel]`.
//!
//! This is libalpm's `alpm_pkg_vercmp` (what `vercmp` prints), pacman 6.0:
//! the string is split like rpm's `parseEVR` (epoch = leading digits before
//! `:`, default `0`; pkgrel = after the last `-`), and each part is compared
//! with libalpm's copy of an old `rpmvercmp`. That copy knows nothing about
//! `~` or `^` and differs from rpm's in two ways: when the separator runs
//! before two segments have different lengths, the longer run wins
//! (`1.0 < 1..0`), and when one side is exhausted, a remaining alphabetic
//! segment loses (`1.0a < 1.0`, `1.0 < 1.0.1`, `1 < 1.`).
//!
//! **The relation is not transitive.** `pkgrel` is compared only when both
//! sides have one, so `1.0-1 = 1.0 = 1.0-2` while `1.0-1 < 1.0-2`. [`compare`]
//! reproduces this because it is what pacman answers (it lets a dependency
//! on `foo=1.0` match any release). For sorting, use inputs that either all
//! carry a `pkgrel` or all lack one; within each group the order is total.
//! libalpm's segment rules are not transitive either on odd strings with
//! empty segments: `.` < `0` < `.a`, yet `.` > `.a` (verified against
//! libalpm). Versions made of alphanumeric segments joined by single
//! separators are totally ordered (property-tested). For these reasons
//! [`Version`] implements no `Ord`/`Eq`, only [`Version::vercmp`].

use std::cmp::Ordering;

use crate::{Scheme, VersionError, alnum_class, at, cmp_run, restart_point, same};

/// A pacman version split into its parts, borrowing from its string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    /// Epoch digits; `"0"` when absent or empty, as libalpm assumes.
    pub epoch: &'a str,
    /// The package version.
    pub pkgver: &'a str,
    /// The release after the last `-`, if any.
    pub pkgrel: Option<&'a str>,
}

#[derive(Clone, Copy)]
struct Raw<'a> {
    epoch: &'a [u8],
    pkgver: &'a [u8],
    pkgrel: Option<&'a [u8]>,
}

fn split_raw(s: &[u8]) -> Raw<'_> {
    let evr = crate::rpm::split_raw(s);
    Raw {
        epoch: evr.epoch.unwrap_or(b"0"),
        pkgver: evr.version,
        pkgrel: evr.release,
    }
}

impl<'a> Version<'a> {
    /// Splits any string the way libalpm does; never fails.
    pub fn split(s: &'a str) -> Self {
        let raw = split_raw(s.as_bytes());
        let base = s.as_ptr() as usize;
        let part = |p: &[u8]| -> &'a str {
            let start = (p.as_ptr() as usize).wrapping_sub(base);
            if start > s.len() {
                // libalpm's default "0" epoch is not part of `s`.
                return "0";
            }
            &s[start..start + p.len()]
        };
        Version {
            epoch: part(raw.epoch),
            pkgver: part(raw.pkgver),
            pkgrel: raw.pkgrel.map(part),
        }
    }

    /// Splits `s` after checking it with [`validate`].
    pub fn parse(s: &'a str) -> Result<Self, VersionError> {
        validate(s)?;
        Ok(Self::split(s))
    }

    /// `alpm_pkg_vercmp` on the two versions (not a total order, see the
    /// module documentation).
    pub fn vercmp(&self, other: &Self) -> Ordering {
        Raw {
            epoch: self.epoch.as_bytes(),
            pkgver: self.pkgver.as_bytes(),
            pkgrel: self.pkgrel.map(str::as_bytes),
        }
        .vercmp(&Raw {
            epoch: other.epoch.as_bytes(),
            pkgver: other.pkgver.as_bytes(),
            pkgrel: other.pkgrel.map(str::as_bytes),
        })
    }
}

impl Raw<'_> {
    #[inline]
    fn vercmp(&self, other: &Self) -> Ordering {
        segments_cmp(self.epoch, other.epoch)
            .then_with(|| segments_cmp(self.pkgver, other.pkgver))
            .then_with(|| match (self.pkgrel, other.pkgrel) {
                (Some(a), Some(b)) => segments_cmp(a, b),
                _ => Ordering::Equal,
            })
    }
}

/// Compares like `vercmp A B` (`alpm_pkg_vercmp`).
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_bytes(a.as_bytes(), b.as_bytes())
}

pub(crate) fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    // libalpm's own shortcut for identical strings.
    if same(a, b) {
        return Ordering::Equal;
    }
    split_raw(a).vercmp(&split_raw(b))
}

/// Port of libalpm's `rpmvercmp`; `at` stands in for the C terminator.
fn segments_cmp(a: &[u8], b: &[u8]) -> Ordering {
    if same(a, b) {
        return Ordering::Equal;
    }
    // `i`/`j` walk the strings; `pi`/`pj` mark where the last segment
    // ended, so that `i - pi` is the length of the separator run.
    let start = restart_point(a, b, alnum_class);
    let (mut i, mut j, mut pi, mut pj) = (start, start, start, start);
    while i < a.len() && j < b.len() {
        while i < a.len() && !a[i].is_ascii_alphanumeric() {
            i += 1;
        }
        while j < b.len() && !b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if i == a.len() || j == b.len() {
            break;
        }
        if i - pi != j - pj {
            return (i - pi).cmp(&(j - pj));
        }
        let numeric = a[i].is_ascii_digit();
        let end_of_run = |s: &[u8], k: usize| -> usize {
            k + s[k..]
                .iter()
                .position(|&c| {
                    if numeric {
                        !c.is_ascii_digit()
                    } else {
                        !c.is_ascii_alphabetic()
                    }
                })
                .unwrap_or(s.len() - k)
        };
        let (ea, eb) = (end_of_run(a, i), end_of_run(b, j));
        if eb == j {
            // `b` has a segment of the other kind here: numbers are newer.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let by_run = cmp_run(&a[i..ea], &b[j..eb], numeric);
        if by_run != Ordering::Equal {
            return by_run;
        }
        (i, j, pi, pj) = (ea, eb, ea, eb);
    }
    let (ca, cb) = (at(a, i), at(b, j));
    if ca == 0 && cb == 0 {
        return Ordering::Equal;
    }
    // A leftover alphabetic segment marks a pre-release, so it loses even
    // against the end of the string; anything else left over wins.
    if (ca == 0 && !cb.is_ascii_alphabetic()) || ca.is_ascii_alphabetic() {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// Checks a version against makepkg's rules: an optional epoch of digits
/// before `:`, a non-empty `pkgver` of printable ASCII without `:`, `/`,
/// `-` or whitespace, and an optional `-pkgrel` of the form `N` or `N.M`.
pub fn validate(v: &str) -> Result<(), VersionError> {
    if v.is_empty() {
        return Err(VersionError::Empty {
            scheme: Scheme::Pacman,
        });
    }
    let owned = || v.to_owned();
    let (_epoch, rest) = crate::split_digit_epoch(v)?;
    let (pkgver, pkgrel) = match rest.rsplit_once('-') {
        Some((ver, rel)) => (ver, Some(rel)),
        None => (rest, None),
    };
    if pkgver.is_empty() {
        return Err(VersionError::EmptyPart {
            version: owned(),
            part: "pkgver",
        });
    }
    if let Some(ch) = pkgver
        .chars()
        .find(|&c| !c.is_ascii_graphic() || matches!(c, ':' | '/' | '-'))
    {
        return Err(if is_space(ch) {
            VersionError::EmbeddedSpace { version: owned() }
        } else {
            VersionError::InvalidChar {
                version: owned(),
                part: "pkgver",
                ch,
            }
        });
    }
    if let Some(rel) = pkgrel {
        let ok = match rel.split_once('.') {
            Some((n, m)) => is_number(n) && is_number(m),
            None => is_number(rel),
        };
        if !ok {
            return Err(VersionError::BadPkgrel { version: owned() });
        }
    }
    Ok(())
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{b}'
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}
