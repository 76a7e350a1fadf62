//! Debian versions as dpkg orders them: `[epoch:]upstream_version[-debian_revision]`.
//!
//! The rules follow Debian Policy §5.6.12 and dpkg's `lib/dpkg/version.c` /
//! `parsehelp.c` (dpkg 1.21): the epoch is everything before the *first*
//! `:`, the revision everything after the *last* `-`; leading and trailing
//! blanks are ignored. dpkg sorts its problems into two levels, and so does
//! this module:
//!
//! * **errors** (dpkg refuses the string): empty string, embedded blanks,
//!   an empty, non-numeric, negative or too large (> 2147483647) epoch,
//!   nothing after the colon, an empty upstream part, an empty revision.
//!   [`Version::parse`], [`check`] and [`crate::validate`] return `Err`.
//! * **warnings** (dpkg says "bad syntax" but goes on using the version):
//!   an upstream part not starting with a digit, or characters outside
//!   `[A-Za-z0-9.+~-:]` (upstream) / `[A-Za-z0-9.+~]` (revision).
//!   [`Version::parse`] and [`crate::validate`] return `Ok`;
//!   [`check`] returns the [`Warning`].

use std::cmp::Ordering;
use std::fmt;

use crate::{VersionError, at, restart_point};

/// A parsed Debian version borrowing from its string.
///
/// Equality is dpkg's: `1.0` and `1.00`, or `1.0` and `0:1.0-0`, are equal.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    /// The epoch (0 when absent).
    pub epoch: u32,
    /// The upstream version, between the epoch's colon and the last hyphen.
    pub upstream: &'a str,
    /// The Debian revision after the last hyphen; empty when absent, which
    /// dpkg treats exactly like `0`.
    pub revision: &'a str,
}

/// Something dpkg calls "bad syntax" but still accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Warning {
    /// The upstream part starts with something other than a digit.
    NotStartingWithDigit,
    /// The upstream part contains a character outside `[A-Za-z0-9.+~-:]`.
    InvalidCharInVersion,
    /// The revision contains a character outside `[A-Za-z0-9.+~]`.
    InvalidCharInRevision,
}

impl fmt::Display for Warning {
    /// dpkg's own wording, as printed after "has bad syntax: ".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Warning::NotStartingWithDigit => "version number does not start with digit",
            Warning::InvalidCharInVersion => "invalid character in version number",
            Warning::InvalidCharInRevision => "invalid character in revision number",
        })
    }
}

/// The error-level problems, kept allocation-free so that [`compare`] can
/// use the same parser; turned into a [`VersionError`] only on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Empty,
    EmbeddedSpace,
    EpochEmpty,
    EpochNotNumber,
    EpochNegative,
    EpochTooBig,
    NothingAfterColon,
    VersionEmpty,
    RevisionEmpty,
}

impl Problem {
    fn into_error(self, version: &str) -> VersionError {
        let version = version.to_owned();
        match self {
            Problem::Empty => VersionError::Empty {
                scheme: crate::Scheme::Deb,
            },
            Problem::EmbeddedSpace => VersionError::EmbeddedSpace { version },
            Problem::EpochEmpty => VersionError::EmptyPart {
                version,
                part: "epoch",
            },
            Problem::EpochNotNumber => VersionError::EpochNotNumber { version },
            Problem::EpochNegative => VersionError::EpochNegative { version },
            Problem::EpochTooBig => VersionError::EpochTooBig {
                version,
                max: EPOCH_MAX as u64,
            },
            Problem::NothingAfterColon => VersionError::NothingAfterColon { version },
            Problem::VersionEmpty => VersionError::EmptyPart {
                version,
                part: "version number",
            },
            Problem::RevisionEmpty => VersionError::EmptyPart {
                version,
                part: "revision",
            },
        }
    }
}

/// dpkg stores the epoch in an `int`.
const EPOCH_MAX: u32 = i32::MAX as u32;

/// A version split into its parts, as raw bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a> {
    epoch: u32,
    upstream: &'a [u8],
    revision: &'a [u8],
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Port of dpkg's `parseversion`, minus the warnings (see [`warning`]).
///
/// One pass ([`crate::scan`]) finds everything dpkg looks for: the end of
/// the C string, the first colon, the last hyphen and any blank. Blanks are
/// rare, so only then does a second pass trim them and check for embedded ones.
#[inline]
pub(crate) fn parse_raw(s: &[u8]) -> Result<Raw<'_>, Problem> {
    let crate::scan::DebMarks {
        len,
        colon,
        hyphen,
        blank,
    } = crate::scan::deb_marks(s);
    let s = &s[..len];
    if blank {
        return parse_trimmed(s);
    }
    if s.is_empty() {
        return Err(Problem::Empty);
    }
    let (epoch, rest) = if colon == usize::MAX {
        (0, 0)
    } else {
        let epoch = parse_epoch(&s[..colon])?;
        if colon + 1 == len {
            return Err(Problem::NothingAfterColon);
        }
        (epoch, colon + 1)
    };
    let (upstream, revision) = if hyphen != usize::MAX && hyphen >= rest {
        if hyphen + 1 == len {
            return Err(Problem::RevisionEmpty);
        }
        (&s[rest..hyphen], &s[hyphen + 1..])
    } else {
        (&s[rest..], &s[len..])
    };
    if upstream.is_empty() {
        return Err(Problem::VersionEmpty);
    }
    Ok(Raw {
        epoch,
        upstream,
        revision,
    })
}

#[cold]
fn parse_trimmed(s: &[u8]) -> Result<Raw<'_>, Problem> {
    let start = s.iter().position(|&c| !is_blank(c)).ok_or(Problem::Empty)?;
    let s = &s[start..];
    let end = s.iter().position(|&c| is_blank(c)).unwrap_or(s.len());
    if s[end..].iter().any(|&c| !is_blank(c)) {
        return Err(Problem::EmbeddedSpace);
    }
    parse_raw(&s[..end])
}

/// dpkg reads the epoch with `strtol(string, &end, 10)` and then insists
/// that `end` is the colon, so this accepts exactly what `strtol` consumes:
/// C white space, an optional sign, then decimal digits.
fn parse_epoch(field: &[u8]) -> Result<u32, Problem> {
    let mut i = field
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .unwrap_or(field.len());
    let negative = match at(field, i) {
        b'-' => {
            i += 1;
            true
        }
        b'+' => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &field[i.min(field.len())..];
    let n = digits
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if n == 0 {
        return Err(Problem::EpochEmpty);
    }
    if n != digits.len() {
        return Err(Problem::EpochNotNumber);
    }
    // Saturating is enough: anything above i64::MAX is ERANGE in strtol and
    // "too big" (or "negative") for dpkg either way.
    let magnitude = digits.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    if negative && magnitude != 0 {
        return Err(Problem::EpochNegative);
    }
    if magnitude > u64::from(EPOCH_MAX) {
        return Err(Problem::EpochTooBig);
    }
    Ok(magnitude as u32)
}

/// The first "bad syntax" warning dpkg would print, in dpkg's order.
fn warning(raw: &Raw<'_>) -> Option<Warning> {
    if !raw.upstream[0].is_ascii_digit() {
        return Some(Warning::NotStartingWithDigit);
    }
    if raw.upstream[1..]
        .iter()
        .any(|&c| !c.is_ascii_alphanumeric() && !b".-+~:".contains(&c))
    {
        return Some(Warning::InvalidCharInVersion);
    }
    if raw
        .revision
        .iter()
        .any(|&c| !c.is_ascii_alphanumeric() && !b".+~".contains(&c))
    {
        return Some(Warning::InvalidCharInRevision);
    }
    None
}

/// Checks `v` as dpkg does: `Err` for what dpkg refuses, `Ok(Some(_))` for
/// what it accepts with a "bad syntax" warning, `Ok(None)` for a clean version.
pub fn check(v: &str) -> Result<Option<Warning>, VersionError> {
    let raw = parse_raw(v.as_bytes()).map_err(|p| p.into_error(v))?;
    Ok(warning(&raw))
}

impl<'a> Version<'a> {
    /// Parses `s`, accepting what dpkg accepts (warning-level oddities
    /// included; see [`check`]).
    pub fn parse(s: &'a str) -> Result<Self, VersionError> {
        let raw = parse_raw(s.as_bytes()).map_err(|p| p.into_error(s))?;
        // The parts are split at ASCII bytes (or trimmed of them), and
        // cutting at a NUL keeps UTF-8 intact, so they are still &str.
        let offset = |part: &[u8]| part.as_ptr() as usize - s.as_ptr() as usize;
        let slice = |part: &[u8]| &s[offset(part)..offset(part) + part.len()];
        Ok(Version {
            epoch: raw.epoch,
            upstream: slice(raw.upstream),
            revision: slice(raw.revision),
        })
    }
}

impl fmt::Display for Version<'_> {
    /// The canonical spelling: the epoch only when non-zero (or when a colon
    /// later in the string would otherwise be read as the epoch's), the
    /// revision only when present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 || self.upstream.contains(':') || self.revision.contains(':') {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version<'_> {}

/// dpkg's weight of a character in a non-digit run: `~` below the end of the
/// string, letters next, then everything else. dpkg computes this on a
/// signed `char`, which is why bytes from 0x80 up land between the letters
/// and ASCII punctuation.
#[inline(always)]
fn order(c: u8) -> i32 {
    match c {
        0 | b'0'..=b'9' => 0,
        b'A'..=b'Z' | b'a'..=b'z' => i32::from(c),
        b'~' => -1,
        0x80.. => i32::from(c),
        _ => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` for one upstream version or revision.
pub(crate) fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let start = restart_point(a, b, |c| u8::from(c.is_ascii_digit()));
    let (mut i, mut j) = (start, start);
    while i < a.len() || j < b.len() {
        loop {
            let (ca, cb) = (at(a, i), at(b, j));
            let a_text = i < a.len() && !ca.is_ascii_digit();
            let b_text = j < b.len() && !cb.is_ascii_digit();
            if !a_text && !b_text {
                break;
            }
            let (oa, ob) = (order(ca), order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// How `dpkg --compare-versions` sees an argument.
enum Operand<'a> {
    /// dpkg refuses it; it only reaches an ordering here because
    /// [`compare`] must answer something.
    Refused(&'a [u8]),
    /// `""` or `<unknown>`: dpkg skips parsing and treats it as "no version",
    /// earlier than any real version.
    Blank,
    Valid(Raw<'a>),
}

impl<'a> Operand<'a> {
    #[inline]
    fn new(s: &'a [u8]) -> Self {
        // dpkg tests the C string, so "<unknown>" followed by a NUL counts.
        let blank = match s.first() {
            None | Some(0) => true,
            Some(b'<') => {
                s.len() >= 9
                    && crate::same(&s[..9], b"<unknown>")
                    && s.get(9).is_none_or(|&c| c == 0)
            }
            Some(_) => false,
        };
        if blank {
            return Operand::Blank;
        }
        match parse_raw(s) {
            Ok(raw) => Operand::Valid(raw),
            Err(_) => Operand::Refused(crate::c_str(s)),
        }
    }
}

/// Compares like `dpkg --compare-versions A lt|eq|gt B`.
///
/// Warning-level versions are compared as dpkg compares them. `""` and
/// `<unknown>` are dpkg's "no version": equal to each other and lower than
/// every real version. dpkg aborts on a version it refuses (see
/// [`check`]); so that this function is still a total order, such strings
/// sort below everything else, and among themselves by their bytes.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_bytes(a.as_bytes(), b.as_bytes())
}

pub(crate) fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    // Installed == fixed is the most common answer of a scan, and identical
    // strings are equal whatever they contain.
    if crate::same(a, b) {
        return Ordering::Equal;
    }
    match (Operand::new(a), Operand::new(b)) {
        (Operand::Valid(x), Operand::Valid(y)) => x
            .epoch
            .cmp(&y.epoch)
            .then_with(|| verrevcmp(x.upstream, y.upstream))
            .then_with(|| verrevcmp(x.revision, y.revision)),
        (Operand::Refused(x), Operand::Refused(y)) => x.cmp(y),
        (Operand::Blank, Operand::Blank) => Ordering::Equal,
        (Operand::Refused(_), _) | (Operand::Blank, Operand::Valid(_)) => Ordering::Less,
        (_, Operand::Refused(_)) | (Operand::Valid(_), Operand::Blank) => Ordering::Greater,
    }
}
