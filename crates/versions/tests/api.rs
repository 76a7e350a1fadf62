//! The public surface: scheme names, error messages, NEVRAs, batches.

use std::cmp::Ordering;

use patchwatch_versions::{
    BatchError, Scheme, VersionError, apk, compare, deb, pacman, rpm, run_batch, validate,
};

#[test]
fn scheme_names_round_trip() {
    for s in [Scheme::Deb, Scheme::Rpm, Scheme::Apk, Scheme::Pacman] {
        assert_eq!(s.to_string().parse::<Scheme>(), Ok(s));
    }
    let err = "dpkg".parse::<Scheme>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown version scheme 'dpkg' (expected deb, rpm, apk or pacman)"
    );
}

#[test]
fn error_messages_say_what_is_wrong() {
    let msg = |s, v| validate(s, v).unwrap_err().to_string();
    assert_eq!(
        msg(Scheme::Deb, "1a:2"),
        "epoch in version '1a:2' is not a number"
    );
    assert_eq!(msg(Scheme::Deb, "a:1"), "epoch in version 'a:1' is empty");
    assert_eq!(
        msg(Scheme::Deb, "2147483648:1"),
        "epoch in version '2147483648:1' is too big (at most 2147483647)"
    );
    assert_eq!(
        msg(Scheme::Deb, "1.0-"),
        "revision in version '1.0-' is empty"
    );
    assert_eq!(
        msg(Scheme::Deb, "1 2"),
        "version '1 2' has embedded whitespace"
    );
    assert_eq!(msg(Scheme::Deb, ""), "deb version string is empty");
    assert_eq!(
        msg(Scheme::Rpm, "1.0-1/2"),
        "invalid character '/' in release of version '1.0-1/2'"
    );
    assert_eq!(
        msg(Scheme::Rpm, "1..0"),
        "version of version '1..0' contains the sequence \"..\""
    );
    assert_eq!(
        msg(Scheme::Apk, "1.0_foo"),
        "apk version '1.0_foo' is invalid at byte 7: unknown suffix (expected alpha, beta, pre, \
         rc, cvs, svn, git, hg or p)"
    );
    assert_eq!(
        msg(Scheme::Pacman, "1.0-x"),
        "pkgrel in version '1.0-x' is not of the form 'integer[.integer]'"
    );
    assert_eq!(
        msg(Scheme::Pacman, "x:1.0-1"),
        "epoch in version 'x:1.0-1' is not a number"
    );
}

#[test]
fn validate_accepts_ordinary_versions() {
    for (s, v) in [
        (Scheme::Deb, "1:2.36-9+deb12u4"),
        (Scheme::Deb, "0:abc"), // warning level only
        (Scheme::Rpm, "1:2.3.1-3.el9_4.1"),
        (Scheme::Rpm, "1.0~rc1^git2-1"),
        (Scheme::Apk, "1.2.3_rc1-r4"),
        (Scheme::Pacman, "1:2.40+r31+gd1b8ad6f5-1.1"),
        (Scheme::Pacman, "1.0"),
    ] {
        assert_eq!(validate(s, v), Ok(()), "{s} {v}");
    }
    assert_eq!(
        deb::check("0:abc"),
        Ok(Some(deb::Warning::NotStartingWithDigit))
    );
    assert_eq!(deb::check("1.0"), Ok(None));
    assert!(matches!(
        validate(Scheme::Rpm, "99999999999:1"),
        Err(VersionError::EpochTooBig { .. })
    ));
}

#[test]
fn parsed_parts() {
    let v = deb::Version::parse(" 1:2.0-0-3 ").unwrap();
    assert_eq!((v.epoch, v.upstream, v.revision), (1, "2.0-0", "3"));
    assert_eq!(v.to_string(), "1:2.0-0-3");
    // Found by the fuzzer: a colon in the revision needs the explicit epoch.
    let v = deb::Version::parse("0:7-:z").unwrap();
    assert_eq!(
        (v.upstream, v.revision, v.to_string().as_str()),
        ("7", ":z", "0:7-:z")
    );
    let e = rpm::Evr::split("2:1.0-1.el9");
    assert_eq!(
        (e.epoch, e.version, e.release),
        (Some("2"), "1.0", Some("1.el9"))
    );
    assert_eq!(rpm::Evr::split(":1.0").epoch, Some("0"));
    assert_eq!(rpm::Evr::split("1.0").epoch, None);
    assert!(rpm::Evr::split("1.0") < rpm::Evr::split("1.0-0"));
    let p = pacman::Version::split("1.0-2");
    assert_eq!((p.epoch, p.pkgver, p.pkgrel), ("0", "1.0", Some("2")));
    assert!(apk::Version::parse("1.0_rc1").unwrap() < apk::Version::parse("1.0").unwrap());
}

#[test]
fn nevra_forms() {
    let n = rpm::Nevra::parse("ruby-0:3.1.4-142.module+el8.9.0+21471+7d1e4a35.aarch64").unwrap();
    assert_eq!(
        (n.name, n.epoch, n.version, n.release, n.arch),
        (
            "ruby",
            Some("0"),
            "3.1.4",
            "142.module+el8.9.0+21471+7d1e4a35",
            "aarch64"
        )
    );
    let n = rpm::Nevra::parse("python3-libs-3.9.18-3.el9.x86_64.rpm").unwrap();
    assert_eq!(
        (n.name, n.version, n.release, n.arch),
        ("python3-libs", "3.9.18", "3.el9", "x86_64")
    );
    let n = rpm::Nevra::parse("bash-5.1.8-6.el9.src.rpm").unwrap();
    assert_eq!((n.name, n.arch), ("bash", "src"));
    let n = rpm::Nevra::parse("1:openssl-3.0.7-27.el9.x86_64").unwrap();
    assert_eq!((n.name, n.epoch), ("openssl", Some("1")));
    assert_eq!(n.to_string(), "openssl-1:3.0.7-27.el9.x86_64");
    assert_eq!(
        n.evr().cmp(&rpm::Evr::split("1:3.0.7-28.el9")),
        Ordering::Less
    );
    for bad in [
        "bash",
        "bash-5.1.x86_64",
        "-1.0-1.x86_64",
        "bash-1.0-1.",
        "bash-x:1-1.noarch",
    ] {
        assert!(rpm::Nevra::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn input_ends_at_nul_like_a_c_string() {
    for s in [Scheme::Deb, Scheme::Rpm, Scheme::Apk, Scheme::Pacman] {
        assert_eq!(compare(s, "1.0\0junk", "1.0"), Ordering::Equal, "{s}");
        assert_eq!(
            compare(s, "1.0\0junk", "1.0\0other"),
            Ordering::Equal,
            "{s}"
        );
    }
}

#[test]
fn deb_places_refused_and_blank_versions() {
    let cmp = |a, b| compare(Scheme::Deb, a, b);
    assert_eq!(cmp("", "<unknown>"), Ordering::Equal);
    assert_eq!(cmp("", "~"), Ordering::Less);
    assert_eq!(cmp("a:1", ""), Ordering::Less);
    assert_eq!(cmp("a:1", "b:1"), Ordering::Less);
    assert_eq!(cmp(" 1.0", "1.0 "), Ordering::Equal);
}

#[test]
fn batch_answers_each_line() {
    let input = "1.0 2.0\n\n  \n1:0\t0:9\r\n1.0 1.00\n";
    let mut out = Vec::new();
    let n = run_batch(Scheme::Deb, input.as_bytes(), &mut out).unwrap();
    assert_eq!(n, 3);
    assert_eq!(String::from_utf8(out).unwrap(), "<\n>\n=\n");

    // Bytes that are not UTF-8 are compared, not rejected.
    let mut out = Vec::new();
    run_batch(Scheme::Rpm, &b"1.\xff1 1.1\n"[..], &mut out).unwrap();
    assert_eq!(out, b"=\n");
}

#[test]
fn batch_rejects_malformed_lines() {
    let input = "1 2\n1 2 3\n";
    let mut out = Vec::new();
    let err = run_batch(Scheme::Apk, input.as_bytes(), &mut out).unwrap_err();
    match &err {
        BatchError::Malformed {
            line,
            fields,
            content,
        } => assert_eq!((*line, *fields, content.as_str()), (2, 3, "1 2 3")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "line 2: expected two whitespace-separated versions, found 3 field(s): \"1 2 3\""
    );
    let err = run_batch(Scheme::Apk, "lonely\r\n".as_bytes(), Vec::new()).unwrap_err();
    assert!(err.to_string().starts_with("line 1: "), "{err}");
}
