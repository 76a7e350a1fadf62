//! Property tests: each ordering is a total order, and `Equal` means equal
//! under the tool's own notion of equality (checked against small,
//! independent models of what each tool ignores).

use std::cmp::Ordering;

use patchwatch_versions::{Scheme, compare, deb, rpm, validate};
use proptest::prelude::*;
use proptest::sample::select;

const DEB_PIECES: &[&str] = &[
    "0", "1", "2", "9", "10", "00", "01", "a", "b", "Z", "~", "~~", "+", ".", "-", ":", "1:", "0:",
    "rc", "deb12u1", "é", "_",
];
const RPM_PIECES: &[&str] = &[
    "0", "1", "2", "10", "00", "01", "a", "b", "Z", "~", "^", ".", "_", "+", "-", ":", "1:", "rc",
    "el9", "é", "..",
];
const APK_PIECES: &[&str] = &[
    "0", "1", "2", "10", "00", "01", ".0", ".1", ".01", ".10", "a", "z", "_alpha", "_beta", "_pre",
    "_rc", "_cvs", "_svn", "_git", "_hg", "_p", "~0a1", "~ff", "-r0", "-r1", "-r01", "_", "-", "A",
];
const PACMAN_SEGMENTS: &[&str] = &[
    "0", "1", "2", "10", "00", "01", "a", "b", "Z", "rc", "r12", "g",
];
const PACMAN_SEPARATORS: &[&str] = &[".", "_", "+", ""];

/// Versions made of segments joined by single separators. libalpm is not
/// transitive on stranger strings (`.` < `0` < `.a` but `.` > `.a`, see
/// `pacman_is_not_transitive_on_odd_strings`), so only these are checked.
fn pacman_versions() -> impl Strategy<Value = Vec<String>> {
    let body = prop::collection::vec((select(PACMAN_SEGMENTS), select(PACMAN_SEPARATORS)), 1..5)
        .prop_map(|parts| {
            let mut s = String::new();
            for (i, (seg, sep)) in parts.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                s.push_str(seg);
            }
            s
        });
    let one = (prop::option::of(select(&["0:", "1:", "2:"][..])), body)
        .prop_map(|(e, v)| format!("{}{v}", e.unwrap_or("")));
    prop::collection::vec(one, 2..10)
}

fn version(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(select(pieces), 0..7).prop_map(|p| p.concat())
}

fn versions(pieces: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(version(pieces), 2..10)
}

/// Antisymmetry, reflexivity and transitivity over every pair and triple.
fn assert_total(cmp: impl Fn(&str, &str) -> Ordering, vs: &[String]) {
    for a in vs {
        assert_eq!(cmp(a, a), Ordering::Equal, "reflexive {a:?}");
        for b in vs {
            let ab = cmp(a, b);
            assert_eq!(ab, cmp(b, a).reverse(), "antisymmetric {a:?} {b:?}");
            for c in vs {
                let bc = cmp(b, c);
                if ab != Ordering::Greater && bc != Ordering::Greater {
                    let ac = cmp(a, c);
                    assert_ne!(ac, Ordering::Greater, "transitive {a:?} <= {b:?} <= {c:?}");
                    if ab == Ordering::Equal && bc == Ordering::Equal {
                        assert_eq!(ac, Ordering::Equal, "= transitive {a:?} {b:?} {c:?}");
                    }
                }
            }
        }
    }
}

/// dpkg ignores leading zeros in digit runs and a trailing zero-valued run;
/// everything else is significant.
fn deb_part_key(s: &str) -> Vec<(String, String)> {
    let mut key = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let text_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (text, tail) = rest.split_at(text_len);
        let digit_len = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (digits, tail) = tail.split_at(digit_len);
        key.push((text.to_owned(), digits.trim_start_matches('0').to_owned()));
        rest = tail;
    }
    while key
        .last()
        .is_some_and(|(t, d)| t.is_empty() && d.is_empty())
    {
        key.pop();
    }
    key
}

#[derive(Debug, PartialEq)]
enum RpmToken {
    Tilde,
    Caret,
    Number(String),
    Alpha(String),
}

/// rpmvercmp ignores separators and leading zeros, nothing else.
fn rpm_key(s: &str) -> Vec<RpmToken> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(RpmToken::Number(
                s[start..i].trim_start_matches('0').to_owned(),
            ));
        } else if c.is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(RpmToken::Alpha(s[start..i].to_owned()));
        } else {
            match c {
                b'~' => out.push(RpmToken::Tilde),
                b'^' => out.push(RpmToken::Caret),
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// For valid apk versions, only the leading zeros of the first number, of
/// suffix numbers and of the revision are insignificant (dotted numbers with
/// a leading zero compare as text, hashes always do).
fn apk_key(s: &str) -> String {
    let mut out = String::new();
    let mut in_hash = false;
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            in_hash = true;
        } else if c == '-' {
            in_hash = false;
        }
        let numeric_field = c.is_ascii_digit()
            && !in_hash
            && prev.is_none_or(|p| p.is_ascii_lowercase() || p == 'r' || p == '_');
        if numeric_field && prev.is_none_or(|p| !p.is_ascii_digit()) {
            let mut run = String::from(c);
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                run.push(d);
                chars.next();
            }
            let trimmed = run.trim_start_matches('0');
            out.push_str(if trimmed.is_empty() { "0" } else { trimmed });
            prev = run.chars().last();
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn deb_total_order(vs in versions(DEB_PIECES)) {
        assert_total(|a, b| compare(Scheme::Deb, a, b), &vs);
    }

    #[test]
    fn deb_equal_iff_same_key(a in version(DEB_PIECES), b in version(DEB_PIECES)) {
        if let (Ok(x), Ok(y)) = (deb::Version::parse(&a), deb::Version::parse(&b)) {
            let same = x.epoch == y.epoch
                && deb_part_key(x.upstream) == deb_part_key(y.upstream)
                && deb_part_key(x.revision) == deb_part_key(y.revision);
            prop_assert_eq!(compare(Scheme::Deb, &a, &b) == Ordering::Equal, same);
            prop_assert_eq!(x == y, same);
            prop_assert_eq!(x.cmp(&y), compare(Scheme::Deb, &a, &b));
        }
    }

    #[test]
    fn rpm_total_order(vs in versions(RPM_PIECES)) {
        assert_total(|a, b| compare(Scheme::Rpm, a, b), &vs);
        assert_total(rpm::vercmp, &vs);
    }

    #[test]
    fn rpm_equal_iff_same_key(a in version(RPM_PIECES), b in version(RPM_PIECES)) {
        prop_assert_eq!(rpm::vercmp(&a, &b) == Ordering::Equal, rpm_key(&a) == rpm_key(&b));
        let (x, y) = (rpm::Evr::split(&a), rpm::Evr::split(&b));
        let same = rpm_key(x.epoch.unwrap_or("0")) == rpm_key(y.epoch.unwrap_or("0"))
            && rpm_key(x.version) == rpm_key(y.version)
            && x.release.map(rpm_key) == y.release.map(rpm_key);
        prop_assert_eq!(compare(Scheme::Rpm, &a, &b) == Ordering::Equal, same);
        prop_assert_eq!(x.cmp(&y), compare(Scheme::Rpm, &a, &b));
    }

    #[test]
    fn apk_total_order(vs in versions(APK_PIECES)) {
        assert_total(|a, b| compare(Scheme::Apk, a, b), &vs);
    }

    #[test]
    fn apk_equal_iff_same_key(a in version(APK_PIECES), b in version(APK_PIECES)) {
        if validate(Scheme::Apk, &a).is_ok() && validate(Scheme::Apk, &b).is_ok() {
            prop_assert_eq!(
                compare(Scheme::Apk, &a, &b) == Ordering::Equal,
                apk_key(&a) == apk_key(&b),
                "{:?} {:?}", apk_key(&a), apk_key(&b)
            );
        }
    }

    /// pacman is total only among versions that all have, or all lack, a pkgrel.
    #[test]
    fn pacman_total_order_with_and_without_pkgrel(vs in pacman_versions()) {
        let with: Vec<String> = vs.iter().map(|v| format!("{v}-1")).collect();
        assert_total(|a, b| compare(Scheme::Pacman, a, b), &with);
        assert_total(|a, b| compare(Scheme::Pacman, a, b), &vs);
    }

    /// Never panics, whatever the bytes.
    #[test]
    fn any_string_compares(a in ".{0,16}", b in ".{0,16}") {
        for scheme in [Scheme::Deb, Scheme::Rpm, Scheme::Apk, Scheme::Pacman] {
            prop_assert_eq!(compare(scheme, &a, &b), compare(scheme, &b, &a).reverse());
            let _ = validate(scheme, &a);
        }
    }
}

#[test]
fn pacman_pkgrel_is_ignored_when_one_side_lacks_it() {
    let cmp = |a, b| compare(Scheme::Pacman, a, b);
    assert_eq!(cmp("1.0-1", "1.0"), Ordering::Equal);
    assert_eq!(cmp("1.0", "1.0-2"), Ordering::Equal);
    assert_eq!(cmp("1.0-1", "1.0-2"), Ordering::Less);
}

#[test]
fn pacman_is_not_transitive_on_odd_strings() {
    // libalpm answers exactly this (checked by the differential test).
    let cmp = |a, b| compare(Scheme::Pacman, a, b);
    assert_eq!(cmp(".", "0"), Ordering::Less);
    assert_eq!(cmp("0", ".a"), Ordering::Less);
    assert_eq!(cmp(".", ".a"), Ordering::Greater);
}
