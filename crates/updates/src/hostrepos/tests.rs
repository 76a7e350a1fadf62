//! Tests of the matching of reported repository lines to configured ones.

use patchwatch_reports::PackageType;
use patchwatch_store::repos::created_repository;
use patchwatch_store::{NewRepository, RepositoryKind};

use super::*;

fn repo(name: &str, kind: RepositoryKind, source: &str, suite: &str) -> Repository {
    created_repository(
        1,
        &NewRepository {
            name: name.into(),
            kind,
            source: source.into(),
            suite: suite.into(),
            components: vec![],
            architectures: vec![],
            priority: 0,
            cost: 1000,
            default_for: vec!["debian 12".into(), "rocky".into()],
        },
        0,
    )
}

fn reported(kind: PackageType, name: &str, urls: &[&str]) -> ReportedRepository {
    ReportedRepository {
        kind,
        name: name.into(),
        id: String::new(),
        priority: None,
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        ..ReportedRepository::new(kind)
    }
}

fn os(distro: &str, release: &str) -> OsRelease {
    OsRelease {
        distro: distro.into(),
        release: release.into(),
    }
}

#[test]
fn report_lines_match_by_name_or_any_mirror_and_apt_needs_the_suite() {
    let security = repo(
        "deb-sec",
        RepositoryKind::Apt,
        "http://deb.debian.org/debian-security/",
        "bookworm-security",
    );
    let appstream = repo(
        "appstream",
        RepositoryKind::RpmMd,
        "https://mirror.example/9/AppStream/x86_64/os",
        "",
    );
    let configured = [&security, &appstream];
    let none = OsGroups::none();
    let debian = os("debian", "12.5");
    let line = reported(
        PackageType::Deb,
        "",
        &["http://deb.debian.org/debian-security bookworm-security/main"],
    );
    assert_eq!(
        repositories_for_host(&configured, &[line], &debian, &none),
        [0]
    );
    // The same archive, another suite: not this repository, so the
    // OS defaults apply (both are defaults for debian 12).
    let other_suite = reported(
        PackageType::Deb,
        "",
        &["http://deb.debian.org/debian-security trixie-security/main"],
    );
    assert_eq!(
        repositories_for_host(&configured, &[other_suite], &debian, &none),
        [0, 1]
    );
    // A mirror list: any URL matches; and by name.
    let mirrors = reported(
        PackageType::Rpm,
        "",
        &[
            "https://other.example/x",
            "https://mirror.example/9/AppStream/x86_64/os/",
        ],
    );
    assert_eq!(
        repositories_for_host(&configured, &[mirrors], &os("rocky", "9.5"), &none),
        [1]
    );
    let by_name = reported(PackageType::Rpm, "appstream", &[]);
    assert_eq!(
        repositories_for_host(&configured, &[by_name], &debian, &none),
        [1]
    );
    // No match and no default: none.
    assert!(repositories_for_host(&configured, &[], &os("alpine", "3.21.2"), &none).is_empty());
    assert_eq!(os_group_names(&debian, &none), ["debian 12", "debian 12.5"]);
}

fn apt_line(urls: &[&str], suites: &[&str], components: &[&str]) -> ReportedRepository {
    ReportedRepository {
        suites: suites.iter().map(|s| (*s).to_owned()).collect(),
        components: components.iter().map(|s| (*s).to_owned()).collect(),
        ..reported(PackageType::Deb, "", urls)
    }
}

#[test]
fn apt_mirrors_are_one_repository_by_suite_and_component() {
    let mut main = repo(
        "bookworm",
        RepositoryKind::Apt,
        "http://deb.debian.org/debian",
        "bookworm",
    );
    main.default_for.clear();
    let mut security = repo(
        "bookworm-security",
        RepositoryKind::Apt,
        "http://deb.debian.org/debian-security/",
        "bookworm-security",
    );
    security.default_for.clear();
    let configured = [&main, &security];
    let none = OsGroups::none();
    let debian = os("debian", "12.5");
    let host = HostFacts {
        os: &debian,
        arch: "x86_64",
        apk_pins: &[],
        apt_preferences: &[],
    };
    let sources = |lines: &[ReportedRepository]| {
        host_sources(&configured, lines, &[], &host, &none).repositories
    };
    // A national mirror, several URIs and suites in one stanza.
    let stanza = apt_line(
        &["http://ftp.cz.debian.org/debian/", "http://other.example/x"],
        &["bookworm", "bookworm-updates"],
        &["main", "contrib"],
    );
    assert_eq!(sources(std::slice::from_ref(&stanza)), [0]);
    // security.debian.org is a mirror of deb.debian.org/debian-security.
    let sec = apt_line(
        &["http://security.debian.org/debian-security"],
        &["bookworm-security"],
        &["main"],
    );
    assert_eq!(sources(&[stanza.clone(), sec.clone()]), [0, 1]);
    // Disabled, another component only, another suite, another archive:
    // none of them.
    let disabled = ReportedRepository {
        enabled: Some(false),
        ..stanza.clone()
    };
    let contrib_only = apt_line(
        &["http://deb.debian.org/debian"],
        &["bookworm"],
        &["contrib"],
    );
    let trixie = apt_line(&["http://deb.debian.org/debian"], &["trixie"], &["main"]);
    let ubuntu = apt_line(
        &["http://archive.ubuntu.com/ubuntu"],
        &["bookworm"],
        &["main"],
    );
    for line in [disabled, contrib_only, trixie, ubuntu] {
        assert!(sources(std::slice::from_ref(&line)).is_empty(), "{line:?}");
    }
    // Patchman's per-index URL on a mirror names the suite itself.
    let patchman = reported(
        PackageType::Deb,
        "Debian 12 amd64",
        &["http://ftp.cz.debian.org/debian/dists/bookworm/main/binary-amd64"],
    );
    assert_eq!(sources(&[patchman]), [0]);
}

#[test]
fn rpm_mirrors_by_path_tail_and_metalink_with_variables_expanded() {
    let baseos = repo(
        "c9s-baseos",
        RepositoryKind::RpmMd,
        "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os/",
        "",
    );
    let appstream = repo(
        "c9s-appstream",
        RepositoryKind::RpmMd,
        "https://mirrors.centos.org/metalink?repo=centos-appstream-9-stream&arch=x86_64",
        "",
    );
    let rocky = repo(
        "rocky9-baseos",
        RepositoryKind::RpmMd,
        "https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os",
        "",
    );
    let configured = [&baseos, &appstream, &rocky];
    let none = OsGroups::none();
    let centos = os("centos", "9");
    let host = HostFacts {
        os: &centos,
        arch: "x86_64",
        apk_pins: &[],
        apt_preferences: &[],
    };
    let line = |urls: &[&str], metalink: &str| ReportedRepository {
        id: "some-id".into(),
        metalink: metalink.into(),
        priority: Some(10),
        cost: Some(500),
        ..reported(PackageType::Rpm, "", urls)
    };
    let streams = [ModuleStream {
        name: "nodejs".into(),
        stream: "18".into(),
    }];
    let got = host_sources(
        &configured,
        &[
            line(
                &[
                    "http://mirror.example.cz/pub/centos-stream/$releasever-stream/BaseOS/$basearch/os/",
                ],
                "",
            ),
            line(
                &[],
                "https://mirrors.centos.org/metalink?repo=centos-appstream-$releasever-stream&arch=${basearch}",
            ),
        ],
        &streams,
        &host,
        &none,
    );
    assert_eq!(got.repositories, [0, 1]);
    assert_eq!(got.module_streams, ["nodejs:18"]);
    assert_eq!(
        got.uses[0],
        RepositoryUse {
            tag: None,
            priority: Some(10),
            cost: Some(500)
        }
    );
    // Rocky's BaseOS shares the tail `BaseOS/x86_64/os` only: another
    // repository.
    let rocky_line = line(&["https://mirror.example/9-stream/BaseOS/x86_64/os"], "");
    assert_eq!(
        host_sources(&configured, &[rocky_line], &[], &host, &none).repositories,
        [0]
    );
    assert_eq!(
        expand("a/$releasever/${basearch}/$unknown/${x/$", &host),
        "a/9/x86_64/$unknown/${x/$"
    );
}

#[test]
fn apk_lines_match_by_branch_and_keep_their_tag() {
    let main = repo(
        "alpine-main",
        RepositoryKind::Apk,
        "https://dl-cdn.alpinelinux.org/alpine/v3.21/main",
        "",
    );
    let testing = repo(
        "edge-testing",
        RepositoryKind::Apk,
        "/srv/mirror/alpine/edge/testing/x86_64/APKINDEX.tar.gz",
        "",
    );
    let configured = [&main, &testing];
    let alpine = os("alpine", "3.21.2");
    let host = HostFacts {
        os: &alpine,
        arch: "x86_64",
        apk_pins: &[],
        apt_preferences: &[],
    };
    let lines = [
        reported(
            PackageType::Apk,
            "v3.21/main",
            &["http://mirror.example.edu/alpine/v3.21/main/"],
        ),
        ReportedRepository {
            tag: "testing".into(),
            ..reported(
                PackageType::Apk,
                "@testing edge/testing",
                &["https://dl-cdn.alpinelinux.org/alpine/edge/testing"],
            )
        },
        reported(
            PackageType::Apk,
            "v3.20/main",
            &["https://dl-cdn.alpinelinux.org/alpine/v3.20/main"],
        ),
    ];
    let got = host_sources(&configured, &lines, &[], &host, &OsGroups::none());
    assert_eq!(got.repositories, [0, 1]);
    assert_eq!(got.uses[0].tag, None);
    assert_eq!(got.uses[1].tag.as_deref(), Some("testing"));
}

#[test]
fn apt_pins_in_file_order_and_an_unparsable_file_ignored_by_name() {
    let main = repo(
        "bookworm",
        RepositoryKind::Apt,
        "http://deb.debian.org/debian",
        "bookworm",
    );
    let debian = os("debian", "12");
    let file = |file: &str, content: &str| AptPreferences {
        file: file.into(),
        content: content.into(),
    };
    let preferences = [
        file(
            "/etc/apt/preferences",
            "Package: *\nPin: release a=bookworm-updates\nPin-Priority: 100\n",
        ),
        file(
            "/etc/apt/preferences.d/mirror",
            "Package: *\nPin: origin mirror.example\nPin-Priority: 990\n",
        ),
        file(
            "/etc/apt/preferences.d/hold.pref",
            "Package: openssl\nPin: version 3.0.15*\nPin-Priority: 1001\n",
        ),
    ];
    let host = HostFacts {
        os: &debian,
        arch: "amd64",
        apk_pins: &[],
        apt_preferences: &preferences,
    };
    let got = host_sources(&[&main], &[], &[], &host, &OsGroups::none());
    let priorities: Vec<i32> = got.apt_pins.iter().map(|p| p.priority).collect();
    assert_eq!(priorities, [100, 1001]);
    assert_eq!(got.apt_pins[1].packages, ["openssl"]);
    assert_eq!(
        got.ignored_preferences,
        [
            "/etc/apt/preferences.d/mirror: line 2: `Pin: origin` (the repository's host) is not supported"
        ]
    );
    // Equal preferences, equal sources: one candidate index for both hosts.
    let again = host_sources(&[&main], &[], &[], &host, &OsGroups::none());
    assert_eq!(got, again);
}
