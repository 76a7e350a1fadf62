//! Exact package-version ordering for the four package managers Patchwatch
//! monitors: dpkg, rpm, apk and pacman.
//!
//! Deciding whether a host is vulnerable comes down to "is the installed
//! version lower than the fixed version?". Each package manager answers that
//! question with its own algorithm, and the corner cases (tildes, carets,
//! leading zeros, letters after numbers, missing epochs or releases) differ
//! between them. This crate reproduces each tool's answer exactly, including
//! its quirks, rather than some idealised version of the rules.
//!
//! # The four orderings
//!
//! * **dpkg** ([`deb`]): Debian Policy §5.6.12 and `deb-version(7)` define a
//!   version as `[epoch:]upstream_version[-debian_revision]`. The epoch is an
//!   integer compared first; the other two parts are compared by dpkg's
//!   `verrevcmp`: alternating runs of non-digits (compared character by
//!   character, letters before non-letters, `~` before everything including
//!   the end of the string) and digits (compared as numbers). A missing
//!   revision equals `0`. dpkg refuses some strings outright (an empty or
//!   oversized epoch, an empty revision, ...) and merely warns about others
//!   (no leading digit, odd characters) while still comparing them.
//! * **rpm** ([`rpm`]): `rpmvercmp` from rpm's `rpmio/rpmvercmp.c` splits both
//!   strings into maximal alphabetic or numeric segments, skipping every other
//!   character as a separator. Numeric segments beat alphabetic ones and are
//!   compared as numbers; `~` sorts before anything (pre-releases) and `^`
//!   sorts after the base version but before any further segment
//!   (post-release snapshots). An EVR `[epoch:]version[-release]` compares
//!   epoch (missing means 0), version and release in turn, the way rpm's
//!   Python binding `rpm.labelCompare` does.
//! * **apk** ([`apk`]): apk-tools' `src/version.c` tokenises
//!   `digits{.digits}[letter]{_suffix[N]}[~hash][-rN]`. Suffixes rank
//!   `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git < _hg < _p`,
//!   a dotted number with a leading zero is compared as a string, and a
//!   string that stops being a valid version is still compared up to the
//!   point where it goes wrong.
//! * **pacman** ([`pacman`]): libalpm's `alpm_pkg_vercmp` (`lib/libalpm/version.c`)
//!   uses an older copy of `rpmvercmp` without `~`/`^` support but with two
//!   twists: a longer separator run wins, and a trailing alphabetic segment
//!   loses against the end of the string (`1.0a < 1.0`). The `pkgrel` is
//!   only compared when *both* sides have one, so pacman's relation is not
//!   transitive across mixed inputs; [`pacman`] documents the consequence.
//!
//! # C strings
//!
//! Every tool receives its versions as C strings, so it never sees anything
//! after a NUL byte. This crate does the same: input is cut at the first NUL.
//!
//! # Entry points
//!
//! [`compare`] gives the tool's answer for two strings without allocating,
//! [`validate`] says whether the tool accepts a string and why not, and
//! [`run_batch`] answers a stream of `A B` lines.
#![forbid(unsafe_code)]

pub mod apk;
mod batch;
pub mod deb;
mod error;
pub mod pacman;
pub mod rpm;
mod scan;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use batch::run_batch;
pub use error::{BatchError, ParseSchemeError, VersionError};

/// The version ordering of one package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// dpkg (Debian, Ubuntu).
    Deb,
    /// rpm (RHEL, Fedora, SUSE, AlmaLinux, Rocky).
    Rpm,
    /// apk-tools (Alpine).
    Apk,
    /// pacman / libalpm (Arch).
    Pacman,
}

impl Scheme {
    /// The scheme's name as accepted by [`FromStr`] and printed by [`Display`](fmt::Display).
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Deb => "deb",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pacman => "pacman",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = ParseSchemeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deb" => Ok(Scheme::Deb),
            "rpm" => Ok(Scheme::Rpm),
            "apk" => Ok(Scheme::Apk),
            "pacman" => Ok(Scheme::Pacman),
            _ => Err(ParseSchemeError {
                input: s.to_owned(),
            }),
        }
    }
}

/// Compares two version strings exactly as the scheme's tool does.
///
/// Never panics and never allocates. Per scheme:
///
/// * deb (`Scheme::Deb`): `dpkg --compare-versions`, see [`deb::compare`] for how
///   strings dpkg refuses are placed.
/// * rpm (`Scheme::Rpm`): `rpm.labelCompare` on the EVRs split as rpm splits
///   them, see [`rpm::compare`].
/// * apk (`Scheme::Apk`): `apk_version_compare`, see [`apk::compare`].
/// * pacman (`Scheme::Pacman`): `alpm_pkg_vercmp` (`vercmp`), see [`pacman::compare`];
///   like pacman itself, not transitive when only some inputs carry a
///   `pkgrel`, nor on some odd strings (see [`pacman`]).
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    compare_bytes(scheme, a.as_bytes(), b.as_bytes())
}

/// [`compare`] on raw bytes; lets [`run_batch`] skip UTF-8 validation.
pub(crate) fn compare_bytes(scheme: Scheme, a: &[u8], b: &[u8]) -> Ordering {
    match scheme {
        Scheme::Deb => deb::compare_bytes(a, b),
        Scheme::Rpm => rpm::compare_bytes(a, b),
        Scheme::Apk => apk::compare_bytes(a, b),
        Scheme::Pacman => pacman::compare_bytes(a, b),
    }
}

/// Checks a version string the way the scheme's tool would before using it.
///
/// * deb (`Scheme::Deb`): `Err` exactly when dpkg reports an *error*; strings
///   dpkg only *warns* about are `Ok` (dpkg still uses them). Use
///   [`deb::check`] to see the warning.
/// * rpm (`Scheme::Rpm`): rpmbuild's rules for the `Epoch`, `Version` and
///   `Release` tags (rpm itself compares any string).
/// * apk (`Scheme::Apk`): `apk_version_validate`.
/// * pacman (`Scheme::Pacman`): makepkg's rules for `epoch`, `pkgver` and `pkgrel`;
///   the `-pkgrel` may be absent, as in dependency versions.
pub fn validate(scheme: Scheme, v: &str) -> Result<(), VersionError> {
    match scheme {
        Scheme::Deb => deb::check(v).map(|_| ()),
        Scheme::Rpm => rpm::validate(v),
        Scheme::Apk => apk::validate(v),
        Scheme::Pacman => pacman::validate(v),
    }
}

/// Cuts a byte string at its first NUL, as a C program receiving it would.
#[inline]
pub(crate) fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// The `i`-th byte, or NUL past the end: lets ports of C loops read
/// "one past the end" the way the originals read the terminator.
#[inline(always)]
pub(crate) fn at(b: &[u8], i: usize) -> u8 {
    match b.get(i) {
        Some(&c) => c,
        None => 0,
    }
}

/// Where a segment-wise comparison of `a` and `b` may start instead of at 0.
///
/// Versions being compared usually share a long prefix (`2.36-9+deb12u4` vs
/// `2.36-9+deb12u7`). Every comparator here walks both strings in lockstep
/// and is in the same state at the start of any run of same-class bytes
/// inside a common prefix, so it can restart at the start of the run that
/// holds the first difference. `class` maps a byte to its run class.
#[inline(always)]
pub(crate) fn restart_point(a: &[u8], b: &[u8], class: impl Fn(u8) -> u8) -> usize {
    let mut k = common_prefix(a, b);
    if k == 0 {
        return 0;
    }
    let run = class(a[k - 1]);
    while k > 0 && class(a[k - 1]) == run {
        k -= 1;
    }
    k
}

/// Length of the common prefix. A plain loop: versions are short, and a
/// `memcmp` call (what `==` on slices becomes) costs more than it saves.
#[inline(always)]
pub(crate) fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut k = 0;
    // Eight bytes at a time: the first set bit of the XOR is the first
    // difference (little-endian loads keep byte order in bit order).
    while k + 8 <= n {
        let x = u64::from_le_bytes(a[k..k + 8].try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(b[k..k + 8].try_into().unwrap_or([0; 8]));
        let diff = x ^ y;
        if diff != 0 {
            return k + (diff.trailing_zeros() / 8) as usize;
        }
        k += 8;
    }
    while k < n && a[k] == b[k] {
        k += 1;
    }
    k
}

/// Byte-wise equality without a `memcmp` call, see [`common_prefix`].
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && common_prefix(a, b) == a.len()
}

/// Digit / letter / anything else: the run classes of rpm and pacman.
#[inline(always)]
pub(crate) fn alnum_class(c: u8) -> u8 {
    if c.is_ascii_digit() {
        0
    } else if c.is_ascii_alphabetic() {
        1
    } else {
        2
    }
}

/// Splits `[epoch:]rest` at the first `:`, checking that an epoch, when
/// there is one, is a non-empty run of digits (rpmbuild's and makepkg's
/// rule).
pub(crate) fn split_digit_epoch(v: &str) -> Result<(Option<&str>, &str), VersionError> {
    let Some((epoch, rest)) = v.split_once(':') else {
        return Ok((None, v));
    };
    if epoch.is_empty() {
        return Err(VersionError::EmptyPart {
            version: v.to_owned(),
            part: "epoch",
        });
    }
    if !epoch.bytes().all(|c| c.is_ascii_digit()) {
        return Err(VersionError::EpochNotNumber {
            version: v.to_owned(),
        });
    }
    Ok((Some(epoch), rest))
}

/// One run of rpmvercmp (and of alpm's vercmp, derived from it): digits
/// compare as numbers (leading zeros dropped, then the longer is greater,
/// then byte by byte), letters byte by byte. Both runs are of one kind.
#[inline(always)]
pub(crate) fn cmp_run(mut a: &[u8], mut b: &[u8], numeric: bool) -> Ordering {
    if numeric {
        while let [b'0', rest @ ..] = a {
            a = rest;
        }
        while let [b'0', rest @ ..] = b {
            b = rest;
        }
        let by_len = a.len().cmp(&b.len());
        if by_len != Ordering::Equal {
            return by_len;
        }
    }
    cmp_bytes(a, b)
}

/// Lexicographic byte order (C's `strcmp`/`memcmp` on the run), without a
/// `memcmp` call, see [`common_prefix`].
#[inline(always)]
pub(crate) fn cmp_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let k = common_prefix(a, b);
    match (a.get(k), b.get(k)) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => a.len().cmp(&b.len()),
    }
}
