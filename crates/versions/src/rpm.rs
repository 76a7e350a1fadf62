//! RPM versions: `rpmvercmp` segments and `[epoch:]version[-release]` EVRs.
//!
//! [`vercmp`] is rpm's `rpmvercmp` (rpm 4.18, `rpmio/rpmvercmp.c`): both
//! strings are cut into maximal runs of ASCII digits or ASCII letters;
//! everything else separates runs and is otherwise ignored, except `~`
//! (sorts before anything, even the end of the string) and `^` (sorts after
//! the end of the string but before anything else). A numeric run beats an
//! alphabetic one; numeric runs compare as numbers of any length.
//!
//! An EVR is split the way rpm's `parseEVR` splits it: the epoch is a
//! leading run of digits followed by `:` (an empty one means `0`), the
//! release is what follows the last `-`. [`Evr`]'s order is
//! `rpm.labelCompare`'s: epochs (missing = `0`), then versions, then releases
//! with `rpmvercmp`; a missing release sorts before any release, so `1.0`
//! is lower than `1.0-0`. (rpm's dependency matching additionally treats a
//! missing release as matching every release; that is a match rule, not an
//! order, and is left to callers.)

use std::cmp::Ordering;
use std::fmt;

mod nevra;

pub use nevra::Nevra;

use crate::{Scheme, VersionError, alnum_class, at, c_str, cmp_run, restart_point, same};

/// An rpm `[epoch:]version[-release]`, borrowing from its string.
#[derive(Debug, Clone, Copy)]
pub struct Evr<'a> {
    /// The epoch digits, `None` when the string has no `epoch:` prefix
    /// (compared as `0`). An empty epoch (`:1.0`) is stored as `"0"`, as rpm does.
    pub epoch: Option<&'a str>,
    /// The version.
    pub version: &'a str,
    /// The release after the last `-`, `None` when there is no `-`.
    pub release: Option<&'a str>,
}

/// rpm stores the epoch in a 32-bit tag.
const EPOCH_MAX: u64 = u32::MAX as u64;

/// Characters rpmbuild allows in Version and Release besides ASCII letters
/// and digits (`%{}` only survive as unexpanded macros, which it tolerates).
const ALLOWED: &[u8] = b"._+%{}~^";

#[derive(Clone, Copy)]
pub(crate) struct RawEvr<'a> {
    pub(crate) epoch: Option<&'a [u8]>,
    pub(crate) version: &'a [u8],
    pub(crate) release: Option<&'a [u8]>,
}

/// rpm's `parseEVR`: never fails, every string is some EVR. One pass finds
/// the end of the C string and its last hyphen.
#[inline]
pub(crate) fn split_raw(s: &[u8]) -> RawEvr<'_> {
    let (len, dash) = crate::scan::evr_marks(s);
    let s = &s[..len];
    let digits = s.iter().position(|c| !c.is_ascii_digit()).unwrap_or(len);
    let (epoch, version_start) = if at(s, digits) == b':' {
        let epoch: &[u8] = if digits == 0 { b"0" } else { &s[..digits] };
        (Some(epoch), digits + 1)
    } else {
        (None, 0)
    };
    // The epoch is all digits, so the last hyphen is never inside it.
    if dash == usize::MAX {
        RawEvr {
            epoch,
            version: &s[version_start..],
            release: None,
        }
    } else {
        RawEvr {
            epoch,
            version: &s[version_start..dash],
            release: Some(&s[dash + 1..]),
        }
    }
}

impl RawEvr<'_> {
    #[inline]
    pub(crate) fn label_cmp(&self, other: &Self) -> Ordering {
        vercmp_bytes(self.epoch.unwrap_or(b"0"), other.epoch.unwrap_or(b"0"))
            .then_with(|| vercmp_bytes(self.version, other.version))
            .then_with(|| match (self.release, other.release) {
                (Some(a), Some(b)) => vercmp_bytes(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl<'a> Evr<'a> {
    /// Splits any string the way rpm does; never fails.
    pub fn split(s: &'a str) -> Self {
        let raw = split_raw(s.as_bytes());
        // Every cut is next to an ASCII byte, so the parts stay &str.
        let base = s.as_ptr() as usize;
        let part = |p: &[u8]| -> &'a str {
            let start = (p.as_ptr() as usize).wrapping_sub(base);
            if start > s.len() {
                // The "0" rpm substitutes for an empty epoch is not in `s`.
                return "0";
            }
            &s[start..start + p.len()]
        };
        Evr {
            epoch: raw.epoch.map(part),
            version: part(raw.version),
            release: raw.release.map(part),
        }
    }

    /// Splits `s` after checking it with [`validate`].
    pub fn parse(s: &'a str) -> Result<Self, VersionError> {
        validate(s)?;
        Ok(Self::split(s))
    }

    fn raw(&self) -> RawEvr<'a> {
        RawEvr {
            epoch: self.epoch.map(str::as_bytes),
            version: self.version.as_bytes(),
            release: self.release.map(str::as_bytes),
        }
    }
}

impl fmt::Display for Evr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = self.epoch {
            write!(f, "{e}:")?;
        }
        f.write_str(self.version)?;
        if let Some(r) = self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

impl Ord for Evr<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.raw().label_cmp(&other.raw())
    }
}

impl PartialOrd for Evr<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Evr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Evr<'_> {}

/// Compares two EVR strings like `rpm.labelCompare` on `rpm.ver(a)` and
/// `rpm.ver(b)`: any string is accepted.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_bytes(a.as_bytes(), b.as_bytes())
}

pub(crate) fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    if same(a, b) {
        return Ordering::Equal;
    }
    split_raw(a).label_cmp(&split_raw(b))
}

/// rpm's `rpmvercmp` on two bare strings (no epoch or release splitting).
pub fn vercmp(a: &str, b: &str) -> Ordering {
    vercmp_bytes(c_str(a.as_bytes()), c_str(b.as_bytes()))
}

fn is_segment_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'~' || c == b'^'
}

/// Port of `rpmvercmp`; `at` stands in for the C string terminator.
pub(crate) fn vercmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    // rpm starts with the same shortcut for identical strings.
    if same(a, b) {
        return Ordering::Equal;
    }
    let start = restart_point(a, b, alnum_class);
    let (mut i, mut j) = (start, start);
    while i < a.len() || j < b.len() {
        while i < a.len() && !is_segment_char(a[i]) {
            i += 1;
        }
        while j < b.len() && !is_segment_char(b[j]) {
            j += 1;
        }
        let (ca, cb) = (at(a, i), at(b, j));

        if ca == b'~' || cb == b'~' {
            if ca != b'~' {
                return Ordering::Greater;
            }
            if cb != b'~' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // `^` is like `~` except that the end of the string sorts lower.
        if ca == b'^' || cb == b'^' {
            if ca == 0 {
                return Ordering::Less;
            }
            if cb == 0 {
                return Ordering::Greater;
            }
            if ca != b'^' {
                return Ordering::Greater;
            }
            if cb != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == 0 || cb == 0 {
            break;
        }

        let numeric = ca.is_ascii_digit();
        let run = |s: &[u8], k: usize| -> usize {
            let len = s[k..]
                .iter()
                .position(|&c| {
                    if numeric {
                        !c.is_ascii_digit()
                    } else {
                        !c.is_ascii_alphabetic()
                    }
                })
                .unwrap_or(s.len() - k);
            k + len
        };
        let (ea, eb) = (run(a, i), run(b, j));
        // `a` starts a run of its own kind; if `b` has none of that kind, it
        // holds the other kind, and numbers are newer than letters.
        if eb == j {
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
        i = ea;
        j = eb;
    }
    match (i < a.len(), j < b.len()) {
        (false, false) => Ordering::Equal,
        (false, true) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// Checks an EVR against rpmbuild's rules for the `Epoch`, `Version` and
/// `Release` tags: an epoch is a non-empty run of digits that fits in 32
/// bits; version and release are non-empty, use only ASCII letters, digits
/// and `._+%{}~^`, and never contain `..`.
pub fn validate(v: &str) -> Result<(), VersionError> {
    if v.is_empty() {
        return Err(VersionError::Empty {
            scheme: Scheme::Rpm,
        });
    }
    let owned = || v.to_owned();
    let (epoch, rest) = crate::split_digit_epoch(v)?;
    if let Some(e) = epoch {
        let value = e.bytes().fold(0u64, |acc, d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        if value > EPOCH_MAX {
            return Err(VersionError::EpochTooBig {
                version: owned(),
                max: EPOCH_MAX,
            });
        }
    }
    let (version, release) = match rest.rsplit_once('-') {
        Some((ver, rel)) => (ver, Some(rel)),
        None => (rest, None),
    };
    check_field(v, version, "version")?;
    if let Some(rel) = release {
        check_field(v, rel, "release")?;
    }
    Ok(())
}

fn check_field(whole: &str, field: &str, part: &'static str) -> Result<(), VersionError> {
    if field.is_empty() {
        return Err(VersionError::EmptyPart {
            version: whole.to_owned(),
            part,
        });
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || (c.is_ascii() && ALLOWED.contains(&(c as u8)));
    if let Some(ch) = field.chars().find(|&c| !allowed(c)) {
        return Err(VersionError::InvalidChar {
            version: whole.to_owned(),
            part,
            ch,
        });
    }
    if field.contains("..") {
        return Err(VersionError::DoubleDot {
            version: whole.to_owned(),
            part,
        });
    }
    Ok(())
}
