//! Alpine: the real 3.21.2 host against the real v3.21 and v3.22 indexes.

mod common;

use std::collections::HashMap;

use common::data;
use patchwatch_repos::RepoError;
use patchwatch_repos::apk::select::{ApkIndex, ApkRepo, repositories_file, updates, world_pins};
use patchwatch_repos::apk::{parse_apkindex, parse_installed};

fn index(release: &str) -> patchwatch_repos::RepoSnapshot {
    let rel = format!("repos/alpine/{release}/main/x86_64/APKINDEX.tar.gz");
    let bytes = std::fs::read(data(&rel)).unwrap();
    parse_apkindex(&bytes, &rel).unwrap()
}

fn host() -> Vec<patchwatch_reports::Package> {
    let rel = "repos/alpine/hosts/quarantine_alpine-3.21.2-x86_64_lib-apk-db-installed";
    parse_installed(&std::fs::read_to_string(data(rel)).unwrap(), rel).unwrap()
}

fn summary(u: &[patchwatch_repos::Update]) -> Vec<String> {
    u.iter()
        .map(|u| format!("{} {} -> {}", u.name, u.installed, u.candidate))
        .collect()
}

#[test]
fn apkindex_counts_match_the_readme() {
    for (release, count, description) in [
        ("v3.21", 5541, "v3.21.3-659-g65d7de3fa8a"),
        ("v3.22", 5646, "v3.22.2-206-ge2cfd1f9853"),
        ("v3.16", 4929, "v3.16.3-13-g4d933a1fa3"),
    ] {
        let snap = index(release);
        assert_eq!(snap.packages.len(), count, "{release}");
        assert_eq!(snap.meta.suite, description, "{release}");
        assert_eq!(snap.meta.architectures, ["x86_64"], "{release}");
    }
    let snap = index("v3.21");
    let musl = snap
        .packages
        .iter()
        .find(|p| p.package.name == "musl-utils")
        .unwrap();
    assert_eq!(musl.package.version, "1.2.5-r9");
    assert_eq!(musl.package.source_name, "musl");
}

#[test]
fn the_installed_database_has_fifteen_packages() {
    let host = host();
    assert_eq!(host.len(), 15);
    let busybox = host.iter().find(|p| p.name == "busybox").unwrap();
    assert_eq!(
        (busybox.version.as_str(), busybox.arch.as_str()),
        ("1.37.0-r9", "x86_64")
    );
    assert_eq!(busybox.source_name, "busybox");
}

#[test]
fn alpine_3_21_2_host_gets_exactly_the_ten_upgrades_apk_would_install() {
    let snap = index("v3.21");
    let got = updates(
        &host(),
        &[ApkRepo {
            snapshot: &snap,
            tag: None,
        }],
        &HashMap::new(),
    );
    assert_eq!(
        summary(&got),
        [
            "alpine-release 3.21.2-r0 -> 3.21.4-r0",
            "apk-tools 2.14.6-r2 -> 2.14.6-r3",
            "busybox 1.37.0-r9 -> 1.37.0-r12",
            "busybox-binsh 1.37.0-r9 -> 1.37.0-r12",
            "ca-certificates-bundle 20241121-r1 -> 20250619-r0",
            "libcrypto3 3.3.2-r4 -> 3.3.4-r0",
            "libssl3 3.3.2-r4 -> 3.3.4-r0",
            "musl 1.2.5-r8 -> 1.2.5-r9",
            "musl-utils 1.2.5-r8 -> 1.2.5-r9",
            "ssl_client 1.37.0-r9 -> 1.37.0-r12",
        ]
    );
    assert!(
        got.iter()
            .all(|u| u.repository == 0 && u.arch == "x86_64" && !u.security)
    );
}

#[test]
fn a_release_upgrade_to_3_22_brings_twelve_upgrades() {
    let snap = index("v3.22");
    let got = updates(
        &host(),
        &[ApkRepo {
            snapshot: &snap,
            tag: None,
        }],
        &HashMap::new(),
    );
    assert_eq!(
        summary(&got),
        [
            "alpine-baselayout 3.6.8-r1 -> 3.7.0-r0",
            "alpine-baselayout-data 3.6.8-r1 -> 3.7.0-r0",
            "alpine-release 3.21.2-r0 -> 3.22.2-r0",
            "apk-tools 2.14.6-r2 -> 2.14.9-r3",
            "busybox 1.37.0-r9 -> 1.37.0-r19",
            "busybox-binsh 1.37.0-r9 -> 1.37.0-r19",
            "ca-certificates-bundle 20241121-r1 -> 20250911-r0",
            "libcrypto3 3.3.2-r4 -> 3.5.4-r0",
            "libssl3 3.3.2-r4 -> 3.5.4-r0",
            "musl 1.2.5-r8 -> 1.2.5-r10",
            "musl-utils 1.2.5-r8 -> 1.2.5-r10",
            "ssl_client 1.37.0-r9 -> 1.37.0-r19",
        ]
    );
}

#[test]
fn a_tagged_repository_only_serves_packages_pinned_to_its_tag() {
    let stable = index("v3.21");
    let edge = index("v3.22");
    let repos = [
        ApkRepo {
            snapshot: &stable,
            tag: None,
        },
        ApkRepo {
            snapshot: &edge,
            tag: Some("next"),
        },
    ];
    let ix = ApkIndex::new(&repos);
    let pins = world_pins("alpine-base busybox@next musl>=1.2 zlib@other");
    assert_eq!(pins.get("busybox").map(String::as_str), Some("next"));
    assert!(!pins.contains_key("musl"));
    let got = ix.updates(&host(), &pins);
    let busybox = got.iter().find(|u| u.name == "busybox").unwrap();
    assert_eq!(
        (busybox.candidate.as_str(), busybox.repository),
        ("1.37.0-r19", 1)
    );
    // Not pinned: the tagged repository's newer build is not offered.
    let musl = got.iter().find(|u| u.name == "musl").unwrap();
    assert_eq!((musl.candidate.as_str(), musl.repository), ("1.2.5-r9", 0));
    // Several untagged repositories: the highest version wins.
    let both = [
        ApkRepo {
            snapshot: &stable,
            tag: None,
        },
        ApkRepo {
            snapshot: &edge,
            tag: None,
        },
    ];
    let got = updates(&host(), &both, &HashMap::new());
    assert_eq!(got.len(), 12);
    assert!(got.iter().all(|u| u.repository == 1));
}

#[test]
fn truncated_or_corrupt_indexes_are_refused_with_the_file_named() {
    let rel = "repos/alpine/v3.21/main/x86_64/APKINDEX.tar.gz";
    let bytes = std::fs::read(data(rel)).unwrap();
    let truncated = &bytes[..bytes.len() / 2];
    let err = parse_apkindex(truncated, "APKINDEX.tar.gz").unwrap_err();
    assert!(matches!(err, RepoError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("truncated or corrupt"), "{err}");

    let mut corrupt = bytes.clone();
    let mid = corrupt.len() / 2;
    for b in &mut corrupt[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let err = parse_apkindex(&corrupt, "APKINDEX.tar.gz").unwrap_err();
    assert!(err.to_string().starts_with("APKINDEX.tar.gz: "), "{err}");

    let err = parse_apkindex(b"P:musl\nV:1\n", "APKINDEX.tar.gz").unwrap_err();
    assert_eq!(err.to_string(), "APKINDEX.tar.gz: not a gzip file");

    let err = parse_installed("P:musl\nV:1.2\n\nA:x86_64\n\n", "installed").unwrap_err();
    assert!(
        err.to_string()
            .contains("lacks its P: (name) or V: (version)"),
        "{err}"
    );
    let err = parse_installed("P:musl\ngarbage\n", "installed").unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn the_repositories_file_gives_tags_and_urls() {
    let got = repositories_file(
        "# main first\nhttps://dl-cdn.alpinelinux.org/alpine/v3.21/main\n\n\
         @edge https://dl-cdn.alpinelinux.org/alpine/edge/main\n  /media/cdrom/apks  \n@broken\n",
    );
    assert_eq!(
        got,
        [
            (
                None,
                "https://dl-cdn.alpinelinux.org/alpine/v3.21/main".to_owned()
            ),
            (
                Some("edge".to_owned()),
                "https://dl-cdn.alpinelinux.org/alpine/edge/main".to_owned()
            ),
            (None, "/media/cdrom/apks".to_owned()),
        ]
    );
}
