//! The real Debian 12 host against the real tracker JSON excerpts and
//! synthetic tracker / DSA statements.

mod common;

use std::fs::File;
use std::io::BufReader;

use common::{data, deb, debian_row, find, fixed, os, tracker};
use patchwatch_advisories::{Advisory, FixState, Severity, SeverityLevel, Source};
use patchwatch_assess::{AdvisoryIndex, FindingState, NameUsed, PackageSet, assess};
use patchwatch_fleet::Image;
use patchwatch_reports::model::Package;

fn tracker_json() -> Vec<Advisory> {
    let mut out = Vec::new();
    for f in [
        "osv.dev_debian_security_tracker_mock.json",
        "vulnerablecode_tracker_debian.json",
        "vuls-data-update_tracker-api-advisory.json",
        "vunnel_tracker_debian.json",
    ] {
        let path = data(&format!("debian/tracker-json/{f}"));
        let file = BufReader::new(File::open(&path).unwrap());
        patchwatch_advisories::debian::tracker::parse(file, f, |a| out.push(a)).unwrap();
    }
    assert!(out.len() > 10, "tracker excerpts parsed: {}", out.len());
    out
}

fn synthetic() -> Vec<Advisory> {
    let mut v = vec![
        // Above the installed 3.0.19-1~deb12u2: vulnerable.
        tracker("CVE-2099-1001", "openssl", fixed("3.0.19-1~deb12u3")),
        // Below: clear.
        tracker("CVE-2099-1002", "openssl", fixed("3.0.19-1~deb12u1")),
        // Equal: clear.
        tracker("CVE-2099-1003", "openssl", fixed("3.0.19-1~deb12u2")),
        tracker("CVE-2099-1004", "openssl", FixState::NoAdvisory),
        tracker("CVE-2099-1005", "openssl", FixState::WillNotFix),
        tracker("CVE-2099-1006", "openssl", FixState::Deferred),
        tracker("CVE-2099-1007", "openssl", FixState::UnderInvestigation),
        tracker("CVE-2099-1008", "openssl", FixState::EndOfLife),
        tracker("CVE-2099-1009", "openssl", FixState::NotAffected),
        tracker("CVE-2099-1010", "openssl", FixState::Affected),
        // A DSA says vulnerable, the tracker (ranked higher) says fixed in
        // a version below the installed one: the tracker wins.
        debian_row(
            "CVE-2099-1002",
            Source::DebianDsa,
            "openssl",
            "12",
            fixed("3.0.19-1~deb12u9"),
        ),
        // Only the DSA list knows this one.
        debian_row(
            "CVE-2099-1011",
            Source::DebianDsa,
            "openssl",
            "12",
            fixed("3.0.19-1~deb12u4"),
        ),
        // Another release's row never applies to a Debian 12 host.
        debian_row(
            "CVE-2099-1012",
            Source::DebianTracker,
            "openssl",
            "11",
            fixed("3.0.99-1"),
        ),
    ];
    // Withdrawn (REJECTED) statements are dropped.
    let mut rejected = tracker("CVE-2099-1013", "openssl", FixState::Affected);
    rejected.withdrawn = true;
    v.push(rejected);
    v[0].affected[0].severity = Some(Severity::from_debian("high"));
    v[11].id = "DSA-5999-1".into();
    v
}

fn host() -> Vec<Package> {
    Image::debian12().unwrap().packages
}

fn index() -> AdvisoryIndex {
    AdvisoryIndex::build(tracker_json().into_iter().chain(synthetic()))
}

#[test]
fn openssl_source_statements_give_exact_findings() {
    let idx = index();
    let pkgs = host();
    let libssl = pkgs.iter().find(|p| p.name == "libssl3").unwrap();
    assert_eq!(
        (libssl.evr().as_str(), libssl.source_name.as_str()),
        ("3.0.19-1~deb12u2", "openssl")
    );
    let os = os("debian", "12.5");
    let findings = assess(
        &idx,
        &PackageSet {
            os: &os,
            kernel: "6.1.0-27-amd64",
            packages: &pkgs,
        },
    );

    let f = find(&findings, "CVE-2099-1001", "libssl3").expect("libssl3 finding");
    assert_eq!(f.advisory(), "CVE-2099-1001");
    assert_eq!(f.feed().as_str(), "debian-tracker");
    assert_eq!(f.data(), "debian 12");
    assert_eq!(f.arch(), "amd64");
    assert_eq!(f.installed(), "3.0.19-1~deb12u2");
    assert_eq!(f.fixed(), Some("3.0.19-1~deb12u3"));
    assert_eq!(f.state(), FindingState::FixAvailable);
    assert_eq!(f.severity(), SeverityLevel::High);
    assert_eq!(f.severity_raw(), Some("high"));
    assert_eq!(f.matched_name(), "openssl");
    assert_eq!(f.name_used(), NameUsed::Source);
    assert_eq!(f.kernel(), None);
    assert_eq!(
        f.explanation(),
        "installed 3.0.19-1~deb12u2 < fixed 3.0.19-1~deb12u3 (dpkg ordering); \
         CVE-2099-1001 via debian-tracker; source name openssl"
    );
    // The JSON shape the CLI and API print.
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["cve"], "CVE-2099-1001");
    assert_eq!(json["package"], "libssl3");
    assert_eq!(json["installed"], "3.0.19-1~deb12u2");
    assert_eq!(json["fixed"], "3.0.19-1~deb12u3");
    assert_eq!(json["state"], "fix-available");
    assert_eq!(json["severity"], "high");
    assert_eq!(json["advisory"], "CVE-2099-1001");
    assert_eq!(json["feed"], "debian-tracker");
    assert_eq!(json["name_used"], "source");
    assert_eq!(json["kernel"], serde_json::Value::Null);
    assert_eq!(json["explanation"], f.explanation().as_str());
    // The `openssl` binary is built from the same source.
    assert!(find(&findings, "CVE-2099-1001", "openssl").is_some());

    // Installed at or above the fixed version: nothing; not affected and
    // withdrawn: nothing; another release's row: nothing.
    for cve in [
        "CVE-2099-1002",
        "CVE-2099-1003",
        "CVE-2099-1009",
        "CVE-2099-1012",
        "CVE-2099-1013",
    ] {
        assert!(find(&findings, cve, "libssl3").is_none(), "{cve}");
    }

    // The states stay distinct.
    let state =
        |cve| find(&findings, cve, "libssl3").map(|f| (f.state(), f.fixed().map(str::to_owned)));
    assert_eq!(
        state("CVE-2099-1004"),
        Some((FindingState::NoAdvisory, None))
    );
    assert_eq!(
        state("CVE-2099-1005"),
        Some((FindingState::WillNotFix, None))
    );
    assert_eq!(state("CVE-2099-1006"), Some((FindingState::Deferred, None)));
    assert_eq!(
        state("CVE-2099-1007"),
        Some((FindingState::UnderInvestigation, None))
    );
    assert_eq!(
        state("CVE-2099-1008"),
        Some((FindingState::EndOfLife, None))
    );
    assert_eq!(state("CVE-2099-1010"), Some((FindingState::Affected, None)));
    assert_eq!(
        find(&findings, "CVE-2099-1005", "libssl3")
            .unwrap()
            .explanation(),
        "affected, will not be fixed: installed 3.0.19-1~deb12u2; \
         CVE-2099-1005 via debian-tracker; source name openssl"
    );

    // The DSA-only CVE is reported through the DSA list.
    let dsa = find(&findings, "CVE-2099-1011", "libssl3").unwrap();
    assert_eq!(
        dsa.explanation(),
        "installed 3.0.19-1~deb12u2 < fixed 3.0.19-1~deb12u4 (dpkg ordering); \
         DSA-5999-1 via debian-dsa; source name openssl"
    );
}

#[test]
fn real_tracker_excerpts_on_the_real_host() {
    let idx = AdvisoryIndex::build(tracker_json());
    let pkgs = host();
    let os = os("debian", "12");
    let findings = assess(
        &idx,
        &PackageSet {
            os: &os,
            kernel: "",
            packages: &pkgs,
        },
    );
    // apparmor (source of libapparmor1 3.0.8-3): CVE-2016-1585 is open in
    // bookworm, urgency unimportant.
    let f = find(&findings, "CVE-2016-1585", "libapparmor1").expect("open apparmor CVE");
    assert_eq!(f.state(), FindingState::Affected);
    assert_eq!(f.severity(), SeverityLevel::Negligible);
    assert_eq!(f.matched_name(), "apparmor");
    assert_eq!(f.installed(), "3.0.8-3");
    assert_eq!(
        f.explanation(),
        "affected, no fix yet: installed 3.0.8-3 (vendor status open); \
         CVE-2016-1585 via debian-tracker; source name apparmor"
    );
    // CVE-2014-1424: fixed version 0 (never affected); CVE-2017-6507:
    // fixed in 2.11.0-3, below the installed 3.0.8-3.
    assert!(find(&findings, "CVE-2014-1424", "libapparmor1").is_none());
    assert!(find(&findings, "CVE-2017-6507", "libapparmor1").is_none());
    // Every finding of this host is for a package it has, in debian 12 data.
    assert!(findings.iter().all(|f| f.data() == "debian 12"));
    // A Debian 11 host reads the bullseye rows instead.
    let old = assess(
        &idx,
        &PackageSet {
            os: &common::os("debian", "11.9"),
            kernel: "",
            packages: &pkgs,
        },
    );
    assert!(old.iter().all(|f| f.data() == "debian 11"));
}

#[test]
fn binary_name_stands_in_for_a_missing_source_name() {
    let idx = AdvisoryIndex::build([tracker("CVE-2099-2001", "foo", fixed("2.0-1"))]);
    let pkgs = [deb("foo", "1.0-1", ""), deb("libfoo1", "1.0-1", "foo")];
    let os = os("debian", "12");
    let findings = assess(
        &idx,
        &PackageSet {
            os: &os,
            kernel: "",
            packages: &pkgs,
        },
    );
    let f = find(&findings, "CVE-2099-2001", "foo").unwrap();
    assert_eq!(f.name_used(), NameUsed::BinaryAsSource);
    assert!(
        f.explanation()
            .ends_with("; binary name foo used as source name (none reported)")
    );
    let f = find(&findings, "CVE-2099-2001", "libfoo1").unwrap();
    assert_eq!((f.name_used(), f.matched_name()), (NameUsed::Source, "foo"));
}
