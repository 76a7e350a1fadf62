//! Ubuntu CVE Tracker snapshot (2020-06), read from the tar.xz.

use std::fs::File;
use std::io::BufReader;

use patchwatch_advisories::{FixState, SeverityLevel, decompressed, ubuntu};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/ubuntu/ubuntu-cve-tracker-2020-06"
);

#[test]
fn active_and_ignored() {
    let path = format!("{DATA}/uct-active-ignored.tar.xz");
    let mut archive = ubuntu::TrackerArchive::new(
        decompressed(BufReader::new(File::open(path).unwrap())).unwrap(),
        "uct",
    );
    let (mut n, mut withdrawn, mut ignored_dir) = (0, 0, 0);
    let mut evince = None;
    for r in archive.records().unwrap() {
        let a = r.unwrap();
        n += 1;
        withdrawn += usize::from(a.withdrawn);
        ignored_dir += usize::from(a.notes.iter().any(|n| n == "ignored/"));
        if a.id == "CVE-2019-1010006" {
            evince = Some(a);
        }
    }
    // 6509 CVE files in active/ + 195 in ignored/ (198 files minus Makefile and two lists).
    assert_eq!((n, withdrawn, ignored_dir), (6704, 57, 195));
    let a = evince.unwrap();
    assert_eq!(a.cves, ["CVE-2019-1010006"]);
    assert_eq!(a.published.as_deref(), Some("2019-07-15 02:15:00 UTC"));
    assert_eq!(a.severity.level, SeverityLevel::Medium);
    assert!(
        a.title
            .starts_with("Evince 3.26.0 is affected by buffer overflow.")
    );
    let row = |pkg: &str, rel: &str| {
        a.affected
            .iter()
            .find(|r| r.package == pkg && r.release == rel && r.repository.is_none())
            .unwrap()
    };
    assert_eq!(
        row("evince", "16.04").state.fixed_version(),
        Some("3.18.2-1ubuntu4.6")
    );
    assert_eq!(row("evince", "16.04").codename.as_deref(), Some("xenial"));
    assert_eq!(row("evince", "14.04").state, FixState::EndOfLife);
    assert_eq!(
        row("evince", "14.04").note.as_deref(),
        Some("out of standard support")
    );
    assert_eq!(row("evince", "18.04").state, FixState::NotAffected);
    assert_eq!(row("atril", "18.04").state, FixState::Affected);
    assert_eq!(row("atril", "19.04").state, FixState::EndOfLife);
    assert_eq!(row("atril", "devel").state, FixState::Affected);
    // `upstream` and `DNE` (precise/esm, trusty/esm) give no rows.
    assert_eq!(a.affected.len(), 14); // 7 releases x 2 packages
}

#[test]
fn release_keys() {
    assert_eq!(
        ubuntu::release_key("trusty/esm"),
        Some(("14.04".into(), Some("trusty".into()), Some("esm".into())))
    );
    assert_eq!(
        ubuntu::release_key("esm-infra/xenial"),
        Some((
            "16.04".into(),
            Some("xenial".into()),
            Some("esm-infra".into())
        ))
    );
    assert_eq!(ubuntu::release_key("upstream"), None);
    let a = ubuntu::parse_file("Candidate: CVE-2020-0001\nPriority: high\nfocal_foo: deferred (2020-05-01)\nPriority_foo: low\nfocal_bar: ignored (abandoned)\n", "x")
        .unwrap()
        .unwrap();
    assert_eq!(a.affected[0].state, FixState::Deferred);
    assert_eq!(
        a.affected[0].severity.as_ref().unwrap().level,
        SeverityLevel::Low
    );
    assert_eq!(a.affected[1].state, FixState::WillNotFix);
    assert_eq!(
        ubuntu::parse_file("Candidate:\nbroken line\n", "y")
            .unwrap_err()
            .location(),
        "y:2"
    );
}
