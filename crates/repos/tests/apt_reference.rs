//! The acceptance test of the apt half of issue 9: for the real Debian 12
//! host and the three real bookworm indexes, our update list equals apt's
//! own (`apt list --upgradable`: packages, candidate versions, archives),
//! and the security flag follows apt's `-security` rule on apt's own
//! version tables (`apt-cache policy` and `madison`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use patchwatch_repos::apt::{AptConfig, AptIndex, InstalledOrigin, import_dist, parse_preferences};

use common::{SUITES, apt_lists, data, in_lists};
use patchwatch_fleet::apt::{Upgradable, parse_upgradable as parse_list, run_apt as apt};

fn apt_root(root: &Path, security_flags: &str) -> std::path::PathBuf {
    patchwatch_fleet::apt::apt_root(root, security_flags).unwrap()
}

fn status_text() -> String {
    patchwatch_fleet::inventory::read_maybe_xz(&data(patchwatch_fleet::apt::DEBIAN12_STATUS))
        .unwrap()
}

#[test]
fn update_list_equals_apts_own() {
    let Some((list, security)) = compare_with_apt("", &AptConfig::new("amd64"), "") else {
        return;
    };
    let upgrades = list.len();
    assert!(upgrades > 100, "apt found only {upgrades} upgrades");
    assert!(
        security > 10 && security < upgrades,
        "{security} security updates"
    );
}

/// Pins change candidates the same way for apt and for us: the security
/// suite pinned below the status file, a package pinned to an older
/// version than its default candidate, and one pinned to a release.
#[test]
fn update_list_with_pins_equals_apts_own() {
    let preferences = "Package: *\nPin: release a=oldstable-security\nPin-Priority: 50\n\n\
        Package: jq\nPin: version 1.6-2.1+deb12u2\nPin-Priority: 600\n\n\
        Package: tzdata\nPin: release n=bookworm\nPin-Priority: 700\n";
    // Our side reads the same file apt reads.
    let mut config = AptConfig::new("amd64");
    config.pins = parse_preferences("preferences", preferences).unwrap();
    assert_eq!(config.pins.len(), 3);
    let Some((list, _)) = compare_with_apt(preferences, &config, "") else {
        return;
    };
    // The pins did change apt's answer (and ours with it).
    let jq = list.iter().find(|u| u.name == "jq").expect("jq upgradable");
    assert_eq!(jq.candidate, "1.6-2.1+deb12u2");
    // A security-only version (priority 50) never beats the installed one.
    for u in &list {
        assert!(
            u.archives.iter().any(|a| a != "oldstable-security"),
            "{u:?}"
        );
    }
    assert!(list.len() < 132, "{} upgrades", list.len());
}

/// `NotAutomatic` repositories: priority 100 with `ButAutomaticUpgrades`
/// (the installed version and the repository tie, the higher version
/// wins), 1 without (never chosen over the installed version).
#[test]
fn update_list_with_not_automatic_security_equals_apts_own() {
    let config = AptConfig::new("amd64");
    let Some((but_automatic, _)) = compare_with_apt(
        "",
        &config,
        "NotAutomatic: yes\nButAutomaticUpgrades: yes\n",
    ) else {
        return;
    };
    let jq = but_automatic.iter().find(|u| u.name == "jq").expect("jq");
    assert_eq!(jq.candidate, "1.6-2.1+deb12u2", "main's 500 beats 100");
    let Some((not_automatic, _)) = compare_with_apt("", &config, "NotAutomatic: yes\n") else {
        return;
    };
    assert!(not_automatic.len() < but_automatic.len());
    assert!(
        not_automatic
            .iter()
            .all(|u| u.archives.iter().any(|a| a != "oldstable-security"))
    );
}

/// Runs apt with `preferences` and our policy with `apt_config` on the
/// real host and lists; asserts both agree, returns (upgrades, security),
/// or `None` when apt is missing outside CI.
fn compare_with_apt(
    preferences: &str,
    apt_config: &AptConfig,
    security_flags: &str,
) -> Option<(Vec<Upgradable>, usize)> {
    if !common::require_tool("apt-get") {
        return None;
    }
    let root = tempfile::tempdir().unwrap();
    let config = apt_root(root.path(), security_flags);
    std::fs::write(root.path().join("etc/preferences"), preferences).unwrap();
    let apt_list = parse_list(&apt(&config, "apt", &["list", "--upgradable"]));

    // Our side reads the same (possibly edited) InRelease files.
    let lists = root.path().join("lists");
    let snapshots: Vec<_> = SUITES
        .iter()
        .map(|(prefix, _)| {
            import_dist(
                &lists.join(format!("{prefix}_InRelease")),
                &["main"],
                "amd64",
                |listed| in_lists(&apt_lists(), prefix, listed),
            )
            .unwrap()
        })
        .collect();
    let refs: Vec<_> = snapshots.iter().collect();
    let index = AptIndex::build(&refs, apt_config);
    let installed = patchwatch_fleet::inventory::dpkg_status(&status_text()).unwrap();
    let updates = index.updates(&installed);
    // Installed from no repository and nothing to upgrade to: apt's
    // `[installed,local]` (an upgradable one is listed as upgradable).
    let apt_local: BTreeSet<String> = apt(&config, "apt", &["list", "--installed"])
        .lines()
        .filter(|l| l.ends_with(",local]"))
        .map(|l| l.split('/').next().unwrap_or_default().to_owned())
        .collect();
    let our_local: BTreeSet<String> = installed
        .iter()
        .filter(|p| !matches!(index.installed_origin(p), InstalledOrigin::Repositories(_)))
        .filter(|p| !updates.iter().any(|u| u.update.name == p.name))
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(our_local, apt_local);
    assert!(!our_local.is_empty());

    // A binNMU: the binary version is not its source's, and Debian's
    // advisories name source versions.
    if let Some(bash) = updates.iter().find(|u| u.update.name == "bash") {
        assert_eq!(bash.update.candidate, "5.2.15-2+b13");
        assert_eq!(
            (
                bash.candidate_source.as_str(),
                bash.candidate_source_version.as_str()
            ),
            ("bash", "5.2.15-2")
        );
    }
    let mut ours: Vec<Upgradable> = updates
        .iter()
        .map(|u| Upgradable {
            name: u.update.name.clone(),
            candidate: u.update.candidate.clone(),
            candidate_arch: u.candidate_arch.clone(),
            archives: u
                .repositories
                .iter()
                .map(|&r| snapshots[r].meta.suite.clone())
                .collect(),
            installed: u.update.installed.clone(),
        })
        .collect();
    ours.sort();
    let theirs: BTreeSet<_> = apt_list.iter().collect();
    let mine: BTreeSet<_> = ours.iter().collect();
    let only_apt: Vec<_> = theirs.difference(&mine).collect();
    let only_ours: Vec<_> = mine.difference(&theirs).collect();
    assert!(
        only_apt.is_empty() && only_ours.is_empty(),
        "only apt: {only_apt:#?}\nonly ours: {only_ours:#?}"
    );

    // Security: apt 2.6 does not print it, so apply apt's rule
    // (`IsSecurityUpdate`) to apt's own version tables.
    let expected = patchwatch_fleet::apt::security_by_apts_rule(&config, &apt_list);
    let got: BTreeMap<String, bool> = updates
        .iter()
        .map(|u| (u.update.name.clone(), u.update.security))
        .collect();
    assert_eq!(got, expected);
    let security = got.values().filter(|s| **s).count();
    eprintln!(
        "apt and patchwatch agree on {} upgrades, {security} of them security",
        got.len()
    );
    Some((apt_list, security))
}
