//! The acceptance test of the apt half of issue 9: for the real Debian 12
//! host and the three real bookworm indexes, our update list equals apt's
//! own (`apt list --upgradable`: packages, candidate versions, archives),
//! and the security flag follows apt's `-security` rule on apt's own
//! version tables (`apt-cache policy` and `madison`).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::process::Command;

use patchwatch_repos::apt::{AptConfig, AptIndex, InstalledOrigin, import_dist, parse_preferences};
use patchwatch_versions::deb;

use common::{SUITES, apt_lists, data, in_lists};

/// Lays out a private apt root (lists, status, sources.list, empty config)
/// and returns the `APT_CONFIG` file pointing apt at it.
/// `security_flags` is inserted into the security suite's InRelease
/// (`NotAutomatic: yes` ...); apt reads downloaded lists without checking
/// their signature again.
fn apt_root(root: &Path, security_flags: &str) -> std::path::PathBuf {
    let lists = root.join("lists");
    std::fs::create_dir_all(lists.join("partial")).unwrap();
    for dir in [
        "cache",
        "etc/apt.conf.d",
        "etc/preferences.d",
        "state",
        "log",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let mut sources = String::new();
    for (prefix, dist) in SUITES {
        let mut release =
            std::fs::read_to_string(apt_lists().join(format!("{prefix}_InRelease"))).unwrap();
        if dist.ends_with("-security") && !security_flags.is_empty() {
            release = release.replacen(
                "\nOrigin: Debian\n",
                &format!("\nOrigin: Debian\n{security_flags}"),
                1,
            );
        }
        std::fs::write(lists.join(format!("{prefix}_InRelease")), release).unwrap();
        let packages = in_lists(&apt_lists(), prefix, "main/binary-amd64/Packages.xz");
        let mut text = Vec::new();
        xz2::read::XzDecoder::new(std::fs::File::open(&packages).unwrap())
            .read_to_end(&mut text)
            .unwrap();
        std::fs::write(in_lists(&lists, prefix, "main/binary-amd64/Packages"), text).unwrap();
        let archive = if dist.ends_with("-security") {
            "debian-security"
        } else {
            "debian"
        };
        sources.push_str(&format!(
            "deb [trusted=yes] http://deb.debian.org/{archive} {dist} main\n"
        ));
    }
    std::fs::write(root.join("etc/sources.list"), sources).unwrap();
    std::fs::write(root.join("state/status"), status_text()).unwrap();
    let r = root.display();
    let config = format!(
        "Dir \"{r}\";\nDir::State \"{r}/state\";\nDir::State::lists \"{r}/lists\";\n\
         Dir::State::status \"{r}/state/status\";\nDir::Cache \"{r}/cache\";\n\
         Dir::Etc \"{r}/etc\";\nDir::Etc::sourcelist \"{r}/etc/sources.list\";\n\
         Dir::Etc::sourceparts \"{r}/etc/sources.list.d\";\nDir::Etc::parts \"{r}/etc/apt.conf.d\";\n\
         Dir::Etc::preferences \"{r}/etc/preferences\";\n\
         Dir::Etc::preferencesparts \"{r}/etc/preferences.d\";\nDir::Log \"{r}/log\";\n\
         APT::Architecture \"amd64\";\nAPT::Architectures {{ \"amd64\"; }};\n\
         Debug::NoLocking \"true\";\nAcquire::Check-Valid-Until \"false\";\n"
    );
    let path = root.join("apt.conf");
    std::fs::write(&path, config).unwrap();
    path
}

fn status_text() -> String {
    patchwatch_fleet::inventory::read_maybe_xz(&data("hosts/this-machine_debian12_dpkg-status.xz"))
        .unwrap()
}

fn apt(config: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("APT_CONFIG", config)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `name/arch1,arch2 candidate arch [upgradable from: installed]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Upgradable {
    name: String,
    candidate: String,
    candidate_arch: String,
    archives: BTreeSet<String>,
    installed: String,
}

fn parse_list(text: &str) -> Vec<Upgradable> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line == "Listing..." {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(
            fields.len() == 6 && fields[3] == "[upgradable" && fields[4] == "from:",
            "unexpected apt list line {line:?}"
        );
        let (name, archives) = fields[0].split_once('/').unwrap();
        out.push(Upgradable {
            name: name.to_owned(),
            candidate: fields[1].to_owned(),
            candidate_arch: fields[2].to_owned(),
            archives: archives.split(',').map(str::to_owned).collect(),
            installed: fields[5].trim_end_matches(']').to_owned(),
        });
    }
    out.sort();
    out
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
    let archive_of = file_archives(&apt(&config, "apt-cache", &["policy"]));
    let names: Vec<&str> = apt_list.iter().map(|u| u.name.as_str()).collect();
    let mut args = vec!["madison"];
    args.extend(&names);
    let madison = apt(&config, "apt-cache", &args);
    let mut versions: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for line in madison.lines() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, version, file] = f[..] else {
            panic!("unexpected madison line {line:?}")
        };
        let archive = archive_of
            .get(file)
            .unwrap_or_else(|| panic!("no archive for {file:?}"));
        versions.entry(name).or_default().push((version, archive));
    }
    let expected: BTreeMap<&str, bool> = apt_list
        .iter()
        .map(|u| {
            let security = versions[u.name.as_str()].iter().any(|(v, archive)| {
                archive.ends_with("-security")
                    && deb::compare(v, &u.installed).is_gt()
                    && deb::compare(v, &u.candidate).is_le()
            });
            (u.name.as_str(), security)
        })
        .collect();
    let got: BTreeMap<&str, bool> = updates
        .iter()
        .map(|u| (u.update.name.as_str(), u.update.security))
        .collect();
    assert_eq!(got, expected);
    let security = got.values().filter(|s| **s).count();
    eprintln!(
        "apt and patchwatch agree on {} upgrades, {security} of them security",
        got.len()
    );
    Some((apt_list, security))
}

/// `apt-cache policy`'s file table: `http://... bookworm-security/main amd64
/// Packages` to that file's archive (`a=` of its release line).
fn file_archives(policy: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut file: Option<String> = None;
    for line in policy.lines() {
        let t = line.trim();
        if let Some(release) = t.strip_prefix("release ") {
            if let (Some(f), Some(a)) = (
                file.take(),
                release.split(',').find_map(|kv| kv.strip_prefix("a=")),
            ) {
                out.insert(f, a.to_owned());
            }
        } else if let Some((prio, rest)) = t.split_once(' ')
            && prio.parse::<i32>().is_ok()
        {
            file = Some(rest.to_owned());
        }
    }
    out
}
