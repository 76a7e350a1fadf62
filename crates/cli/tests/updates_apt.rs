//! `hosts updates --csv` against Debian's own apt: the real Debian 12
//! host ingested, the three real bookworm lists imported with `repos
//! import`, and `apt list --upgradable` pointed at the same status file
//! and lists (`patchwatch_fleet::apt`, shared with the library's apt
//! test). Same packages, installed and candidate versions; the candidate's
//! repository is one of the archives apt names; security flags by apt's
//! `-security` rule. Missing apt fails under `CI=true`, else skips.

use std::collections::{BTreeMap, BTreeSet};

use patchwatch_fleet::apt::{
    DEBIAN12_STATUS, SUITES, apt_installed, apt_lists, apt_root, parse_upgradable, run_apt,
    security_by_apts_rule,
};
use patchwatch_fleet::inventory::{dpkg_status, read_maybe_xz};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};

mod common;

use common::Env;

const HOST: &str = "node000000.debian.example";

/// The `Suite:` an InRelease file declares (what apt lists as archive).
fn declared_suite(prefix: &str) -> String {
    let release = std::fs::read_to_string(apt_lists().join(format!("{prefix}_InRelease"))).unwrap();
    release
        .lines()
        .find_map(|l| l.strip_prefix("Suite: "))
        .unwrap_or_else(|| panic!("{prefix}: no Suite field"))
        .trim()
        .to_owned()
}

#[test]
fn hosts_updates_csv_equals_apt_list_upgradable() {
    if !apt_installed() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "apt is missing (.ci/deps/repos*.sh install it)"
        );
        eprintln!("SKIPPED: apt is missing (.ci/deps/repos*.sh install it)");
        return;
    }
    // The real host: exactly the packages of its dpkg status file.
    let status = read_maybe_xz(&shared_data_dir().join(DEBIAN12_STATUS)).unwrap();
    let mut fleet = Fleet::new(vec![Image::debian12().unwrap()], 2).with_drift(0);
    fleet.domain = "debian.example".into();
    let report = fleet.report(0);
    let mut reported = report.packages.clone().unwrap();
    let mut real = dpkg_status(&status).unwrap();
    reported.sort();
    real.sort();
    assert_eq!(reported, real, "the report carries the real status file");

    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    env.ingest("S", vec![report]);
    let lists = apt_lists().display().to_string();
    for (prefix, suite) in SUITES {
        let source = if suite.ends_with("-security") {
            "http://deb.debian.org/debian-security"
        } else {
            "http://deb.debian.org/debian"
        };
        env.ok(&[
            "repos",
            "add",
            suite,
            "--kind",
            "apt",
            "--source",
            source,
            "--suite",
            suite,
            "--default-for",
            "debian 12",
        ]);
        let out = env.ok(&["repos", "import", suite, &lists]);
        assert!(out.contains("snapshot #1"), "{prefix}: {out}");
    }

    let csv = env.ok(&["hosts", "updates", HOST, "--csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("NAME,ARCH,INSTALLED,CANDIDATE,REPOSITORY,SECURITY,CVES")
    );
    // name -> (installed, candidate, repository, security)
    let ours: BTreeMap<String, (String, String, String, bool)> = lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 7, "{line:?}");
            (
                f[0].to_owned(),
                (
                    f[2].to_owned(),
                    f[3].to_owned(),
                    f[4].to_owned(),
                    match f[5] {
                        "true" | "yes" => true,
                        "false" | "no" => false,
                        other => panic!("SECURITY {other:?} in {line:?}"),
                    },
                ),
            )
        })
        .collect();

    let root = tempfile::tempdir().unwrap();
    let config = apt_root(root.path(), "").unwrap();
    let apt = parse_upgradable(&run_apt(&config, "apt", &["list", "--upgradable"]));
    assert!(apt.len() > 100, "apt found {} upgrades", apt.len());
    let theirs: BTreeMap<String, (String, String)> = apt
        .iter()
        .map(|u| (u.name.clone(), (u.installed.clone(), u.candidate.clone())))
        .collect();
    let mine: BTreeMap<String, (String, String)> = ours
        .iter()
        .map(|(n, (i, c, _, _))| (n.clone(), (i.clone(), c.clone())))
        .collect();
    assert_eq!(mine, theirs, "packages, installed and candidate versions");

    // Our repository is named by its suite; apt names archives by the
    // Release's `Suite:` (`oldstable-security`).
    let archive_of: BTreeMap<&str, String> = SUITES
        .iter()
        .map(|(prefix, suite)| (*suite, declared_suite(prefix)))
        .collect();
    for u in &apt {
        let repository = &ours[&u.name].2;
        let archive = &archive_of[repository.as_str()];
        assert!(
            u.archives.contains(archive),
            "{}: ours from {repository} ({archive}), apt's from {:?}",
            u.name,
            u.archives
        );
    }

    let expected = security_by_apts_rule(&config, &apt);
    let got: BTreeMap<String, bool> = ours.iter().map(|(n, v)| (n.clone(), v.3)).collect();
    assert_eq!(got, expected, "security flags by apt's -security rule");
    let security: BTreeSet<&String> = got.iter().filter(|(_, s)| **s).map(|(n, _)| n).collect();
    assert!(!security.is_empty() && security.len() < got.len());
}
