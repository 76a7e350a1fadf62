//! The shell client's repository and module-stream collection: real-world
//! configuration files (comments, `[arch=... signed-by=...]` options,
//! deb822 stanzas with several URIs and suites, `Enabled: no`, dnf
//! variables, continued `baseurl` lines, `@tag` apk lines and world pins)
//! written into a
//! fake `/etc`, the client run against it without root, and its report read
//! back with the server's native parser.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use patchwatch_reports::{ModuleStream, PackageType, Report, Repository, native};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// A fake `/etc`, removed when dropped.
struct FakeEtc(PathBuf);

impl FakeEtc {
    fn new(files: &[(&str, &str)]) -> FakeEtc {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pw-client-repos-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        for (rel, text) in files {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        FakeEtc(dir)
    }
}

impl Drop for FakeEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the client as a `manager` host (the stubs and fixtures of
/// client/tests) with its configuration in `etc`.
fn report(manager: &str, etc: &FakeEtc) -> Report {
    let fixtures = root().join("client/tests/fixtures");
    let stubs = root().join("client/tests/stubs").join(manager);
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(root().join("client/patchwatch-client"))
        .args(["--stdout", "--hostname", "h.example.org"])
        .args(["--package-manager", manager])
        .env_clear()
        .env("PATH", path)
        .env("HOME", std::env::temp_dir())
        .env(
            "PATCHWATCH_OS_RELEASE",
            fixtures.join(format!("{manager}/os-release")),
        )
        .env("PATCHWATCH_ETC", &etc.0)
        .env("PATCHWATCH_APK_DB", fixtures.join("apk/installed"))
        .env("PATCHWATCH_MODULES_DIR", fixtures.join("apk/modules"))
        .env("PATCHWATCH_REBOOT_REQUIRED", "/nonexistent/reboot-required")
        .output()
        .expect("run client/patchwatch-client");
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    native::parse(&out.stdout).expect("the server accepts the client's report")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const SOURCES_LIST: &str = "\
# See sources.list(5)
deb http://deb.debian.org/debian bookworm main contrib non-free-firmware
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64,arm64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable
deb [ arch=amd64 ] http://security.debian.org/debian-security bookworm-security main # the security archive
#deb http://archive.debian.org/debian buster main
";

const DEBIAN_SOURCES: &str = "\
# Modernized from /etc/apt/sources.list
Types: deb deb-src
URIs: http://deb.debian.org/debian/ http://ftp.cz.debian.org/debian/
Suites: bookworm-updates
 bookworm-backports
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

types: deb-src
uris: http://deb.debian.org/debian/
suites: trixie
components: main

Types: deb
URIs: https://packages.example.org/apt
Suites: stable
Components: main
Architectures: amd64
Enabled: no
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mDMEZQ0example
 -----END PGP PUBLIC KEY BLOCK-----
";

#[test]
fn apt_one_line_and_deb822_sources() {
    let etc = FakeEtc::new(&[
        ("apt/sources.list", SOURCES_LIST),
        ("apt/sources.list.d/debian.sources", DEBIAN_SOURCES),
        // Not a sources file: ignored.
        (
            "apt/sources.list.d/notes.txt",
            "deb http://x.example/ y z\n",
        ),
    ]);
    let report = report("dpkg", &etc);
    let repos = report.repositories.unwrap();
    let deb = |name: &str, urls: &[&str], suites: &[&str], comps: &[&str]| Repository {
        name: name.into(),
        id: suites.join(" "),
        urls: strings(urls),
        suites: strings(suites),
        components: strings(comps),
        ..Repository::new(PackageType::Deb)
    };
    assert_eq!(
        repos,
        [
            deb(
                "bookworm main contrib non-free-firmware",
                &["http://deb.debian.org/debian"],
                &["bookworm"],
                &["main", "contrib", "non-free-firmware"]
            ),
            Repository {
                architectures: strings(&["amd64", "arm64"]),
                ..deb(
                    "bookworm stable",
                    &["https://download.docker.com/linux/debian"],
                    &["bookworm"],
                    &["stable"]
                )
            },
            Repository {
                architectures: strings(&["amd64"]),
                ..deb(
                    "bookworm-security main",
                    &["http://security.debian.org/debian-security"],
                    &["bookworm-security"],
                    &["main"]
                )
            },
            // One stanza, two mirrors, two suites (one on a continued line).
            deb(
                "bookworm-updates bookworm-backports main non-free-firmware",
                &[
                    "http://deb.debian.org/debian/",
                    "http://ftp.cz.debian.org/debian/"
                ],
                &["bookworm-updates", "bookworm-backports"],
                &["main", "non-free-firmware"]
            ),
            // deb-src only: not a binary repository. Disabled: listed so.
            Repository {
                architectures: strings(&["amd64"]),
                enabled: Some(false),
                ..deb(
                    "stable main",
                    &["https://packages.example.org/apt"],
                    &["stable"],
                    &["main"]
                )
            },
        ]
    );
    assert!(report.module_streams.is_empty());
}

const CENTOS_REPO: &str = "\
[baseos]
name=CentOS Stream $releasever - BaseOS
metalink=https://mirrors.centos.org/metalink?repo=centos-baseos-$stream&arch=$basearch&protocol=https,http
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-centosofficial
gpgcheck=1
countme=1
enabled=1

# A local mirror first, the public one after.
[appstream]
name = CentOS Stream $releasever - AppStream
baseurl = http://mirror.example.cz/centos-stream/$stream/AppStream/$basearch/os/
          https://mirror.stream.centos.org/${stream}/AppStream/${basearch}/os/
priority = 10
cost = 500
enabled = 1

[crb]
name=CentOS Stream $releasever - CRB
mirrorlist=http://mirrorlist.example.org/?release=$releasever&arch=$basearch&repo=CRB
enabled=0
";

#[test]
fn dnf_repos_variables_and_module_streams() {
    let etc = FakeEtc::new(&[
        ("yum.repos.d/centos.repo", CENTOS_REPO),
        ("dnf/vars/stream", "9-stream\n"),
        (
            "dnf/modules.d/nodejs.module",
            "[nodejs]\nname=nodejs\nstream=18\nprofiles=common\nstate=enabled\n",
        ),
        (
            "dnf/modules.d/php.module",
            "[php]\nname=php\nstream=8.1\nprofiles=\nstate=disabled\n",
        ),
        // Early RHEL 8 wrote enabled=1 rather than a state.
        (
            "dnf/modules.d/perl.module",
            "[perl]\nname=perl\nstream=5.26\nprofiles=\nenabled=1\n",
        ),
    ]);
    let report = report("rpm", &etc);
    let repos = report.repositories.unwrap();
    assert_eq!(
        repos,
        [
            Repository {
                name: "CentOS Stream $releasever - BaseOS".into(),
                id: "baseos".into(),
                metalink: "https://mirrors.centos.org/metalink?repo=centos-baseos-9-stream&arch=x86_64&protocol=https,http".into(),
                ..Repository::new(PackageType::Rpm)
            },
            Repository {
                name: "CentOS Stream $releasever - AppStream".into(),
                id: "appstream".into(),
                priority: Some(10),
                cost: Some(500),
                urls: strings(&[
                    "http://mirror.example.cz/centos-stream/9-stream/AppStream/x86_64/os/",
                    "https://mirror.stream.centos.org/9-stream/AppStream/x86_64/os/",
                ]),
                ..Repository::new(PackageType::Rpm)
            },
            Repository {
                name: "CentOS Stream $releasever - CRB".into(),
                id: "crb".into(),
                enabled: Some(false),
                mirrorlist: "http://mirrorlist.example.org/?release=$releasever&arch=x86_64&repo=CRB".into(),
                ..Repository::new(PackageType::Rpm)
            },
        ]
    );
    let mut streams = report.module_streams.clone();
    streams.sort();
    let stream = |name: &str, stream: &str| ModuleStream {
        name: name.into(),
        stream: stream.into(),
    };
    assert_eq!(streams, [stream("nodejs", "18"), stream("perl", "5.26")]);
}

#[test]
fn apk_repositories_with_tags() {
    let etc = FakeEtc::new(&[
        (
            "apk/repositories",
            "https://dl-cdn.alpinelinux.org/alpine/v3.21/main\n\
             https://dl-cdn.alpinelinux.org/alpine/v3.21/community/\n\
             # https://dl-cdn.alpinelinux.org/alpine/edge/main\n\
             \n\
             @testing https://dl-cdn.alpinelinux.org/alpine/edge/testing\n",
        ),
        (
            "apk/repositories.d/local.list",
            "http://apk.example.org/v3.21/local\n",
        ),
        (
            "apk/world",
            "alpine-base\nnodejs@testing ruby@testing>3.3 busybox\n",
        ),
    ]);
    let report = report("apk", &etc);
    let pins: Vec<(&str, &str)> = report
        .apk_pins
        .iter()
        .map(|p| (p.name.as_str(), p.tag.as_str()))
        .collect();
    assert_eq!(pins, [("nodejs", "testing"), ("ruby", "testing")]);
    let got: Vec<(String, String, Vec<String>, String)> = report
        .repositories
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.id, r.urls, r.tag))
        .collect();
    let row = |name: &str, id: &str, url: &str, tag: &str| {
        (
            name.to_owned(),
            id.to_owned(),
            strings(&[url]),
            tag.to_owned(),
        )
    };
    assert_eq!(
        got,
        [
            row(
                "v3.21/main",
                "v3.21/main",
                "https://dl-cdn.alpinelinux.org/alpine/v3.21/main",
                ""
            ),
            row(
                "v3.21/community",
                "v3.21/community",
                "https://dl-cdn.alpinelinux.org/alpine/v3.21/community",
                ""
            ),
            row(
                "@testing edge/testing",
                "edge/testing",
                "https://dl-cdn.alpinelinux.org/alpine/edge/testing",
                "testing"
            ),
            row(
                "v3.21/local",
                "v3.21/local",
                "http://apk.example.org/v3.21/local",
                ""
            ),
        ]
    );
}

#[test]
fn apt_preferences_files_as_apt_reads_them() {
    let pin = "Package: *\nPin: release a=bookworm-backports\n\tPin-Priority: 100\n";
    let etc = FakeEtc::new(&[
        (
            "apt/sources.list",
            "deb http://deb.debian.org/debian bookworm main\n",
        ),
        ("apt/preferences", "# nothing pinned here\n"),
        (
            "apt/preferences.d/zz-hold.pref",
            "Package: openssl\nPin: version 3.0.15*\nPin-Priority: 1001\n",
        ),
        ("apt/preferences.d/backports", pin),
        // apt skips other extensions and names outside [A-Za-z0-9_.-].
        ("apt/preferences.d/old.dpkg-old", pin),
        ("apt/preferences.d/backup~", pin),
        // The server refuses control characters but tab and newline.
        ("apt/preferences.d/escape", "Explanation: \u{1b}[31m\n"),
    ]);
    let report = report("dpkg", &etc);
    let got: Vec<(&str, &str)> = report
        .apt_preferences
        .iter()
        .map(|p| (p.file.as_str(), p.content.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("/etc/apt/preferences", "# nothing pinned here\n"),
            ("/etc/apt/preferences.d/backports", pin),
            (
                "/etc/apt/preferences.d/zz-hold.pref",
                "Package: openssl\nPin: version 3.0.15*\nPin-Priority: 1001\n"
            ),
        ]
    );
    // An rpm host sends none.
    assert!(report_without_prefs().is_empty());
}

fn report_without_prefs() -> Vec<patchwatch_reports::AptPreferences> {
    let etc = FakeEtc::new(&[("apt/preferences", "Package: *\n")]);
    report("rpm", &etc).apt_preferences
}
