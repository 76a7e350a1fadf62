//! dnf's candidate rules on small hand-made repositories (priority, cost,
//! arch, installonly, module streams, security), and the security
//! classification on the real openSUSE 11.0 update repository.

mod common;

use patchwatch_reports::{Package, PackageType};
use patchwatch_repos::rpmmd::{
    self,
    select::{DnfIndex, DnfOptions, DnfRepo, updates},
};
use patchwatch_repos::{
    AvailablePackage, ModuleStream, RepoAdvisory, RepoKind, RepoMeta, RepoSnapshot, UpdateKind,
};

fn pkg(nevra: &str) -> Package {
    // name-[epoch:]version-release.arch
    let (rest, arch) = nevra.rsplit_once('.').unwrap();
    let (rest, release) = rest.rsplit_once('-').unwrap();
    let (name, ev) = rest.rsplit_once('-').unwrap();
    let (epoch, version) = ev.split_once(':').unwrap_or(("", ev));
    let mut p = Package {
        name: name.into(),
        epoch: epoch.into(),
        version: version.into(),
        release: release.into(),
        arch: arch.into(),
        kind: PackageType::Rpm,
        source_name: String::new(),
        source_version: String::new(),
    };
    p.normalise();
    p
}

fn repo(nevras: &[&str]) -> RepoSnapshot {
    RepoSnapshot {
        kind: RepoKind::RpmMd,
        meta: RepoMeta::default(),
        packages: nevras
            .iter()
            .map(|n| {
                let (n, module) = match n.split_once('@') {
                    Some((n, m)) => (n, Some(m.to_owned())),
                    None => (*n, None),
                };
                AvailablePackage {
                    package: pkg(n),
                    module,
                    phased_percentage: None,
                    multi_arch: String::new(),
                }
            })
            .collect(),
        advisories: Vec::new(),
        modules: Vec::new(),
    }
}

fn advisory(id: &str, kind: UpdateKind, cves: &[&str], nevras: &[&str]) -> RepoAdvisory {
    RepoAdvisory {
        id: id.into(),
        kind,
        severity: String::new(),
        title: String::new(),
        issued: String::new(),
        cves: cves.iter().map(|s| s.to_string()).collect(),
        packages: nevras.iter().map(|n| pkg(n)).collect(),
    }
}

fn candidates(installed: &[&str], repos: &[DnfRepo<'_>], options: &DnfOptions) -> Vec<String> {
    let host: Vec<Package> = installed.iter().map(|n| pkg(n)).collect();
    updates(&host, repos, options, "x86_64")
        .iter()
        .map(|u| {
            format!(
                "{}.{} {} -> {} @{}",
                u.name, u.arch, u.installed, u.candidate, u.repository
            )
        })
        .collect()
}

#[test]
fn the_best_priority_wins_even_over_a_higher_version() {
    let a = repo(&["curl-7.76.1-30.el9.x86_64"]);
    let b = repo(&["curl-7.76.1-31.el9.x86_64", "wget-1.21.1-8.el9.x86_64"]);
    let mut preferred = DnfRepo::new(&a);
    preferred.priority = 10;
    let got = candidates(
        &["curl-7.76.1-29.el9.x86_64", "wget-1.21.1-7.el9.x86_64"],
        &[preferred, DnfRepo::new(&b)],
        &DnfOptions::default(),
    );
    assert_eq!(
        got,
        [
            "curl.x86_64 7.76.1-29.el9 -> 7.76.1-30.el9 @0",
            "wget.x86_64 1.21.1-7.el9 -> 1.21.1-8.el9 @1"
        ]
    );
    // Same priority: the highest version, whatever the order.
    let got = candidates(
        &["curl-7.76.1-29.el9.x86_64"],
        &[DnfRepo::new(&a), DnfRepo::new(&b)],
        &DnfOptions::default(),
    );
    assert_eq!(got, ["curl.x86_64 7.76.1-29.el9 -> 7.76.1-31.el9 @1"]);
}

#[test]
fn cost_breaks_ties_between_identical_versions_and_disabled_repos_do_not_count() {
    let a = repo(&["curl-7.76.1-31.el9.x86_64"]);
    let b = repo(&["curl-7.76.1-31.el9.x86_64"]);
    let mut cheap = DnfRepo::new(&b);
    cheap.cost = 500;
    let got = candidates(
        &["curl-7.76.1-29.el9.x86_64"],
        &[DnfRepo::new(&a), cheap],
        &DnfOptions::default(),
    );
    assert_eq!(got, ["curl.x86_64 7.76.1-29.el9 -> 7.76.1-31.el9 @1"]);
    let mut off = DnfRepo::new(&a);
    off.enabled = false;
    let newer = repo(&["curl-7.76.1-40.el9.x86_64"]);
    let mut off_newer = DnfRepo::new(&newer);
    off_newer.enabled = false;
    let got = candidates(
        &["curl-7.76.1-29.el9.x86_64"],
        &[off_newer, off, DnfRepo::new(&b)],
        &DnfOptions::default(),
    );
    assert_eq!(got, ["curl.x86_64 7.76.1-29.el9 -> 7.76.1-31.el9 @2"]);
}

#[test]
fn arch_must_match_or_be_noarch_in_either_direction() {
    let r = repo(&[
        "openssl-libs-1:3.0.7-27.el9.i686",
        "openssl-libs-1:3.0.7-20.el9.x86_64",
        "python3-six-1.15.0-10.el9.x86_64",
        "tzdata-2024a-1.el9.noarch",
    ]);
    let got = candidates(
        &[
            "openssl-libs-1:3.0.7-18.el9.x86_64",
            "python3-six-1.15.0-9.el9.noarch",
            "tzdata-2023c-1.el9.noarch",
        ],
        &[DnfRepo::new(&r)],
        &DnfOptions::default(),
    );
    assert_eq!(
        got,
        [
            "openssl-libs.x86_64 1:3.0.7-18.el9 -> 1:3.0.7-20.el9 @0",
            "python3-six.noarch 1.15.0-9.el9 -> 1.15.0-10.el9 @0",
            "tzdata.noarch 2023c-1.el9 -> 2024a-1.el9 @0",
        ]
    );
}

#[test]
fn installonly_packages_compare_with_the_newest_installed() {
    let r = repo(&[
        "kernel-core-5.14.0-500.el9.x86_64",
        "kernel-core-5.14.0-503.el9.x86_64",
    ]);
    let index_repos = [DnfRepo::new(&r)];
    let index = DnfIndex::new(&index_repos, &DnfOptions::default());
    assert!(index.is_installonly("kernel-core") && index.is_installonly("kernel"));
    assert!(!index.is_installonly("kernel-headers"));
    let got = candidates(
        &[
            "kernel-core-5.14.0-503.el9.x86_64",
            "kernel-core-5.14.0-427.el9.x86_64",
        ],
        &index_repos,
        &DnfOptions::default(),
    );
    assert!(got.is_empty(), "{got:?}");
    let got = candidates(
        &[
            "kernel-core-5.14.0-427.el9.x86_64",
            "kernel-core-5.14.0-500.el9.x86_64",
        ],
        &index_repos,
        &DnfOptions::default(),
    );
    assert_eq!(
        got,
        ["kernel-core.x86_64 5.14.0-500.el9 -> 5.14.0-503.el9 @0"]
    );
    // Unsorted input, the newest kernel listed between others.
    let got = candidates(
        &[
            "kernel-core-5.14.0-427.el9.x86_64",
            "bash-5.1.8-9.el9.x86_64",
            "kernel-core-5.14.0-503.el9.x86_64",
            "acl-2.3.1-4.el9.x86_64",
            "kernel-core-5.14.0-500.el9.x86_64",
        ],
        &index_repos,
        &DnfOptions::default(),
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn modular_filtering_follows_enabled_and_default_streams() {
    let mut r = repo(&[
        "nodejs-1:16.20.2-8.el9.x86_64",
        "nodejs-1:18.20.4-1.module_el9+1.x86_64@nodejs:18",
        "nodejs-1:20.16.0-1.module_el9+2.x86_64@nodejs:20",
        "npm-1:8.19.4-1.16.20.2.8.el9.x86_64",
    ]);
    let stream = |s: &str, artifacts: &[&str], is_default| ModuleStream {
        name: "nodejs".into(),
        stream: s.into(),
        version: 1,
        context: "rhel9".into(),
        arch: "x86_64".into(),
        artifacts: artifacts.iter().map(|a| a.to_string()).collect(),
        is_default,
    };
    r.modules = vec![
        stream(
            "18",
            &[
                "nodejs-1:18.20.4-1.module_el9+1.x86_64",
                "nodejs-1:18.20.4-1.module_el9+1.src",
            ],
            false,
        ),
        stream("20", &["nodejs-1:20.16.0-1.module_el9+2.x86_64"], false),
    ];
    let host = [
        "nodejs-1:16.20.1-1.el9.x86_64",
        "npm-1:8.19.4-1.16.20.1.1.el9.x86_64",
    ];
    let opts = |streams: &[&str]| DnfOptions {
        enabled_streams: streams.iter().map(|s| s.to_string()).collect(),
        installonly: None,
    };
    let repos = [DnfRepo::new(&r)];
    assert_eq!(
        candidates(&host, &repos, &opts(&[])),
        [
            "nodejs.x86_64 1:16.20.1-1.el9 -> 1:16.20.2-8.el9 @0",
            "npm.x86_64 1:8.19.4-1.16.20.1.1.el9 -> 1:8.19.4-1.16.20.2.8.el9 @0"
        ]
    );
    assert_eq!(
        candidates(&host, &repos, &opts(&["nodejs:20"]))[0],
        "nodejs.x86_64 1:16.20.1-1.el9 -> 1:20.16.0-1.module_el9+2 @0"
    );
    // A default stream is active unless the host chose another stream.
    r.modules[0].is_default = true;
    let repos = [DnfRepo::new(&r)];
    assert_eq!(
        candidates(&host, &repos, &opts(&[]))[0],
        "nodejs.x86_64 1:16.20.1-1.el9 -> 1:18.20.4-1.module_el9+1 @0"
    );
    let index = DnfIndex::new(&repos, &opts(&["nodejs:20"]));
    assert_eq!(index.active_streams(), ["nodejs:20"]);
}

#[test]
fn security_looks_at_every_version_between_installed_and_candidate() {
    let mut r = repo(&[
        "openssl-1:3.0.7-25.el9.x86_64",
        "openssl-1:3.0.7-26.el9.x86_64",
        "openssl-1:3.0.7-27.el9.x86_64",
    ]);
    r.advisories = vec![
        advisory(
            "RHSA-1",
            UpdateKind::Security,
            &["CVE-2024-0001"],
            &["openssl-1:3.0.7-25.el9.x86_64"],
        ),
        advisory(
            "RHBA-2",
            UpdateKind::Bugfix,
            &[],
            &[
                "openssl-1:3.0.7-26.el9.x86_64",
                "openssl-1:3.0.7-26.el9.src",
            ],
        ),
        advisory(
            "RHBA-3",
            UpdateKind::Bugfix,
            &["CVE-2024-0003"],
            &["openssl-1:3.0.7-27.el9.x86_64"],
        ),
        advisory(
            "RHSA-4",
            UpdateKind::Security,
            &["CVE-2024-0004"],
            &["openssl-1:3.0.7-28.el9.x86_64"],
        ),
    ];
    let repos = [DnfRepo::new(&r)];
    let index = DnfIndex::new(&repos, &DnfOptions::default());
    let host = |nevra: &str| index.updates(&[pkg(nevra)], "x86_64").remove(0);

    let u = host("openssl-1:3.0.7-24.el9.x86_64");
    assert!(u.security);
    assert_eq!(u.cves, ["CVE-2024-0001", "CVE-2024-0003"]);
    assert_eq!(u.advisories, ["RHBA-2", "RHBA-3", "RHSA-1"]);

    // A bugfix advisory naming a CVE makes it a security update too.
    let u = host("openssl-1:3.0.7-25.el9.x86_64");
    assert!(u.security);
    assert_eq!(u.cves, ["CVE-2024-0003"]);
    assert_eq!(u.advisories, ["RHBA-2", "RHBA-3"]);

    let mut plain = r.clone();
    plain.advisories.remove(2);
    let repos = [DnfRepo::new(&plain)];
    let u = updates(
        &[pkg("openssl-1:3.0.7-25.el9.x86_64")],
        &repos,
        &DnfOptions::default(),
        "x86_64",
    );
    assert!(!u[0].security);
    assert!(u[0].cves.is_empty());
    assert_eq!(u[0].advisories, ["RHBA-2"]);
}

#[test]
fn opensuse_11_0_security_and_recommended_updates_are_told_apart() {
    let snap = rpmmd::read_dir(&common::data(common::OPENSUSE)).unwrap();
    let repos = [DnfRepo::new(&snap)];
    let index = DnfIndex::new(&repos, &DnfOptions::default());
    let host: Vec<Package> = [
        // Before the security fix 7.3-110.2: security, then three recommended.
        "xorg-x11-Xvnc-7.3-110.1.x86_64",
        // After it: only recommended updates remain.
        "xorg-x11-server-7.3-110.2.x86_64",
        // Recommended 3.0-0.1/0.2 then security 3.0.1-0.1 and 3.0.3-1.1.
        "MozillaFirefox-3.0-0.2.x86_64",
        // Only ever a recommended update.
        "insserv-1.11.0-31.1.x86_64",
        // Current.
        "xorg-x11-server-extra-7.3-110.9.x86_64",
    ]
    .iter()
    .map(|n| pkg(n))
    .collect();
    let got: Vec<String> = index
        .updates(&host, "x86_64")
        .iter()
        .map(|u| {
            format!(
                "{} {} -> {} security={} {:?}",
                u.name, u.installed, u.candidate, u.security, u.advisories
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "MozillaFirefox 3.0-0.2 -> 3.0.3-1.1 security=true [\"MozillaFirefox\"]",
            "insserv 1.11.0-31.1 -> 1.11.0-31.2 security=false [\"insserv\"]",
            "xorg-x11-Xvnc 7.3-110.1 -> 7.3-110.9 security=true [\"xorg-x11-Xvnc\"]",
            "xorg-x11-server 7.3-110.2 -> 7.3-110.9 security=false [\"xorg-x11-Xvnc\"]",
        ]
    );
}
