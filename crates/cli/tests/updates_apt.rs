//! `hosts updates --csv` against Debian's own apt: the real Debian 12
//! host ingested, the three real bookworm lists imported with `repos
//! import`, and `apt list --upgradable` pointed at the same status file
//! and lists (`patchwatch_fleet::apt`, shared with the library's apt
//! test). Same packages, installed and candidate versions; the candidate's
//! repository is one of the archives apt names; security flags by apt's
//! `-security` rule. Missing apt fails under `CI=true`, else skips.
//! The same again with apt preferences files in the report and in apt's
//! `preferences.d`.

use std::collections::{BTreeMap, BTreeSet};

use patchwatch_fleet::apt::{
    DEBIAN12_STATUS, SUITES, apt_installed, apt_lists, apt_root, parse_upgradable, run_apt,
    security_by_apts_rule,
};
use patchwatch_fleet::inventory::{dpkg_status, read_maybe_xz};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::AptPreferences;

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

fn apt_missing() -> bool {
    if apt_installed() {
        return false;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "apt is missing (.ci/deps/repos*.sh install it)"
    );
    eprintln!("SKIPPED: apt is missing (.ci/deps/repos*.sh install it)");
    true
}

#[test]
fn hosts_updates_csv_equals_apt_list_upgradable() {
    if apt_missing() {
        return;
    }
    let (ours, apt) = compare_with_apt(&[]);
    assert!(apt.len() > 100, "apt found {} upgrades", apt.len());
    assert_eq!(ours.len(), apt.len());
}

/// A pin of the security suite below the installed version's priority, a
/// package held at its installed version, and a pin our parser refuses
/// (`Pin: origin`, matching no repository for apt either): the same
/// candidates as apt's, and `hosts updates` names the ignored file.
#[test]
fn hosts_updates_csv_equals_apt_with_preferences() {
    if apt_missing() {
        return;
    }
    let (_, unpinned) = compare_with_apt(&[]);
    let held = unpinned
        .iter()
        .find(|u| u.archives.iter().all(|a| a == "oldstable"))
        .expect("an update from the point release");
    let security_only: Vec<(&str, &str)> = unpinned
        .iter()
        .filter(|u| u.archives.iter().all(|a| a.ends_with("-security")))
        .map(|u| (u.name.as_str(), u.candidate.as_str()))
        .collect();
    assert!(
        !security_only.is_empty(),
        "the security suite brings updates"
    );
    let file = |name: &str, content: String| AptPreferences {
        file: format!("/etc/apt/preferences.d/{name}"),
        content,
    };
    let preferences = [
        file(
            "security",
            "Explanation: hold back the security suite\nPackage: *\n\
             Pin: release a=oldstable-security\nPin-Priority: 1\n"
                .into(),
        ),
        file(
            "hold.pref",
            format!(
                "Package: {}\nPin: version {}\nPin-Priority: 1001\n",
                held.name, held.installed
            ),
        ),
        file(
            "origin",
            "Package: *\nPin: origin mirror.invalid\nPin-Priority: 990\n".into(),
        ),
    ];
    let (ours, apt) = compare_with_apt(&preferences);
    assert!(!ours.contains_key(&held.name), "{} is held", held.name);
    // Gone, or a lower candidate from the point release (jq).
    for (name, candidate) in &security_only {
        assert!(
            ours.get(*name).is_none_or(|o| o.1 != *candidate),
            "{name} {candidate} is only in the pinned suite"
        );
    }
    assert!(apt.len() < unpinned.len());
}

type Ours = BTreeMap<String, (String, String, String, bool)>;

/// Ingests the real host with `preferences`, imports the real lists, and
/// checks `hosts updates --csv` against apt given the same files; returns
/// both.
fn compare_with_apt(
    preferences: &[AptPreferences],
) -> (Ours, Vec<patchwatch_fleet::apt::Upgradable>) {
    // The real host: exactly the packages of its dpkg status file.
    let status = read_maybe_xz(&shared_data_dir().join(DEBIAN12_STATUS)).unwrap();
    let mut fleet = Fleet::new(vec![Image::debian12().unwrap()], 2).with_drift(0);
    fleet.domain = "debian.example".into();
    let mut report = fleet.report(0);
    report.apt_preferences = preferences.to_vec();
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

    let out = env
        .cmd(&["hosts", "updates", HOST, "--csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let csv = String::from_utf8(out.stdout).unwrap();
    let warnings = String::from_utf8(out.stderr).unwrap();
    let refused: Vec<&AptPreferences> = preferences
        .iter()
        .filter(|p| p.content.contains("Pin: origin"))
        .collect();
    for p in &refused {
        assert!(
            warnings.contains(&format!(
                "apt preferences ignored (its pins are not applied): {}: line 2: `Pin: origin`",
                p.file
            )),
            "{warnings}"
        );
    }
    if refused.is_empty() {
        assert!(!warnings.contains("apt preferences"), "{warnings}");
    }
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("NAME,ARCH,INSTALLED,CANDIDATE,REPOSITORY,SECURITY,CVES")
    );
    // name -> (installed, candidate, repository, security)
    let ours: Ours = lines
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
    for p in preferences {
        let name = p.file.rsplit('/').next().unwrap();
        std::fs::write(root.path().join("etc/preferences.d").join(name), &p.content).unwrap();
    }
    let apt = parse_upgradable(&run_apt(&config, "apt", &["list", "--upgradable"]));
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
    if preferences.is_empty() {
        assert!(!security.is_empty() && security.len() < got.len());
    }
    (ours, apt)
}
