//! Alpine secdb: the complete legacy YAML (v3.3-v3.11) and the JSON samples.

use std::fs::File;
use std::io::BufReader;

use patchwatch_advisories::{Advisory, FixState, NameKind, Source, alpine};
use patchwatch_reports::model::PackageType;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/alpine");

fn yaml(name: &str) -> Vec<Advisory> {
    let mut out = Vec::new();
    let f = BufReader::new(File::open(format!("{DATA}/alpine-secdb-yaml-2020-06/{name}")).unwrap());
    let n = alpine::parse_yaml(f, name, |a| out.push(a)).unwrap();
    assert_eq!(n, out.len());
    out
}

fn json(name: &str) -> Vec<Advisory> {
    let mut out = Vec::new();
    let f = File::open(format!("{DATA}/secdb-json-fixtures/{name}")).unwrap();
    alpine::parse_json(f, name, |a| out.push(a)).unwrap();
    out
}

fn get<'a>(all: &'a [Advisory], id: &str) -> &'a Advisory {
    all.iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[test]
fn yaml_complete_secdb() {
    let mut total = 0;
    let mut normalised = 0;
    for v in [
        "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11",
    ] {
        for repo in ["main", "community"] {
            let all = yaml(&format!("v{v}_{repo}.yaml"));
            assert!(
                all.iter().all(|a| a.affected[0].release == v
                    && a.affected[0].repository.as_deref() == Some(repo))
            );
            normalised += all
                .iter()
                .filter(|a| a.notes.iter().any(|n| n.starts_with("normalised id")))
                .count();
            total += all.len();
        }
    }
    assert_eq!(total, 4265);
    assert!(normalised > 50, "{normalised}");

    let all = yaml("v3.9_main.yaml");
    let a = get(&all, "v3.9/main/ansible/2.7.3-r0");
    assert_eq!(a.source, Source::AlpineSecdb);
    assert_eq!(a.cves, ["CVE-2018-16859"]);
    assert_eq!(a.notes, ["normalised id \"CVE 2018-16859\""]);
    let r = &a.affected[0];
    assert_eq!(
        (r.distro.as_str(), r.package.as_str()),
        ("alpine", "ansible")
    );
    assert_eq!(
        (r.name_kind, r.scheme),
        (NameKind::Source, PackageType::Apk)
    );
    assert_eq!(r.state.fixed_version(), Some("2.7.3-r0"));
    assert_eq!(
        r.arch,
        [
            "x86_64", "x86", "armhf", "armv7", "aarch64", "ppc64le", "s390x"
        ]
    );
    let xen = get(&all, "v3.9/main/xen/4.7.0-r0");
    assert_eq!(
        xen.cves,
        ["CVE-2016-6258", "CVE-2016-6259", "CVE-2016-5403"]
    );
    assert_eq!(xen.aliases, ["XSA-182", "XSA-183", "XSA-184"]);

    // A quoted "0" key: never affected.
    let never = yaml("v3.8_main.yaml")
        .into_iter()
        .filter(|a| a.affected[0].state == FixState::NotAffected)
        .count();
    assert_eq!(never, 1);
}

#[test]
fn json_samples() {
    let all = json("claircore_v3_15_main_truncated.json");
    assert_eq!(all.len(), 3);
    let busybox = get(&all, "v3.15/main/busybox/0");
    assert_eq!(busybox.affected[0].state, FixState::NotAffected);
    assert_eq!(
        busybox.cves,
        ["CVE-2021-42373", "CVE-2021-42376", "CVE-2021-42377"]
    );
    assert_eq!(
        get(&all, "v3.15/main/bash/4.4.12-r1").affected[0].release,
        "3.15"
    );

    // Packages before the header, and `"2.8.0-r0": {}`.
    let all = json("vuln-list-update_312-main.json");
    assert_eq!(all.len(), 2);
    assert!(get(&all, "v3.12/main/ansible/2.8.0-r0").cves.is_empty());
    assert_eq!(
        get(&all, "v3.12/main/ansible/2.7.9-r0").affected[0]
            .arch
            .len(),
        8
    );

    // `"packages": {}`.
    assert!(json("vuln-list-update_edge-community.json").is_empty());
    let edge = json("vuls-data-update_edge_main.json");
    assert_eq!(edge[0].affected[0].release, "edge");
    assert_eq!(json("claircore_v3.10_community.json").len(), 8);
}

#[test]
fn broken_documents_are_errors() {
    let err = alpine::parse_yaml(
        &b"distroversion: v3.9\npackages: [\n  - pkg: {"[..],
        "bad.yaml",
        |_| {},
    )
    .unwrap_err();
    assert!(err.location().starts_with("bad.yaml"), "{err}");
    let err = alpine::parse_json(
        &br#"{"packages": [{"pkg": {"name": "x", "secfixes": {"1-r0": ["CVE-1"]}}}]}"#[..],
        "nohdr.json",
        |_| {},
    )
    .unwrap_err();
    assert_eq!(err.location(), "nohdr.json");
}
