//! Pending updates end to end on the real data: the real Debian 12 host
//! and the three real bookworm indexes imported with `repos import`, the
//! real Alpine 3.21.2 host and the v3.21 APKINDEX, then `hosts updates`
//! and `updates list`; bad index files are refused and keep the snapshot.

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::{OsInfo, Report};
use serde_json::Value;

mod common;

use common::Env;

fn data(rel: &str) -> String {
    shared_data_dir().join(rel).display().to_string()
}

const DEBIAN_HOST: &str = "node000000.debian.example";
const ALPINE_HOST: &str = "node000000.alpine.example";

fn debian_host() -> Report {
    let mut fleet = Fleet::new(vec![Image::debian12().unwrap()], 2).with_drift(0);
    fleet.domain = "debian.example".into();
    fleet.report(0)
}

fn alpine_host() -> Report {
    let rel = "repos/alpine/hosts/quarantine_alpine-3.21.2-x86_64_lib-apk-db-installed";
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let image = Image {
        os: OsInfo {
            id: "alpine".into(),
            version_id: "3.21.2".into(),
            version_codename: String::new(),
            pretty_name: "Alpine Linux v3.21".into(),
            id_like: String::new(),
        },
        kernel: "6.12.8-0-lts".into(),
        arch: "x86_64".into(),
        packages: patchwatch_repos::apk::parse_installed(&text, rel).unwrap(),
    };
    let mut fleet = Fleet::new(vec![image], 3).with_drift(0);
    fleet.domain = "alpine.example".into();
    fleet.report(0)
}

fn add_bookworm(env: &Env) {
    for (name, source) in [
        ("bookworm", "http://deb.debian.org/debian"),
        ("bookworm-updates", "http://deb.debian.org/debian"),
        ("bookworm-security", "http://deb.debian.org/debian-security"),
    ] {
        env.ok(&[
            "repos",
            "add",
            name,
            "--kind",
            "apt",
            "--source",
            source,
            "--suite",
            name,
            "--default-for",
            "debian 12",
        ]);
    }
}

fn updates(v: &Value) -> &Vec<Value> {
    v["updates"].as_array().unwrap()
}

#[test]
fn debian_and_alpine_hosts_get_the_updates_their_package_managers_would_install() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    env.ingest("S", vec![debian_host(), alpine_host()]);

    let err = env.fails(&["hosts", "updates", DEBIAN_HOST]);
    assert!(err.contains("no repository has been imported yet"), "{err}");
    let err = env.fails(&["repos", "add", "x", "--kind", "deb", "--source", "/x"]);
    assert!(
        err.contains("unknown repository kind \"deb\"") && err.contains("rpm-md"),
        "{err}"
    );

    add_bookworm(&env);
    let lists = data("debian/apt-lists");
    for suite in ["bookworm", "bookworm-updates", "bookworm-security"] {
        let out = env.ok(&["repos", "import", suite, &lists]);
        assert!(out.contains("snapshot #1"), "{out}");
    }
    // The same files again: recognised, nothing stored.
    let out = env.ok(&["repos", "import", "bookworm-security", &lists]);
    assert!(out.contains("unchanged"), "{out}");
    let main = env.json(&["repos", "show", "bookworm"]);
    assert_eq!(main["current"]["packages"], 63_440, "{main}");

    let v = env.json(&["hosts", "updates", DEBIAN_HOST]);
    let all = updates(&v);
    let security = all.iter().filter(|u| u["security"] == true).count();
    assert_eq!((all.len(), security), (132, 82), "{v}");
    assert_eq!(
        v["repositories"],
        serde_json::json!(["bookworm", "bookworm-security", "bookworm-updates"])
    );
    // Security updates come from the security suite (apt's own rule).
    let openssl = all.iter().find(|u| u["name"] == "openssl").unwrap();
    assert_eq!(openssl["repository"], "bookworm-security", "{openssl}");
    assert_eq!(openssl["security"], true);
    let only = env.json(&["hosts", "updates", DEBIAN_HOST, "--security"]);
    assert_eq!(updates(&only).len(), 82);

    let csv = env.ok(&["hosts", "updates", DEBIAN_HOST, "--csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("NAME,ARCH,INSTALLED,CANDIDATE,REPOSITORY,SECURITY,CVES")
    );
    assert_eq!(lines.count(), 132);

    // With feeds imported, updates list the CVEs they close and the rest
    // are named as not fixable from the host's repositories. No shared
    // feed covers bookworm, so two one-advisory OSV documents do: one fixed
    // in exactly the real openssl candidate, one fixed in a later version.
    assert!(all.iter().all(|u| u["cves"].as_array().unwrap().is_empty()));
    let candidate = openssl["candidate"].as_str().unwrap();
    for (id, cve, fixed) in [
        ("DSA-9001-1", "CVE-2099-0001", candidate),
        ("DSA-9002-1", "CVE-2099-0002", "9.9.9-1"),
    ] {
        let doc = serde_json::json!({
            "id": id,
            "affected": [{
                "package": {"ecosystem": "Debian:12", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
            }],
            "aliases": [cve],
            "modified": "2026-12-01T00:00:00Z"
        });
        let file = env.dir.path().join(format!("{id}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        env.ok(&[
            "feeds",
            "import",
            "--kind",
            "osv",
            &file.display().to_string(),
        ]);
    }
    let vulns = env.json(&["hosts", "vulns", DEBIAN_HOST]);
    assert!(
        vulns
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["cve"] == "CVE-2099-0001"),
        "{vulns}"
    );
    let v = env.json(&["hosts", "updates", DEBIAN_HOST]);
    let closing: Vec<String> = updates(&v)
        .iter()
        .filter(|u| !u["cves"].as_array().unwrap().is_empty())
        .map(|u| format!("{} {}", u["name"].as_str().unwrap(), u["cves"]))
        .collect();
    // Debian's feeds name source packages: every binary of openssl.
    assert_eq!(
        closing,
        [
            "libssl-dev [\"CVE-2099-0001\"]",
            "libssl3 [\"CVE-2099-0001\"]",
            "openssl [\"CVE-2099-0001\"]"
        ],
        "{v}"
    );
    assert_eq!(
        v["fixes_not_in_repositories"],
        serde_json::json!(["CVE-2099-0002"])
    );

    // The Alpine host has no repository yet.
    let err = env.fails(&["hosts", "updates", ALPINE_HOST]);
    assert!(err.contains("no configured repository applies"), "{err}");
    env.ok(&[
        "repos",
        "add",
        "alpine-main",
        "--kind",
        "apk",
        "--source",
        &data("repos/alpine/v3.21/main"),
        "--default-for",
        "alpine 3.21",
    ]);
    // PATH defaults to the source (here a directory holding ARCH/).
    env.ok(&["repos", "import", "alpine-main"]);
    let v = env.json(&["hosts", "updates", ALPINE_HOST]);
    let names: Vec<String> = updates(&v)
        .iter()
        .map(|u| format!("{} {} -> {}", u["name"], u["installed"], u["candidate"]))
        .collect();
    assert_eq!(names.len(), 10, "{names:#?}");
    assert!(
        names.iter().any(|n| n.starts_with("\"libssl3\"")),
        "{names:#?}"
    );

    // The fleet view: both hosts, their counts, per-package counts.
    let fleet = env.json(&["updates", "list"]);
    let hosts = fleet["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2, "{fleet}");
    let debian = hosts.iter().find(|h| h["hostname"] == DEBIAN_HOST).unwrap();
    assert_eq!(
        (debian["updates"].clone(), debian["security"].clone()),
        (132.into(), 82.into())
    );
    let libssl = fleet["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libssl3")
        .unwrap();
    assert_eq!(libssl["hosts"], 2, "{libssl}");
    let table = env.ok(&["updates", "list"]);
    assert!(
        table.contains("1 of 2 hosts have security updates pending"),
        "{table}"
    );

    // hosts list with counts, and only hosts with security updates.
    let listed = env.json(&["hosts", "list", "--updates"]);
    let items = listed["items"].as_array().unwrap();
    let debian = items.iter().find(|h| h["hostname"] == DEBIAN_HOST).unwrap();
    assert_eq!(
        (
            debian["updates"].as_u64(),
            debian["security_updates"].as_u64()
        ),
        (Some(132), Some(82))
    );
    let alpine = items.iter().find(|h| h["hostname"] == ALPINE_HOST).unwrap();
    assert_eq!(
        (
            alpine["updates"].as_u64(),
            alpine["security_updates"].as_u64()
        ),
        (Some(10), Some(0))
    );
    let csv = env.ok(&["hosts", "list", "--with-security-updates", "--csv"]);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.lines().next().unwrap().ends_with("UPDATES,SECURITY") && csv.contains(DEBIAN_HOST),
        "{csv}"
    );

    // The fleet view of one package: the Debian host runs an old libssl3,
    // the Alpine host a libssl3 with an update too; bash only on Debian.
    let view = env.json(&["packages", "show", "libssl3"]);
    let rows = view.as_array().unwrap();
    let row = |host: &str| rows.iter().find(|r| r["hostname"] == host).unwrap().clone();
    let debian = row(DEBIAN_HOST);
    // No repository of the host still offers the installed build.
    assert_eq!(
        debian["installed"],
        serde_json::json!([{"version": "3.0.19-1~deb12u2", "arch": "amd64", "from": []}])
    );
    assert_eq!(
        (
            debian["state"].as_str(),
            debian["candidate"].as_str(),
            debian["repository"].as_str()
        ),
        (
            Some("outdated"),
            Some("3.0.22-1~deb12u2"),
            Some("bookworm-security")
        )
    );
    assert_eq!(row(ALPINE_HOST)["state"], "outdated");
    let bash = env.json(&["packages", "show", "bash"]);
    let bash_rows = bash.as_array().unwrap();
    assert_eq!(bash_rows.len(), 2);
    let states: Vec<&str> = bash_rows
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"outdated") && states.contains(&"missing"),
        "{bash}"
    );
    let only = env.json(&["packages", "show", "bash", "--installed"]);
    assert_eq!(only.as_array().unwrap().len(), 1);

    // Disabled repositories are not used.
    env.ok(&["repos", "disable", "alpine-main"]);
    assert!(
        env.fails(&["hosts", "updates", ALPINE_HOST])
            .contains("no configured repository")
    );
    env.ok(&["repos", "enable", "alpine-main"]);
    let listed = env.ok(&["repos", "list"]);
    assert!(
        listed.contains("alpine-main") && listed.contains("63440"),
        "{listed}"
    );
    env.ok(&["repos", "remove", "alpine-main", "--yes"]);
    assert!(
        env.fails(&["repos", "show", "alpine-main"])
            .contains("no repository named")
    );
}

#[test]
fn bad_index_files_are_refused_and_the_snapshot_is_kept() {
    let env = Env::new();
    add_bookworm(&env);
    let lists = data("debian/apt-lists");
    env.ok(&["repos", "import", "bookworm-security", &lists]);

    let copy = env.dir.path().join("lists");
    std::fs::create_dir(&copy).unwrap();
    let prefix = "deb.debian.org_debian-security_dists_bookworm-security";
    let release = format!("{prefix}_InRelease");
    let packages = format!("{prefix}_main_binary-amd64_Packages.xz");
    std::fs::copy(format!("{lists}/{release}"), copy.join(&release)).unwrap();
    let copy_str = copy.display().to_string();

    // Missing: the Release lists a Packages file that is not there.
    let err = env.fails(&["repos", "import", "bookworm-security", &copy_str]);
    assert!(
        err.contains(&packages) && err.contains("listed by") && err.contains("missing"),
        "{err}"
    );
    // Truncated: half the file.
    let whole = std::fs::read(format!("{lists}/{packages}")).unwrap();
    std::fs::write(copy.join(&packages), &whole[..whole.len() / 2]).unwrap();
    let err = env.fails(&["repos", "import", "bookworm-security", &copy_str]);
    assert!(
        err.contains(&packages) && err.contains("current snapshot is unchanged"),
        "{err}"
    );
    // Wrong checksum: one byte changed, length kept.
    let mut damaged = whole.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    std::fs::write(copy.join(&packages), &damaged).unwrap();
    let err = env.fails(&["repos", "import", "bookworm-security", &copy_str]);
    assert!(err.contains(&packages), "{err}");
    assert!(err.contains("checksum") || err.contains("corrupt"), "{err}");
    // A suite that is not there is named with the ones that are.
    let err = env.fails(&["repos", "import", "bookworm", &copy_str]);
    assert!(
        err.contains("no apt lists file for suite \"bookworm\"")
            && err.contains("bookworm-security"),
        "{err}"
    );

    let shown = env.json(&["repos", "show", "bookworm-security"]);
    assert_eq!(shown["current"]["number"], 1, "{shown}");
    assert_eq!(shown["snapshots"], 1);
}
