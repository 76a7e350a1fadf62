//! The reference implementations' own test cases, from the shared data set.

use std::cmp::Ordering;

use patchwatch_versions::{Scheme, VersionError, apk, compare, deb, rpm, validate};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/versions");

fn read(name: &str) -> String {
    let path = format!("{DATA}/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Non-comment, non-blank lines with their 1-based numbers.
fn cases(name: &str) -> Vec<(usize, String)> {
    read(name)
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(n, l)| (n + 1, l.to_owned()))
        .collect()
}

fn op(s: &str) -> Ordering {
    match s {
        "<" => Ordering::Less,
        "=" => Ordering::Equal,
        ">" => Ordering::Greater,
        _ => panic!("bad op {s}"),
    }
}

/// Checks every `A <op> B` line both ways; returns how many lines it checked.
fn check_pairs(name: &str, cmp: impl Fn(&str, &str) -> Ordering) -> usize {
    let mut n = 0;
    for (line_no, line) in cases(name) {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() != 3 {
            continue;
        }
        let want = op(f[1]);
        assert_eq!(cmp(f[0], f[2]), want, "{name}:{line_no}: {line}");
        assert_eq!(
            cmp(f[2], f[0]),
            want.reverse(),
            "{name}:{line_no}: reversed {line}"
        );
        n += 1;
    }
    n
}

#[test]
fn deb_ordering() {
    assert_eq!(
        check_pairs("deb.txt", |a, b| compare(Scheme::Deb, a, b)),
        114
    );
    // The parsed form must agree with the string comparison wherever dpkg
    // accepts both sides.
    check_pairs("deb.txt", |a, b| {
        deb::Version::parse(a)
            .unwrap()
            .cmp(&deb::Version::parse(b).unwrap())
    });
}

#[test]
fn rpm_ordering() {
    assert_eq!(
        check_pairs("rpm.txt", |a, b| compare(Scheme::Rpm, a, b)),
        91
    );
    check_pairs("rpm.txt", rpm::vercmp);
    check_pairs("rpm.txt", |a, b| {
        rpm::Evr::split(a).cmp(&rpm::Evr::split(b))
    });
}

/// rpm keeps these disabled upstream as "arguably buggy"; rpm 4.18 gives
/// exactly these answers, and so must we.
#[test]
fn rpm_disabled_upstream_cases() {
    let text = read("rpm.txt");
    let disabled: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split(' ').count() == 3 && matches!(l.split(' ').nth(1), Some("<" | "=" | ">"))
        })
        .collect();
    assert_eq!(disabled.len(), 12);
    for line in disabled {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(rpm::vercmp(f[0], f[2]), op(f[1]), "{line}");
        assert_eq!(
            compare(Scheme::Rpm, f[2], f[0]),
            op(f[1]).reverse(),
            "{line}"
        );
    }
}

#[test]
fn apk_ordering() {
    assert_eq!(
        check_pairs("apk.txt", |a, b| compare(Scheme::Apk, a, b)),
        715
    );
    check_pairs("apk.txt", |a, b| {
        apk::Version::parse(a)
            .unwrap()
            .cmp(&apk::Version::parse(b).unwrap())
    });
    for (line_no, line) in cases("apk.txt") {
        for v in line.split(' ').step_by(2) {
            assert_eq!(validate(Scheme::Apk, v), Ok(()), "apk.txt:{line_no}: {v}");
        }
    }
}

#[test]
fn apk_invalid_and_valid() {
    let mut invalid = 0;
    for (line_no, line) in cases("apk-invalid.txt") {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() == 1 {
            let err = validate(Scheme::Apk, f[0]).expect_err(&line);
            assert!(matches!(err, VersionError::Apk { .. }), "{line_no}: {err}");
            invalid += 1;
        }
    }
    assert_eq!(invalid, 24);
    assert_eq!(
        check_pairs("apk-invalid.txt", |a, b| compare(Scheme::Apk, a, b)),
        2
    );
    assert!(validate(Scheme::Apk, "").is_err());

    let valid = cases("apk-valid.txt");
    assert_eq!(valid.len(), 6);
    for (line_no, v) in valid {
        assert_eq!(validate(Scheme::Apk, &v), Ok(()), "apk-valid.txt:{line_no}");
    }
}

#[test]
fn deb_invalid_levels_and_reasons() {
    let mut errors = 0;
    let mut warnings = 0;
    for (line_no, line) in cases("deb-invalid.txt") {
        let mut f = line.splitn(3, ' ');
        let (v, level, reason) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let ctx = format!("deb-invalid.txt:{line_no}: {line}");
        match level {
            "error" => {
                let err = validate(Scheme::Deb, v).expect_err(&ctx);
                assert_eq!(dpkg_reason(&err), reason, "{ctx}: {err}");
                errors += 1;
            }
            "warning" => {
                assert_eq!(validate(Scheme::Deb, v), Ok(()), "{ctx}");
                let w = deb::check(v).unwrap().expect(&ctx);
                assert_eq!(w.to_string(), reason, "{ctx}");
                warnings += 1;
            }
            other => panic!("{ctx}: level {other}"),
        }
    }
    assert_eq!((errors, warnings), (10, 54));
}

/// dpkg's wording for each error, to check that we fail for dpkg's reason.
fn dpkg_reason(err: &VersionError) -> &'static str {
    match err {
        VersionError::Empty { .. } => "version string is empty",
        VersionError::EmbeddedSpace { .. } => "version string has embedded spaces",
        VersionError::EmptyPart { part: "epoch", .. } => "epoch in version is empty",
        VersionError::EmptyPart {
            part: "version number",
            ..
        } => "version number is empty",
        VersionError::EmptyPart {
            part: "revision", ..
        } => "revision number is empty",
        VersionError::EpochNotNumber { .. } => "epoch in version is not number",
        VersionError::EpochNegative { .. } => "epoch in version is negative",
        VersionError::EpochTooBig { .. } => "epoch in version is too big",
        VersionError::NothingAfterColon { .. } => "nothing after colon in version number",
        other => panic!("not a dpkg error: {other:?}"),
    }
}

#[test]
fn deb_warning_versions_still_compare() {
    // The last group of deb.txt holds versions dpkg only warns about.
    for v in ["a-0", "~000", "Z0z", "aa5AA", "~zyx999"] {
        assert!(
            matches!(deb::check(v), Ok(Some(_))),
            "{v} should be a warning"
        );
        assert!(deb::Version::parse(v).is_ok());
    }
}
