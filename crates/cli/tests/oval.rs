//! OVAL and Ubuntu CVE Tracker feeds end to end on the real data: the RHEL 9
//! OVAL v2 stream file against the real RHEL 9 image, Debian's bullseye OVAL
//! against a Debian 11 host, the Ubuntu tracker against an Ubuntu 18.04
//! host; imports, `feeds list`, `hosts vulns` and `cves show`.

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::{OsInfo, Package, PackageType, Report};
use serde_json::Value;

mod common;

use common::Env;

const RHEL9: &str =
    "redhat/oval-v2/vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated.oval.xml.bz2";
const BULLSEYE: &str = "debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2";
const RHSA: &str = "redhat/oval-v1/claircore_com.redhat.rhsa-20201980.xml";
const UCT: &str = "ubuntu/ubuntu-cve-tracker-2020-06/uct-active-ignored.tar.xz";

fn data(rel: &str) -> String {
    shared_data_dir().join(rel).display().to_string()
}

fn package(kind: PackageType, name: &str, evr: &str, source: &str) -> Package {
    let (epoch, version, release) = Package::split_evr(kind, evr);
    Package {
        name: name.into(),
        epoch,
        version,
        release,
        arch: if kind == PackageType::Deb {
            "amd64"
        } else {
            "x86_64"
        }
        .into(),
        kind,
        source_name: source.into(),
        source_version: String::new(),
    }
}

fn os(id: &str, version: &str, codename: &str, pretty: &str) -> OsInfo {
    OsInfo {
        id: id.into(),
        version_id: version.into(),
        version_codename: codename.into(),
        pretty_name: pretty.into(),
        id_like: String::new(),
    }
}

fn report(image: Image, domain: &str) -> Report {
    let mut fleet = Fleet::new(vec![image], 3).with_drift(0);
    fleet.domain = domain.into();
    fleet.report(0)
}

/// The real RHEL 9 image with an old firefox; the real Debian 12 package
/// list relabelled Debian 11 with an old php7.4; an Ubuntu 18.04 host with
/// an old libssl1.1.
fn hosts() -> Vec<Report> {
    let mut rhel = Image::rhel9().unwrap();
    rhel.packages
        .push(package(PackageType::Rpm, "firefox", "91.8.0-1.el9_0", ""));
    let mut bullseye = Image::debian12().unwrap();
    bullseye.os = os("debian", "11", "bullseye", "Debian GNU/Linux 11 (bullseye)");
    bullseye.packages.push(package(
        PackageType::Deb,
        "php7.4",
        "7.4.28-1+deb11u1",
        "php7.4",
    ));
    let ubuntu = Image {
        os: os("ubuntu", "18.04", "bionic", "Ubuntu 18.04.4 LTS"),
        kernel: "4.15.0-101-generic".into(),
        arch: "x86_64".into(),
        packages: vec![
            package(
                PackageType::Deb,
                "libssl1.1",
                "1.1.0g-2ubuntu4.1",
                "openssl",
            ),
            package(PackageType::Deb, "bash", "4.4.18-2ubuntu1.2", "bash"),
        ],
    };
    vec![
        report(rhel, "rhel.example"),
        report(bullseye, "bullseye.example"),
        report(ubuntu, "ubuntu.example"),
    ]
}

fn find<'a>(findings: &'a Value, cve: &str, package: &str) -> Option<&'a Value> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cve"] == cve && f["package"] == package)
}

#[test]
fn oval_and_ubuntu_tracker_feeds() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    env.ingest("S", hosts());

    // Broken OVAL is refused, naming the file: a truncated real document
    // and a well-formed one without definitions.
    let whole = std::fs::read(data(RHSA)).unwrap();
    let cut = env.dir.path().join("rhsa-cut.xml");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let err = env.fails(&["feeds", "import", "--kind", "oval", cut.to_str().unwrap()]);
    assert!(
        err.contains("refusing") && err.contains("rhsa-cut.xml"),
        "{err}"
    );
    let empty = env.dir.path().join("empty.xml");
    std::fs::write(
        &empty,
        r#"<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"><definitions/></oval_definitions>"#,
    )
    .unwrap();
    let err = env.fails(&["feeds", "import", "--kind", "oval", empty.to_str().unwrap()]);
    assert!(
        err.contains("empty.xml") && err.contains("no oval advisories"),
        "{err}"
    );
    let feeds = env.json(&["feeds", "list"]);
    assert!(
        feeds
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["current"].is_null()),
        "{feeds}"
    );

    let out = env.ok(&["feeds", "import", "--kind", "oval", &data(RHEL9)]);
    assert!(out.contains("imported generation"), "{out}");
    env.ok(&["feeds", "import", "--kind", "oval", &data(BULLSEYE)]);
    let out = env.ok(&["feeds", "import", "--kind", "ubuntu-tracker", &data(UCT)]);
    assert!(out.contains("Feed uct-active-ignored: imported"), "{out}");

    let feeds = env.json(&["feeds", "list"]);
    let feed = |name: &str| {
        feeds
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("feed {name} in {feeds}"))
            .clone()
    };
    let rhel = feed("vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated");
    assert_eq!(rhel["kind"], "oval");
    assert!(rhel["current"]["advisories"].as_u64().unwrap() > 0);
    let bullseye = feed("vuls-data-update_oval-definitions-bullseye.truncated");
    // Four definitions: three CVE (vulnerability) and one DSA (patch).
    assert_eq!(bullseye["current"]["advisories"], 4);
    let uct = feed("uct-active-ignored");
    assert_eq!(uct["kind"], "ubuntu-tracker");
    assert!(
        uct["current"]["advisories"].as_u64().unwrap() > 6000,
        "{uct}"
    );

    // RHSA-2022:4765 on the RHEL host, from the RHEL OVAL feed only.
    let rhel_findings = env.json(&["hosts", "vulns", "node000000.rhel.example"]);
    let f = find(&rhel_findings, "CVE-2022-1529", "firefox").expect("firefox finding");
    assert_eq!(
        f["feed"],
        "vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated"
    );
    assert_eq!(f["feed_kind"], "oval");
    assert_eq!(f["advisory"], "RHSA-2022:4765");
    assert_eq!(f["installed"], "91.8.0-1.el9_0");
    assert_eq!(f["fixed"], "91.9.1-1.el9_0");
    assert_eq!(f["state"], "fix-available");
    assert!(
        f["explanation"].as_str().unwrap().starts_with(
            "OVAL oval:com.redhat.rhsa:def:20224765 true: firefox 91.8.0-1.el9_0 < 0:91.9.1-1.el9_0 (rpm ordering)"
        ),
        "{f}"
    );
    assert!(
        rhel_findings
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["feed"] == "vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated"),
        "{rhel_findings}"
    );

    // Only an OVAL feed covers RHEL here, and that counts as covered.
    let out = env
        .cmd(&["hosts", "vulns", "node000000.rhel.example"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("no imported feed covers"), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated"),
        "the FEED column names the OVAL feed"
    );

    // php7.4 below 7.4.30-1+deb11u1 on the Debian 11 host, from Debian's OVAL.
    let deb = env.json(&["hosts", "vulns", "node000000.bullseye.example"]);
    let f = find(&deb, "CVE-2022-31625", "php7.4").expect("php7.4 finding");
    assert_eq!(
        f["feed"],
        "vuls-data-update_oval-definitions-bullseye.truncated"
    );
    assert_eq!(f["installed"], "7.4.28-1+deb11u1");
    assert_eq!(f["fixed"], "7.4.30-1+deb11u1");
    assert_eq!(f["state"], "fix-available");
    assert!(
        f["explanation"]
            .as_str()
            .unwrap()
            .contains("php7.4 7.4.28-1+deb11u1 < 0:7.4.30-1+deb11u1 (dpkg ordering)"),
        "{f}"
    );
    // "earlier than 0" marks a release that was never affected.
    assert!(find(&deb, "CVE-2016-5416", "389-ds-base").is_none());
    assert!(
        deb.as_array()
            .unwrap()
            .iter()
            .all(|f| f["feed"] == "vuls-data-update_oval-definitions-bullseye.truncated"),
        "{deb}"
    );

    // The Ubuntu tracker on the Ubuntu host (source name openssl).
    let ubu = env.json(&["hosts", "vulns", "node000000.ubuntu.example"]);
    let f = find(&ubu, "CVE-2018-0734", "libssl1.1").expect("openssl finding");
    assert_eq!(f["feed"], "uct-active-ignored");
    assert_eq!(f["fixed"], "1.1.0g-2ubuntu4.3");
    assert_eq!(f["state"], "fix-available");
    assert!(
        ubu.as_array()
            .unwrap()
            .iter()
            .all(|f| f["feed"] == "uct-active-ignored"),
        "{ubu}"
    );

    // The fleet view finds the OVAL finding too, on that host only.
    let show = env.json(&["cves", "show", "CVE-2022-31625"]);
    assert_eq!(show["hosts"], 1, "{show}");
    let rows = show["findings"].as_array().unwrap();
    assert!(
        rows.iter()
            .all(|r| r["host"] == "node000000.bullseye.example"
                && r["feed"] == "vuls-data-update_oval-definitions-bullseye.truncated")
    );
}
