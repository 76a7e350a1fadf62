//! One host reported through every protocol yields the same package set.

use patchwatch_reports::model::{Package, Report};
use patchwatch_reports::{native, pakiti, patchman};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/debian12/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap()
}

fn form(name: &str) -> Vec<(String, String)> {
    serde_json::from_slice(&read(name)).unwrap()
}

fn sorted(report: &Report) -> Vec<Package> {
    let mut p = report.packages.clone().expect("a package list");
    p.sort();
    p
}

#[test]
fn every_protocol_yields_the_same_packages() {
    let p5 = pakiti::parse_v5(&read("pakiti5.txt")).unwrap();
    let (p4, mode, proxy) = pakiti::parse_v4(&form("pakiti4.json")).unwrap();
    assert_eq!((mode, proxy), (pakiti::Mode::StoreOnly, false));
    let (pm1, wants_summary) = patchman::parse_v1(&form("patchman1.json")).unwrap();
    assert!(wants_summary);
    let pm2 = patchman::parse_v2(&read("patchman2.json")).unwrap();
    let nat = native::parse(&read("native.json")).unwrap();

    let expected: Vec<String> = String::from_utf8(read("expected.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let reference = sorted(&p5);
    let as_lines: Vec<String> = reference
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.evr(), p.arch))
        .collect();
    assert_eq!(as_lines, expected);

    for (what, report) in [
        ("pakiti 4", &p4),
        ("patchman 1", &pm1),
        ("patchman 2", &pm2),
        ("native", &nat),
    ] {
        assert_eq!(sorted(report), reference, "{what}");
        assert_eq!(report.hostname, "node1.example.org", "{what}");
        assert_eq!(report.kernel.release, "6.1.0-18-amd64", "{what}");
        assert_eq!(report.tags, ["prod"], "{what}");
    }
    for report in [&p5, &p4, &pm1, &pm2] {
        let os = patchwatch_reports::os::normalise(&report.os, &report.os_string);
        assert_eq!((os.distro.as_str(), os.major()), ("debian", "12"));
    }
    assert_eq!(pm1.repositories.as_ref().map(Vec::len), Some(2));
    assert_eq!(p5.repositories, None);
}

/// rpm clients disagree about a missing epoch: Pakiti prints `0:`, Patchman
/// an empty field, the native client nothing.
#[test]
fn rpm_zero_epochs_agree() {
    let p5 = pakiti::parse_v5(
        b"#\nhost: wn01\npackager: rpm\n#\nbash\t0:5.1.8-6.el9_1\tx86_64\nopenssl\t1:3.0.7-25.el9_3\tx86_64\n#\n",
    )
    .unwrap();
    let p4 = pakiti::parse_v4(&pairs(&[
        ("host", "wn01"),
        ("type", "rpm"),
        (
            "pkgs",
            "'bash' '0:5.1.8' '6.el9_1' 'x86_64'\n'openssl' '1:3.0.7' '25.el9_3' 'x86_64'",
        ),
    ]))
    .unwrap()
    .0;
    let pm1 = patchman::parse_v1(&pairs(&[
        ("host", "wn01"),
        (
            "packages",
            "'bash' '' '5.1.8' '6.el9_1' 'x86_64' 'rpm'\n'openssl' '1' '3.0.7' '25.el9_3' 'x86_64' 'rpm'",
        ),
    ]))
    .unwrap()
    .0;
    let pm2 = patchman::parse_v2(
        br#"{"hostname":"wn01","arch":"x86_64","kernel":"5.14.0","os":"Rocky Linux release 9.3 (Blue Onyx)",
        "packages":[{"name":"bash","epoch":"0","version":"5.1.8","release":"6.el9_1","arch":"x86_64","type":"rpm"},
        {"name":"openssl","epoch":1,"version":"3.0.7","release":"25.el9_3","arch":"x86_64","type":"rpm"}]}"#,
    )
    .unwrap();
    let reference = sorted(&p5);
    assert_eq!(reference[0].evr(), "5.1.8-6.el9_1");
    for r in [&p4, &pm1, &pm2] {
        assert_eq!(sorted(r), reference);
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
