//! dnf's candidates on the real CentOS Stream 9 AppStream, checked against
//! an independent reference (`tests/reference/dnf_candidates.py`: its own
//! XML and YAML reading, rpm's `labelCompare` for the ordering).
//!
//! The host is built from that same primary: for every (name, arch), the
//! package listed first in the file is "installed" (a deterministic choice,
//! usually an old build since CentOS Stream keeps every build), modular ones
//! included, with some module streams enabled. Needs `/usr/bin/python3` with
//! the `rpm` and `yaml` modules (Debian: python3-rpm, python3-yaml; see
//! `.ci/deps/repos-rpm.sh`): under `CI=true` their absence fails the test.

mod common;

use std::collections::HashSet;
use std::process::Command;

use common::{APPSTREAM, data, tool_available};
use patchwatch_reports::Package;
use patchwatch_repos::rpmmd::{
    self,
    select::{DnfIndex, DnfOptions, DnfRepo},
};

const PYTHON: &str = "/usr/bin/python3";

fn reference_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import rpm, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    tool_available(
        ok,
        "python3 with the rpm and yaml modules (python3-rpm, python3-yaml)",
    )
}

fn full_evr(s: &str) -> String {
    if s.contains(':') {
        s.to_owned()
    } else {
        format!("0:{s}")
    }
}

fn check(enabled_streams: &[&str], host: &[Package], snap: &patchwatch_repos::RepoSnapshot) {
    let options = DnfOptions {
        enabled_streams: enabled_streams.iter().map(|s| s.to_string()).collect(),
        installonly: None,
    };
    let repos = [DnfRepo::new(snap)];
    let index = DnfIndex::new(&repos, &options);
    let got: Vec<String> = index
        .updates(host, "x86_64")
        .iter()
        .map(|u| {
            format!(
                "{} {} {} {}",
                u.name,
                u.arch,
                full_evr(&u.installed),
                full_evr(&u.candidate)
            )
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let installed = dir.path().join("installed");
    let lines: Vec<String> = host
        .iter()
        .map(|p| {
            let epoch = if p.epoch.is_empty() { "0" } else { &p.epoch };
            format!(
                "{} {epoch} {} {} {}\n",
                p.name, p.version, p.release, p.arch
            )
        })
        .collect();
    std::fs::write(&installed, lines.concat()).unwrap();
    let repodata = data(APPSTREAM).join("repodata");
    let find = |suffix: &str| {
        std::fs::read_dir(&repodata)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap()
    };
    let out = Command::new(PYTHON)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/dnf_candidates.py"
        ))
        .arg(find("-primary.xml.gz"))
        .arg(find("-modules.yaml.xz"))
        .arg(&installed)
        .arg(enabled_streams.join(","))
        .arg("x86_64")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    expected.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();

    let g: HashSet<&String> = got_sorted.iter().collect();
    let e: HashSet<&String> = expected.iter().collect();
    let only_ours: Vec<_> = g.difference(&e).take(10).collect();
    let only_ref: Vec<_> = e.difference(&g).take(10).collect();
    assert!(
        only_ours.is_empty() && only_ref.is_empty(),
        "streams {enabled_streams:?}: only ours {only_ours:?}, only the reference's {only_ref:?}"
    );
    assert_eq!(got_sorted, expected);
    eprintln!(
        "streams {enabled_streams:?}: {} installed, {} updates, all equal to the reference",
        host.len(),
        got.len()
    );
    // Not vacuous: thousands of updates, modular ones among them.
    assert!(got.len() > 1_000, "{} updates", got.len());
}

/// The first-listed package of every (name, arch), binary packages only.
fn host_from(snap: &patchwatch_repos::RepoSnapshot) -> Vec<Package> {
    let mut seen = HashSet::new();
    snap.packages
        .iter()
        .map(|p| &p.package)
        .filter(|p| p.arch != "src" && seen.insert((p.name.clone(), p.arch.clone())))
        .cloned()
        .collect()
}

#[test]
fn appstream_candidates_match_the_rpm_labelcompare_reference() {
    if !reference_available() {
        return;
    }
    let snap = rpmmd::read_dir(&data(APPSTREAM)).unwrap();
    let host = host_from(&snap);
    assert!(host.len() > 5_000);
    assert!(host.iter().any(|p| p.release.contains(".module_el9")));
    check(&[], &host, &snap);
    check(
        &["nodejs:20", "php:8.2", "postgresql:16", "mariadb:10.11"],
        &host,
        &snap,
    );
    check(
        &[
            "nodejs:22",
            "ruby:3.3",
            "nginx:1.24",
            "redis:7",
            "maven:3.8",
        ],
        &host,
        &snap,
    );
}

#[test]
fn module_streams_change_the_candidates() {
    let snap = rpmmd::read_dir(&data(APPSTREAM)).unwrap();
    let nodejs = |streams: &[&str]| {
        let options = DnfOptions {
            enabled_streams: streams.iter().map(|s| s.to_string()).collect(),
            installonly: None,
        };
        let repos = [DnfRepo::new(&snap)];
        let index = DnfIndex::new(&repos, &options);
        index
            .candidate("nodejs", "x86_64", "x86_64")
            .map(|(p, _)| p.evr())
    };
    // No stream enabled: the non-modular nodejs 16 of the base AppStream.
    let base = nodejs(&[]).unwrap();
    assert!(base.starts_with("1:16."), "{base}");
    let v20 = nodejs(&["nodejs:20"]).unwrap();
    assert!(
        v20.starts_with("1:20.") && v20.contains(".module_el9"),
        "{v20}"
    );
    let v22 = nodejs(&["nodejs:22"]).unwrap();
    assert!(
        v22.starts_with("1:22.") && v22.contains(".module_el9"),
        "{v22}"
    );
}
