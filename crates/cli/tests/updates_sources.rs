//! Where a host's updates come from, end to end: reports naming their
//! repositories (mirrors of the configured ones, several suites in one
//! deb822 stanza, a disabled line, `$basearch` left for the server, dnf
//! module streams, apk tags and world pins) are ingested, and `hosts updates` uses exactly
//! those repositories, with the host's module streams and tags, on the
//! real indexes of ../shared/data.

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::{
    ApkPin, ModuleStream, OsInfo, Package, PackageType, Protocol, Report, Repository,
};
use serde_json::Value;

mod common;

use common::Env;

fn data(rel: &str) -> String {
    shared_data_dir().join(rel).display().to_string()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn apt_line(urls: &[&str], suites: &[&str]) -> Repository {
    Repository {
        urls: strings(urls),
        suites: strings(suites),
        components: strings(&["main", "contrib"]),
        ..Repository::new(PackageType::Deb)
    }
}

/// The real Debian 12 host, reporting `repositories`.
fn debian_host(n: usize, repositories: Vec<Repository>) -> Report {
    let mut fleet = Fleet::new(vec![Image::debian12().unwrap()], 3).with_drift(0);
    fleet.domain = "debian.example".into();
    let mut r = fleet.report(n);
    r.repositories = Some(repositories);
    r
}

fn updates(v: &Value) -> &Vec<Value> {
    v["updates"].as_array().unwrap()
}

fn repositories(v: &Value) -> Vec<&str> {
    v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

#[test]
fn apt_hosts_use_exactly_the_suites_their_sources_name_on_any_mirror() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    // Only the main suite, from a national mirror; the security archive's
    // line is disabled.
    let main_only = debian_host(
        0,
        vec![
            apt_line(&["http://ftp.cz.debian.org/debian/"], &["bookworm"]),
            Repository {
                enabled: Some(false),
                ..apt_line(
                    &["http://security.debian.org/debian-security"],
                    &["bookworm-security"],
                )
            },
        ],
    );
    // One deb822 stanza with two mirrors and two suites, and the security
    // archive under its other name.
    let all_three = debian_host(
        1,
        vec![
            apt_line(
                &[
                    "http://ftp.de.debian.org/debian",
                    "http://deb.debian.org/debian",
                ],
                &["bookworm", "bookworm-updates"],
            ),
            apt_line(
                &["http://security.debian.org/debian-security/"],
                &["bookworm-security"],
            ),
        ],
    );
    // Another release's suites: no configured repository, and none is a
    // default, so the host has none.
    let trixie = debian_host(
        2,
        vec![apt_line(&["http://deb.debian.org/debian"], &["trixie"])],
    );
    let hosts: Vec<String> = [&main_only, &all_three, &trixie]
        .iter()
        .map(|r| r.hostname.clone())
        .collect();
    env.ingest("S", vec![main_only, all_three, trixie]);

    let lists = data("debian/apt-lists");
    for (name, source) in [
        ("bookworm", "http://deb.debian.org/debian"),
        ("bookworm-updates", "http://deb.debian.org/debian"),
        ("bookworm-security", "http://deb.debian.org/debian-security"),
    ] {
        env.ok(&[
            "repos", "add", name, "--kind", "apt", "--source", source, "--suite", name,
        ]);
        env.ok(&["repos", "import", name, &lists]);
    }

    let v = env.json(&["hosts", "updates", &hosts[0]]);
    assert_eq!(repositories(&v), ["bookworm"], "{v}");
    let main_updates = updates(&v);
    assert!(
        main_updates
            .iter()
            .all(|u| u["repository"] == "bookworm" && u["security"] == false),
        "{v}"
    );

    let v = env.json(&["hosts", "updates", &hosts[1]]);
    assert_eq!(
        repositories(&v),
        ["bookworm", "bookworm-security", "bookworm-updates"],
        "{v}"
    );
    // The counts apt itself gives for this host with the three suites (see
    // tests/updates.rs).
    let all = updates(&v);
    let security = all.iter().filter(|u| u["security"] == true).count();
    assert_eq!((all.len(), security), (132, 82));
    assert!(main_updates.len() < all.len());

    let err = env.fails(&["hosts", "updates", &hosts[2]]);
    assert!(err.contains("no configured repository applies"), "{err}");
}

const APPSTREAM: &str = "repos/centos-stream-9/appstream-x86_64-2025-01-13";

fn centos_host(name: &str, module_streams: Vec<ModuleStream>) -> Report {
    let mut r = Report::new(Protocol::Native, name);
    r.os = OsInfo {
        id: "centos".into(),
        version_id: "9".into(),
        pretty_name: "CentOS Stream 9".into(),
        ..OsInfo::default()
    };
    r.arch = "x86_64".into();
    r.kernel.release = "5.14.0-539.el9.x86_64".into();
    r.packages = Some(vec![Package {
        name: "nodejs".into(),
        epoch: "1".into(),
        version: "16.20.2".into(),
        release: "3.el9".into(),
        arch: "x86_64".into(),
        kind: PackageType::Rpm,
        source_name: "nodejs".into(),
        source_version: String::new(),
    }]);
    // A local mirror under another prefix, `$basearch` and `$releasever`
    // left for the server as a client that knows neither sends them.
    r.repositories = Some(vec![Repository {
        id: "appstream".into(),
        name: "CentOS Stream $releasever - AppStream".into(),
        urls: strings(&[
            "http://mirror.example.cz/pub/centos-stream/$releasever-stream/AppStream/$basearch/os/",
        ]),
        ..Repository::new(PackageType::Rpm)
    }]);
    r.module_streams = module_streams;
    r
}

fn rpm_candidate(env: &Env, host: &str) -> String {
    let v = env.json(&["hosts", "updates", host]);
    assert_eq!(repositories(&v), ["c9s-appstream"], "{v}");
    let all = updates(&v);
    assert_eq!(all.len(), 1, "{v}");
    all[0]["candidate"].as_str().unwrap().to_owned()
}

#[test]
fn dnf_hosts_get_candidates_from_their_enabled_module_streams() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    let stream = |name: &str, stream: &str| ModuleStream {
        name: name.into(),
        stream: stream.into(),
    };
    env.ingest(
        "S",
        vec![
            centos_host("plain.centos.example", vec![]),
            centos_host("node20.centos.example", vec![stream("nodejs", "20")]),
            centos_host("node18.centos.example", vec![stream("nodejs", "18")]),
        ],
    );
    env.ok(&[
        "repos",
        "add",
        "c9s-appstream",
        "--kind",
        "rpm-md",
        "--source",
        "https://mirror.stream.centos.org/9-stream/AppStream/x86_64/os/",
    ]);
    env.ok(&["repos", "import", "c9s-appstream", &data(APPSTREAM)]);

    // No stream enabled: modular nodejs is invisible, the newest
    // non-modular build is the candidate.
    assert_eq!(
        rpm_candidate(&env, "plain.centos.example"),
        "1:16.20.2-8.el9"
    );
    // An enabled stream hides the non-modular package and offers its own.
    assert_eq!(
        rpm_candidate(&env, "node20.centos.example"),
        "1:20.18.1-1.module_el9+1145+0c321386"
    );
    assert_eq!(
        rpm_candidate(&env, "node18.centos.example"),
        "1:18.19.1-1.module_el9+986+cd5c1200"
    );
}

fn alpine_host(name: &str, tag: &str, pins: &[&str]) -> Report {
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
    let mut r = Fleet::new(vec![image], 3).with_drift(0).report(0);
    r.hostname = name.into();
    r.repositories = Some(vec![Repository {
        name: "v3.21/main".into(),
        id: "v3.21/main".into(),
        urls: strings(&["https://mirror.example.edu/alpine/v3.21/main"]),
        tag: tag.into(),
        ..Repository::new(PackageType::Apk)
    }]);
    r.apk_pins = pins
        .iter()
        .map(|name| ApkPin {
            name: (*name).into(),
            tag: tag.into(),
        })
        .collect();
    r
}

#[test]
fn apk_tags_decide_which_packages_a_repository_serves() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    env.ingest(
        "S",
        vec![
            alpine_host("plain.alpine.example", "", &[]),
            alpine_host("tagged.alpine.example", "old", &[]),
            alpine_host("pinned.alpine.example", "old", &["libssl3"]),
        ],
    );
    env.ok(&[
        "repos",
        "add",
        "alpine-main",
        "--kind",
        "apk",
        "--source",
        &data("repos/alpine/v3.21/main"),
    ]);
    env.ok(&["repos", "import", "alpine-main"]);
    // The mirror's line is the configured repository: apk's own 10
    // upgrades (see tests/updates.rs).
    let v = env.json(&["hosts", "updates", "plain.alpine.example"]);
    assert_eq!(repositories(&v), ["alpine-main"], "{v}");
    assert_eq!(updates(&v).len(), 10, "{v}");
    // Tagged `@old`, it serves only packages pinned to the tag: none.
    let v = env.json(&["hosts", "updates", "tagged.alpine.example"]);
    assert_eq!(repositories(&v), ["alpine-main"], "{v}");
    assert!(updates(&v).is_empty(), "{v}");
    // `libssl3@old` in the world file: that package, and only it.
    let v = env.json(&["hosts", "updates", "pinned.alpine.example"]);
    let names: Vec<&str> = updates(&v)
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["libssl3"], "{v}");
}
