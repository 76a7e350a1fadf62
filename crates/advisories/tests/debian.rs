//! Debian tracker JSON, DSA/DLA/DTSA lists and `data/CVE/list`.

use std::fs::File;
use std::io::{BufReader, Read};

use patchwatch_advisories::debian::cve_list::CveList;
use patchwatch_advisories::debian::list::{AdvisoryList, ListKind, parse_date};
use patchwatch_advisories::debian::tracker;
use patchwatch_advisories::{
    Advisory, Affected, Error, FixState, SeverityLevel, Source, decompressed,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/debian");

fn tracker_json(name: &str) -> Vec<Advisory> {
    let mut out = Vec::new();
    let f = File::open(format!("{DATA}/tracker-json/{name}")).unwrap();
    let n = tracker::parse(f, name, |a| out.push(a)).unwrap();
    assert_eq!(n, out.len());
    out
}

fn get<'a>(all: &'a [Advisory], id: &str) -> &'a Advisory {
    all.iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

fn row<'a>(a: &'a Advisory, codename: &str) -> &'a Affected {
    a.affected
        .iter()
        .find(|r| r.codename.as_deref() == Some(codename))
        .unwrap()
}

#[test]
fn tracker_json_states() {
    let all = tracker_json("vuls-data-update_tracker-api-advisory.json");
    assert_eq!(all.len(), 4);
    let a = get(&all, "CVE-2012-0833");
    assert_eq!(a.source, Source::DebianTracker);
    assert_eq!(a.affected[0].package, "389-ds-base");
    assert_eq!(row(a, "bullseye").state, FixState::NotAffected);
    assert_eq!(row(a, "bullseye").release, "11");
    assert_eq!(a.severity.level, SeverityLevel::Negligible);
    let a = get(&all, "CVE-2016-5416");
    let r = row(a, "bullseye");
    assert_eq!(
        (&r.state, r.vendor_status.as_str()),
        (&FixState::WillNotFix, "open/nodsa:ignored")
    );
    assert_eq!(r.note.as_deref(), Some("Minor issue"));
    assert_eq!(row(a, "sid").state, FixState::Affected);
    assert_eq!(row(a, "sid").release, "sid");
    let a = get(&all, "TEMP-0000000-0CA7E3");
    assert!(a.cves.is_empty());
    assert_eq!(a.affected[0].package, "wordpress");

    let all = tracker_json("vunnel_tracker_debian.json");
    assert_eq!(all.len(), 7);
    let a = get(&all, "CVE-2008-7220");
    let r = row(a, "stretch");
    assert_eq!(
        (r.release.as_str(), r.state.fixed_version()),
        ("9", Some("1.6.0.2-1"))
    );
    assert_eq!(a.severity.level, SeverityLevel::High);
    assert_eq!(a.severity.raw.as_deref(), Some("high**"));
    let a = get(&all, "CVE-2022-0456");
    assert_eq!(row(a, "buster").state, FixState::EndOfLife);
    assert_eq!(
        row(a, "bookworm").state.fixed_version(),
        Some("98.0.4758.80-1")
    );
    assert_eq!(row(a, "bookworm").release, "12");
    // `"releases": []` in the real file.
    assert!(get(&all, "CVE-2022-0358").affected.is_empty());

    let all = tracker_json("vulnerablecode_tracker_debian.json");
    assert_eq!(all.len(), 6);
    let no_dsa = all
        .iter()
        .flat_map(|a| &a.affected)
        .filter(|r| r.state == FixState::NoAdvisory)
        .count();
    assert_eq!(no_dsa, 8);
    assert_eq!(
        tracker_json("osv.dev_debian_security_tracker_mock.json").len(),
        3
    );
}

#[test]
fn tracker_json_postponed_and_errors() {
    let json = br#"{"pkg": {"CVE-2024-0001": {"releases": {"bookworm": {"status": "open",
        "urgency": "low", "nodsa": "Can be fixed later", "nodsa_reason": "postponed"},
        "trixie": {"status": "undetermined", "urgency": "not yet assigned"}}}}}"#;
    let mut out = Vec::new();
    tracker::parse(&json[..], "inline", |a| out.push(a)).unwrap();
    assert_eq!(row(&out[0], "bookworm").state, FixState::Deferred);
    assert_eq!(row(&out[0], "trixie").state, FixState::UnderInvestigation);

    let broken = br#"{"pkg": {"CVE-2024-0001": {"releases": {}}, "CVE-2024-0002": {"releases": "#;
    let err = tracker::parse(&broken[..], "inline", |_| {}).unwrap_err();
    assert!(matches!(err, Error::Json { .. }));
    assert_eq!(err.location(), "inline: after pkg/CVE-2024-0002");
}

fn list(path: &str, kind: ListKind) -> (Vec<Advisory>, Vec<Error>) {
    let f = BufReader::new(File::open(format!("{DATA}/{path}")).unwrap());
    let (mut ok, mut errs) = (Vec::new(), Vec::new());
    for r in AdvisoryList::new(f, kind, path) {
        match r {
            Ok(a) => ok.push(a),
            Err(e) => errs.push(e),
        }
    }
    (ok, errs)
}

#[test]
fn dsa_list_complete() {
    let (all, errs) = list("security-tracker-2023-04/DSA_list", ListKind::Dsa);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(all.len(), 5406);
    assert_eq!(all.iter().map(|a| a.affected.len()).sum::<usize>(), 6988);
    let not_affected = all
        .iter()
        .flat_map(|a| &a.affected)
        .filter(|r| r.state == FixState::NotAffected)
        .count();
    assert_eq!(not_affected, 55);
    let a = get(&all, "DSA-5380-1");
    assert_eq!(a.source, Source::DebianDsa);
    assert_eq!(a.published.as_deref(), Some("2023-03-29"));
    assert_eq!(a.title, "xorg-server - security update");
    assert_eq!(a.cves, ["CVE-2023-1393"]);
    let r = &a.affected[0];
    assert_eq!(
        (r.release.as_str(), r.codename.as_deref()),
        ("11", Some("bullseye"))
    );
    assert_eq!(
        (r.package.as_str(), r.state.fixed_version()),
        ("xorg-server", Some("2:1.20.11-1+deb11u6"))
    );
    let a = get(&all, "DSA-1964-1");
    let rows: Vec<(&str, &str)> = a
        .affected
        .iter()
        .map(|r| (r.release.as_str(), r.package.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("4.0", "postgresql-8.1"),
            ("4.0", "postgresql-7.4"),
            ("5.0", "postgresql-8.3")
        ]
    );
    assert!(get(&all, "DSA-5356-2").cves.is_empty());
}

#[test]
fn dla_and_dtsa_lists_complete() {
    let (all, errs) = list("security-tracker-2023-04/DLA_list", ListKind::Dla);
    assert!(errs.is_empty());
    assert_eq!(all.len(), 3534);
    let a = get(&all, "DLA-3380-1");
    assert_eq!(a.cves.len(), 11);
    assert_eq!(
        a.affected[0].state.fixed_version(),
        Some("20190114+really20220913-0+deb10u1")
    );
    assert_eq!(a.affected[0].release, "10");

    let (all, errs) = list("security-tracker-2023-04/DTSA_list", ListKind::Dtsa);
    assert!(errs.is_empty());
    assert_eq!(all.len(), 208);
    let a = get(&all, "DTSA-1-1");
    assert_eq!(a.published.as_deref(), Some("2005-08-26"));
    assert_eq!(a.cves, ["CVE-2005-2626", "CVE-2005-2627"]);
    let r = &a.affected[0];
    assert_eq!(
        (r.release.as_str(), r.severity.as_ref().unwrap().level),
        ("4.0", SeverityLevel::High)
    );
    assert_eq!(
        parse_date("September 22nd, 2005").as_deref(),
        Some("2005-09-22")
    );
    assert_eq!(parse_date("32 Mar 2023"), None);
}

#[test]
fn list_excerpts_and_malformed_header() {
    let (all, errs) = list(
        "security-tracker-excerpts/vuln-list-update_happy_data_DLA_list",
        ListKind::Dla,
    );
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, "DLA-2711-1");
    assert_eq!(
        all[0].affected[0].state.fixed_version(),
        Some("1:78.12.0-1~deb9u1")
    );
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0]
            .location()
            .ends_with("vuln-list-update_happy_data_DLA_list:4"),
        "{}",
        errs[0]
    );

    // No final newline.
    let (all, errs) = list(
        "security-tracker-excerpts/vuln-list-update_happy_data_DSA_list",
        ListKind::Dsa,
    );
    assert!(errs.is_empty());
    let rows: Vec<(&str, Option<&str>)> = all[0]
        .affected
        .iter()
        .map(|r| (r.release.as_str(), r.state.fixed_version()))
        .collect();
    assert_eq!(
        rows,
        [
            ("9", Some("3:3.2.6-3+deb9u3")),
            ("10", Some("5:5.0.3-4+deb10u1"))
        ]
    );

    let (all, errs) = list(
        "security-tracker-excerpts/vunnel_DSA_list_excerpt",
        ListKind::Dsa,
    );
    assert!(errs.is_empty());
    assert_eq!(all.len(), 10);
    let eol = get(&all, "DSA-4205-1");
    assert!(eol.affected.is_empty());
    assert_eq!(eol.notes, ["NOTE: end of security support for jessie"]);
    assert_eq!(get(&all, "DSA-140").affected.len(), 2);
    assert_eq!(get(&all, "DSA-5970-1").affected[0].release, "12");
}

fn cve_list<R: Read>(r: R) -> Vec<Advisory> {
    CveList::new(BufReader::new(r), "CVE/list")
        .map(Result::unwrap)
        .collect()
}

#[test]
fn cve_list_excerpt() {
    let all = cve_list(
        File::open(format!(
            "{DATA}/security-tracker-excerpts/vuln-list-update_happy_data_CVE_list"
        ))
        .unwrap(),
    );
    assert_eq!(all.len(), 6);
    let foot = &all[0];
    assert_eq!((foot.id.as_str(), foot.cves.len()), ("CVE-2023-XXXX", 0));
    assert_eq!(foot.title, "code execution via malformed XTGETTCAP");
    assert_eq!(row(foot, "sid").state.fixed_version(), Some("1.15.3-2"));
    assert_eq!(
        row(foot, "bookworm").state.fixed_version(),
        Some("1.13.1-2+deb12u1")
    );
    assert_eq!(row(foot, "bullseye").state, FixState::NoAdvisory);
    assert_eq!(row(foot, "bullseye").note.as_deref(), Some("Minor issue"));
    let todo = get(&all, "CVE-2021-36980");
    assert_eq!(
        (todo.notes.as_slice(), todo.affected.len()),
        (&["TODO: check".to_owned()][..], 0)
    );
    assert_eq!(
        get(&all, "CVE-2021-36383").notes,
        ["NOT-FOR-US: Xen Orchestra"]
    );
    let ant = get(&all, "CVE-2021-36373");
    assert_eq!(ant.affected[0].state, FixState::Affected);
    assert_eq!(ant.severity.level, SeverityLevel::Negligible);
    let putty = get(&all, "CVE-2021-36367");
    assert_eq!(putty.affected.len(), 3);
    assert_eq!(row(putty, "buster").state, FixState::NoAdvisory);
    assert_eq!(putty.severity.level, SeverityLevel::Low);
}

/// The tracker repository snapshot (tar.gz): CVE/list with REJECTED, and the
/// DSA list, read straight from the archive.
#[test]
fn tracker_repository_tarball() {
    let path = format!(
        "{DATA}/security-tracker-excerpts/vuls-data-update_security-tracker-master.truncated.tar.gz"
    );
    let mut archive = tar::Archive::new(decompressed(File::open(path).unwrap()).unwrap());
    let mut seen = 0;
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path.ends_with("data/CVE/list") {
            let all = cve_list(entry);
            assert_eq!(all.len(), 7);
            let rejected = get(&all, "CVE-2023-46517");
            assert!(rejected.withdrawn);
            let chromium = get(&all, "CVE-2023-5849");
            assert_eq!(chromium.aliases, ["DSA-5546-1"]);
            assert_eq!(row(chromium, "buster").state, FixState::EndOfLife);
            assert_eq!(
                row(chromium, "buster").note.as_deref(),
                Some("see DSA 5046")
            );
            assert_eq!(all.iter().filter(|a| a.withdrawn).count(), 1);
            seen += 1;
        } else if path.ends_with("data/DSA/list") {
            let n = AdvisoryList::new(BufReader::new(entry), ListKind::Dsa, &path)
                .filter(Result::is_ok)
                .count();
            assert!(n > 0);
            seen += 1;
        }
    }
    assert_eq!(seen, 2);
}
