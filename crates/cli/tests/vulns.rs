//! Vulnerability reporting end to end on the real data: the AlmaLinux OSV
//! database and a Debian tracker excerpt imported as feed generations, the
//! real RHEL 9 image relabelled AlmaLinux 9.5 and the real Debian 12 image
//! ingested as hosts, then `hosts vulns` and `cves`.

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::Report;

mod common;

use common::Env;

const ALMA: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";
const TRACKER: &str = "debian/tracker-json/vunnel_tracker_debian.json";

fn data(rel: &str) -> String {
    shared_data_dir().join(rel).display().to_string()
}

/// Two AlmaLinux 9.5 hosts (the real el9 image, identical sets) and one
/// Debian 12 host.
fn hosts() -> Vec<Report> {
    let mut alma = Image::rhel9().unwrap();
    alma.os.id = "almalinux".into();
    alma.os.version_id = "9.5".into();
    alma.os.pretty_name = "AlmaLinux 9.5 (Teal Serval)".into();
    let mut almas = Fleet::new(vec![alma], 1).with_drift(0);
    almas.domain = "alma.example".into();
    let mut debians = Fleet::new(vec![Image::debian12().unwrap()], 2).with_drift(0);
    debians.domain = "debian.example".into();
    vec![almas.report(0), almas.report(1), debians.report(0)]
}

#[test]
fn feeds_generations_and_findings_on_real_data() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    env.ingest("S", hosts());

    // Bad input is refused clearly, before anything is stored.
    let err = env.fails(&["feeds", "add", "x", "--kind", "csaf", "--source", "/x"]);
    assert!(
        err.contains("unknown feed kind \"csaf\"") && err.contains("debian-tracker"),
        "{err}"
    );
    let err = env.fails(&["feeds", "import", "alma"]);
    assert!(err.contains("no feed named \"alma\""), "{err}");
    assert!(
        env.fails(&["hosts", "vulns", "node000000.alma.example"])
            .contains("no feed has been imported")
    );

    env.ok(&[
        "feeds",
        "add",
        "alma",
        "--kind",
        "osv",
        "--source",
        &data(ALMA),
    ]);
    let err = env.fails(&["feeds", "import", "alma", "/nonexistent/alma.tar.xz"]);
    assert!(err.contains("reading /nonexistent/alma.tar.xz"), "{err}");
    // FILE defaults to the feed's source.
    let out = env.ok(&["feeds", "import", "alma"]);
    assert!(out.contains("imported generation"), "{out}");
    let out = env.ok(&[
        "feeds",
        "import",
        "--kind",
        "debian-tracker",
        &data(TRACKER),
    ]);
    assert!(
        out.contains("Feed vunnel_tracker_debian: imported"),
        "{out}"
    );

    // A truncated download is refused and the current generation stays.
    let whole = std::fs::read(data(ALMA)).unwrap();
    let truncated = env.dir.path().join("alma-truncated.tar.xz");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let before = env.json(&["feeds", "list"]);
    let err = env.fails(&["feeds", "import", "alma", truncated.to_str().unwrap()]);
    assert!(
        err.contains("refusing") && err.contains("alma-truncated.tar.xz"),
        "{err}"
    );
    assert_eq!(env.json(&["feeds", "list"]), before);
    // The same document again: unchanged, nothing written.
    let out = env.ok(&["feeds", "import", "alma", &data(ALMA)]);
    assert!(out.contains("unchanged"), "{out}");

    let feeds = env.json(&["feeds", "list"]);
    let alma = &feeds[0];
    assert_eq!(alma["name"], "alma");
    assert_eq!(alma["kind"], "osv");
    assert_eq!(alma["generations"], 1);
    assert_eq!(alma["current"]["size"], whole.len() as u64);
    assert!(alma["current"]["advisories"].as_u64().unwrap() > 5000);
    assert_eq!(feeds[1]["kind"], "debian-tracker");

    // The real ALSA-2025:1330 finding on the AlmaLinux host.
    let findings = env.json(&["hosts", "vulns", "node000000.alma.example"]);
    let findings = findings.as_array().unwrap();
    assert!(findings.len() > 100, "{}", findings.len());
    let f = findings
        .iter()
        .find(|f| f["cve"] == "CVE-2024-12797" && f["package"] == "openssl-libs")
        .expect("CVE-2024-12797 in openssl-libs");
    assert_eq!(f["advisory"], "ALSA-2025:1330");
    assert_eq!(f["installed"], "1:3.2.2-6.el9_5");
    assert_eq!(f["fixed"], "1:3.2.2-6.el9_5.1");
    assert_eq!(f["state"], "fix-available");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["feed"], "alma");
    assert!(
        f["explanation"]
            .as_str()
            .unwrap()
            .starts_with("installed 1:3.2.2-6.el9_5 < fixed 1:3.2.2-6.el9_5.1 (rpm ordering)")
    );
    // Filters.
    let high = env.json(&[
        "hosts",
        "vulns",
        "node000000.alma.example",
        "--severity",
        "high",
        "--state",
        "fix-available",
    ]);
    let high = high.as_array().unwrap();
    assert!(!high.is_empty() && high.len() < findings.len());
    assert!(high.iter().all(|f| f["state"] == "fix-available"
        && (f["severity"] == "high" || f["severity"] == "critical")));
    let table = env.ok(&[
        "hosts",
        "vulns",
        "node000000.alma.example",
        "--severity",
        "critical",
    ]);
    assert!(table.starts_with("CVE "), "{table}");
    let csv = env.ok(&["hosts", "vulns", "node000000.alma.example", "--csv"]);
    assert_eq!(
        csv.lines().next(),
        Some("CVE,PACKAGE,INSTALLED,FIXED,STATE,SEVERITY,ADVISORY,FEED,TAGS,EXCEPTION")
    );

    // The fleet view: both AlmaLinux hosts, never the Debian one.
    let show = env.json(&["cves", "show", "cve-2024-12797"]);
    assert_eq!(show["cve"], "CVE-2024-12797");
    assert_eq!(show["hosts"], 2);
    let rows = show["findings"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["host"] == "node000000.alma.example"
        && r["package"] == "openssl-libs"
        && r["fixed"] == "1:3.2.2-6.el9_5.1"));
    assert!(rows.iter().all(|r| r["site"] == "S"));
    let list = env.json(&["cves", "list", "--severity", "high"]);
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cve"] == "CVE-2024-12797")
        .expect("listed");
    assert_eq!(row["hosts"], 2);
    assert!(
        row["packages"]
            .as_array()
            .unwrap()
            .contains(&"openssl-libs".into())
    );
    let err = env.fails(&["cves", "show", "CVE-2024-1"]);
    assert!(err.contains("malformed CVE id"), "{err}");
    assert!(
        env.fails(&["cves", "list", "--site", "NOPE"])
            .contains("no site named")
    );

    env.ok(&["feeds", "remove", "vunnel_tracker_debian"]);
    assert!(
        env.fails(&["feeds", "remove", "vunnel_tracker_debian"])
            .contains("no feed named")
    );
    assert_eq!(env.json(&["feeds", "list"]).as_array().unwrap().len(), 1);
    // No feed covers Debian any more: said, rather than an empty list
    // that would read as "not vulnerable".
    let out = env
        .cmd(&["hosts", "vulns", "node000000.debian.example"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no imported feed covers debian 12"), "{err}");
}
