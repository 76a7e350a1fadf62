//! Alpine versions as apk-tools orders them.
//!
//! The grammar (apk-tools 3, `src/version.c`) is
//! `digits{.digits}[letter]{_suffix[digits]}[~hash][-rdigits]`, read as a
//! sequence of tokens. Two versions are compared token by token:
//!
//! * the first number, suffix numbers and the revision compare as numbers
//!   (apk keeps them in a `uint64_t`, so absurdly long ones wrap around, and
//!   so do they here);
//! * a later dotted number compares as a number, unless either side starts
//!   with `0`, in which case both compare as strings (`1.01 < 1.1`,
//!   `1.001 < 1.01`);
//! * a letter compares by its character, a commit hash as a string;
//! * suffixes rank `_alpha < _beta < _pre < _rc < (none) < _cvs < _svn <
//!   _git < _hg < _p`.
//!
//! When one side runs out of tokens of the same kind first, a pre-release
//! suffix (`_alpha` … `_rc`) on either side makes that side older; otherwise
//! the side whose next token comes *earlier* in the grammar is newer, the end
//! of the string comes after everything, and garbage after even that.
//! Strings apk rejects are compared up to the point where they go wrong
//! (`1.0 < 1.0bc`, and `1.0bc = 1.0bd` because both break at the same
//! place).

use std::cmp::Ordering;
use std::fmt;

use crate::{VersionError, c_str, cmp_bytes};

/// A valid apk version, borrowing from its string; ordered like apk-tools.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a>(&'a str);

impl<'a> Version<'a> {
    /// Accepts `s` if `apk_version_validate` would.
    pub fn parse(s: &'a str) -> Result<Self, VersionError> {
        validate(s)?;
        Ok(Version(s))
    }

    /// The version string.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

impl fmt::Display for Version<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self.0, other.0)
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

/// Token kinds in grammar order; the order itself is used by the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks; `NONE` (no suffix) is the pivot between pre- and post-releases.
const SUFFIX_NONE: u8 = 5;

fn suffix_rank(name: &[u8]) -> Option<u8> {
    Some(match name {
        b"alpha" => 1,
        b"beta" => 2,
        b"pre" => 3,
        b"rc" => 4,
        b"cvs" => 6,
        b"svn" => 7,
        b"git" => 8,
        b"hg" => 9,
        b"p" => 10,
        _ => return None,
    })
}

/// apk-tools' tokenizer state: the current token and the rest of the input.
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    kind: Kind,
    suffix: u8,
    number: u64,
    value: &'a [u8],
    /// Why the lexer entered [`Kind::Invalid`], for error messages.
    why: &'static str,
}

impl<'a> Lexer<'a> {
    /// Starts on the leading number, which every version must have.
    #[inline]
    fn new(s: &'a [u8]) -> Self {
        let mut lx = Lexer {
            s,
            pos: 0,
            kind: Kind::InitialDigit,
            suffix: 0,
            number: 0,
            value: &[],
            why: "",
        };
        lx.digits("a version starts with a number");
        lx
    }

    #[inline]
    fn fail(&mut self, why: &'static str) {
        self.kind = Kind::Invalid;
        self.why = why;
    }

    /// Reads a run of decimal digits into `number` (wrapping, like apk's
    /// `uint64_t` arithmetic) and `value`; an empty run is invalid.
    #[inline]
    fn digits(&mut self, why: &'static str) {
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(&c) = self.s.get(self.pos) {
            if !c.is_ascii_digit() {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            self.pos += 1;
        }
        self.number = n;
        self.value = &self.s[start..self.pos];
        if self.value.is_empty() {
            self.fail(why);
        }
    }

    /// Consumes the longest prefix of bytes accepted by `pred`.
    #[inline]
    fn span(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|&c| pred(c)) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    /// Advances to the next token, checking that it may follow the current one.
    fn next(&mut self) {
        let Some(&c) = self.s.get(self.pos) else {
            self.kind = Kind::End;
            return;
        };
        match c {
            b'a'..=b'z' => {
                if self.kind > Kind::Digit {
                    return self.fail("a letter may only follow a number");
                }
                self.value = &self.s[self.pos..self.pos + 1];
                self.kind = Kind::Letter;
                self.pos += 1;
            }
            b'.' | b'0'..=b'9' => {
                if c == b'.' {
                    if self.kind > Kind::Digit {
                        return self.fail("'.' may only follow a number");
                    }
                    self.pos += 1;
                }
                self.kind = match self.kind {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    Kind::Suffix => Kind::SuffixNo,
                    _ => return self.fail("a number may not follow here"),
                };
                self.digits("expected a number");
            }
            b'_' => {
                if self.kind > Kind::SuffixNo {
                    return self.fail("a suffix may not follow a commit hash or revision");
                }
                self.pos += 1;
                self.value = self.span(|c| c.is_ascii_lowercase());
                match suffix_rank(self.value) {
                    Some(rank) => {
                        self.suffix = rank;
                        self.kind = Kind::Suffix;
                    }
                    None => self.fail(
                        "unknown suffix (expected alpha, beta, pre, rc, cvs, svn, git, hg or p)",
                    ),
                }
            }
            b'~' => {
                if self.kind >= Kind::CommitHash {
                    return self.fail("a commit hash may not follow a commit hash or revision");
                }
                self.pos += 1;
                self.value = self.span(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                if self.value.is_empty() {
                    return self.fail("'~' must be followed by a lowercase hex commit hash");
                }
                self.kind = Kind::CommitHash;
            }
            b'-' => {
                if self.kind >= Kind::RevisionNo {
                    return self.fail("only one -rN revision is allowed");
                }
                if self.s.get(self.pos + 1) != Some(&b'r') {
                    return self.fail("'-' must start a -rN revision");
                }
                self.pos += 2;
                self.kind = Kind::RevisionNo;
                self.digits("-r must be followed by a number");
            }
            _ => self.fail("unexpected character"),
        }
    }

    /// How two tokens of the same kind compare.
    #[inline]
    fn cmp_token(&self, other: &Self) -> Ordering {
        match self.kind {
            Kind::Digit if self.value[0] != b'0' && other.value[0] != b'0' => {
                self.number.cmp(&other.number)
            }
            // A leading zero makes apk fall back to comparing the text.
            Kind::Digit | Kind::CommitHash => cmp_bytes(self.value, other.value),
            Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => {
                self.number.cmp(&other.number)
            }
            Kind::Letter => self.value[0].cmp(&other.value[0]),
            Kind::Suffix => self.suffix.cmp(&other.suffix),
            Kind::End | Kind::Invalid => Ordering::Equal,
        }
    }

    fn is_pre_release(&self) -> bool {
        self.kind == Kind::Suffix && self.suffix < SUFFIX_NONE
    }
}

/// Compares like `apk_version_compare` (`apk version -t A B`).
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_bytes(a.as_bytes(), b.as_bytes())
}

pub(crate) fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    // Identical strings tokenize identically, valid or not.
    if crate::same(a, b) {
        return Ordering::Equal;
    }
    let (mut ta, mut tb) = (Lexer::new(c_str(a)), Lexer::new(c_str(b)));
    while ta.kind == tb.kind && ta.kind < Kind::End {
        let r = ta.cmp_token(&tb);
        if r != Ordering::Equal {
            return r;
        }
        ta.next();
        tb.next();
    }
    if ta.kind == tb.kind {
        return Ordering::Equal;
    }
    if ta.is_pre_release() {
        return Ordering::Less;
    }
    if tb.is_pre_release() {
        return Ordering::Greater;
    }
    // Reversed on purpose: the side that continues with an earlier kind of
    // token (a further number, a letter, ...) is the newer one.
    tb.kind.cmp(&ta.kind)
}

/// Accepts exactly what `apk_version_validate` accepts.
pub fn validate(v: &str) -> Result<(), VersionError> {
    let mut lx = Lexer::new(c_str(v.as_bytes()));
    while lx.kind < Kind::End {
        lx.next();
    }
    if lx.kind == Kind::End {
        return Ok(());
    }
    Err(VersionError::Apk {
        version: v.to_owned(),
        position: lx.pos,
        reason: lx.why,
    })
}
