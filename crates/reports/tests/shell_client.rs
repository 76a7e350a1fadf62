//! Runs the POSIX sh host client, `client/patchwatch-client`, and checks what
//! it produces with the native report parser.
//!
//! - On this machine (Debian) for real: the report must list exactly what
//!   `dpkg-query` says is installed.
//! - On simulated rpm, apk, pacman and old-dpkg hosts: stub commands from
//!   `client/tests/stubs/<manager>/` come first on PATH and print recorded
//!   outputs from `client/tests/fixtures/` (see `client/tests/README.md`);
//!   environment variables point the client at fixture files.
//! - Options, exit codes, the cron line, the proxy mode and the HTTP exchange
//!   against a small server in this test.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use patchwatch_reports::{Package, PackageType, Report, native};

// ------------------------------------------------------------------ helpers

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn client() -> PathBuf {
    root().join("client/patchwatch-client")
}

fn fixture(rel: &str) -> String {
    root()
        .join("client/tests/fixtures")
        .join(rel)
        .to_str()
        .unwrap()
        .to_owned()
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pw-shell-client-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn report(&self) -> Report {
        assert_eq!(self.code, 0, "client failed: {}", self.stderr);
        native::parse(self.stdout.as_bytes())
            .unwrap_or_else(|e| panic!("the client's report does not parse: {e}\n{}", self.stdout))
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).expect("JSON")
    }
}

/// A host the client runs on: environment for the client process. Always a
/// clean environment with its own HOME, so no user configuration leaks in.
struct Host {
    env: BTreeMap<String, String>,
    _home: TempDir,
}

impl Host {
    /// This machine as it is.
    fn real() -> Host {
        let home = TempDir::new("home");
        let mut env = BTreeMap::new();
        env.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
        env.insert("HOME".into(), home.path().to_owned());
        Host { env, _home: home }
    }

    /// A simulated host: the stubs of `manager` first on PATH, os-release,
    /// package databases, repository configuration and kernel modules from
    /// the fixtures.
    fn stub(manager: &str) -> Host {
        let mut host = Host::real();
        let stubs = root().join("client/tests/stubs").join(manager);
        let path = format!("{}:{}", stubs.to_str().unwrap(), host.env["PATH"]);
        host.set("PATH", &path)
            .set(
                "PATCHWATCH_OS_RELEASE",
                &fixture(&format!("{manager}/os-release")),
            )
            .set("PATCHWATCH_ETC", &fixture(&format!("{manager}/etc")))
            .set(
                "PATCHWATCH_MODULES_DIR",
                &fixture(&format!("{manager}/modules")),
            )
            .set("PATCHWATCH_APK_DB", &fixture("apk/installed"))
            .set("PATCHWATCH_PACMAN_DB", &fixture("pacman/local"))
            .set("PATCHWATCH_REBOOT_REQUIRED", "/nonexistent/reboot-required");
        host
    }

    fn set(&mut self, key: &str, value: &str) -> &mut Host {
        self.env.insert(key.into(), value.into());
        self
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut child = Command::new(client())
            .args(args)
            .env_clear()
            .envs(&self.env)
            .current_dir(root())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run client/patchwatch-client");
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn packages(report: &Report) -> Vec<Package> {
    let mut p = report.packages.clone().expect("packages");
    p.sort();
    p
}

fn pkg(kind: PackageType, name: &str, full: &str, arch: &str, src: &str, src_ver: &str) -> Package {
    let (epoch, version, release) = Package::split_evr(kind, full);
    Package {
        name: name.into(),
        epoch,
        version,
        release,
        arch: arch.into(),
        kind,
        source_name: src.into(),
        source_version: src_ver.into(),
    }
}

// ------------------------------------------------------------------ real host

#[test]
fn debian_host_report_matches_dpkg_query() {
    if !have("dpkg-query") {
        common::tool_missing("dpkg-query", "the real-host test");
        return;
    }
    let run = Host::real().run(&["--stdout"]);
    let report = run.report();

    let out = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev} ${Package} ${Version} ${Architecture}\n",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut want: Vec<(String, String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (matches!(f[0], "ii" | "hi") && f.len() == 4)
                .then(|| (f[1].to_owned(), f[2].to_owned(), f[3].to_owned()))
        })
        .collect();
    want.sort();
    let mut got: Vec<(String, String, String)> = packages(&report)
        .iter()
        .map(|p| {
            assert_eq!(p.kind, PackageType::Deb);
            assert!(!p.source_name.is_empty(), "{p:?} has no source");
            (p.name.clone(), p.evr(), p.arch.clone())
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), want.len(), "package count");
    assert_eq!(got, want);

    let uname_r = Command::new("uname").arg("-r").output().unwrap().stdout;
    assert_eq!(
        report.kernel.release,
        String::from_utf8(uname_r).unwrap().trim()
    );
    assert!(!report.hostname.is_empty());
    assert!(!report.os.id.is_empty());
    assert_eq!(report.client.name, "patchwatch-client");
    // One line of JSON, as --proxy expects.
    assert_eq!(run.stdout.trim_end().lines().count(), 1);
}

// ------------------------------------------------------------------ stub hosts

/// What the rpm fixture says, parsed independently of the client.
fn rpm_fixture() -> Vec<Package> {
    let text = std::fs::read_to_string(fixture("rpm/rpm-qa.txt")).unwrap();
    let mut want: Vec<Package> = text
        .lines()
        .filter(|l| !l.starts_with("gpg-pubkey\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l}");
            let srpm = f[5].strip_suffix(".src.rpm").unwrap();
            let (rest, rel) = srpm.rsplit_once('-').unwrap();
            let (sname, ver) = rest.rsplit_once('-').unwrap();
            Package {
                name: f[0].into(),
                epoch: if f[1] == "(none)" { "" } else { f[1] }.into(),
                version: f[2].into(),
                release: f[3].into(),
                arch: f[4].into(),
                kind: PackageType::Rpm,
                source_name: sname.into(),
                source_version: format!("{ver}-{rel}"),
            }
        })
        .collect();
    want.sort();
    want
}

#[test]
fn rpm_host_from_stubs() {
    let run = Host::stub("rpm").run(&["--stdout", "--hostname", "ubi9-httpd.example.org"]);
    let report = run.report();
    // On the wire, not only after the parser's normalisation: no "0" or
    // "(none)" epoch, and an epoch exactly where rpm has one.
    let raw = run.json();
    let epochs: Vec<&str> = raw["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.get("epoch").map(|e| e.as_str().unwrap()))
        .collect();
    assert!(
        epochs.iter().all(|e| e.parse::<u32>().is_ok_and(|n| n > 0)),
        "{epochs:?}"
    );
    let want = rpm_fixture();
    assert_eq!(want.len(), 243);
    let got = packages(&report);
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
    let openssl = got.iter().find(|p| p.name == "openssl-libs").unwrap();
    assert_eq!(openssl.evr(), "1:3.2.2-6.el9_5");
    assert_eq!(
        (
            openssl.source_name.as_str(),
            openssl.source_version.as_str()
        ),
        ("openssl", "3.2.2-6.el9_5")
    );
    assert!(got.iter().all(|p| p.name != "gpg-pubkey"));
    assert_eq!(
        epochs.len(),
        want.iter().filter(|p| !p.epoch.is_empty()).count()
    );

    // The fixture was derived from the recorded manifest; check it still
    // says the same when the shared data is beside the repository.
    let manifest = root().join("../shared/data/hosts/claircore_ubi9-httpd.rpm-manifest.json");
    if let Ok(text) = std::fs::read_to_string(&manifest) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut from_manifest: Vec<(String, String, String)> = v["rpms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap().to_owned();
                (
                    s("name"),
                    format!("{}-{}", s("version"), s("release")),
                    s("srpm_name"),
                )
            })
            .collect();
        from_manifest.sort();
        let mut from_report: Vec<(String, String, String)> = got
            .iter()
            .map(|p| (p.name.clone(), p.evr(), p.source_name.clone()))
            .collect();
        from_report.sort();
        assert_eq!(from_report, from_manifest);
    }

    assert_eq!(report.hostname, "ubi9-httpd.example.org");
    assert_eq!(report.os.id, "rhel");
    assert_eq!(report.os.version_id, "9.5");
    assert_eq!(report.os.id_like, "fedora");
    assert_eq!(report.kernel.release, "5.14.0-503.15.1.el9_5.x86_64");
    assert_eq!(report.arch, "x86_64");
    // A container image: no package owns the running kernel, so no verdict.
    assert_eq!(report.reboot.required, None);
    // Disabled repositories are listed too, marked so.
    let repos: Vec<_> = report
        .repositories
        .as_ref()
        .unwrap()
        .iter()
        .filter(|r| r.is_enabled())
        .collect();
    let ids: Vec<&str> = repos.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["ubi-9-baseos-rpms", "ubi-9-appstream-rpms"]);
    assert_eq!(repos[1].priority, Some(90));
    assert_eq!(
        repos[0].urls,
        ["https://cdn-ubi.redhat.com/content/public/ubi/dist/ubi9/9/x86_64/baseos/os"],
        "$basearch is expanded"
    );
    assert!(repos[0].urls[0].starts_with("https://cdn-ubi.redhat.com/"));
}

#[test]
fn rpm_host_reboot_follows_the_newest_kernel() {
    let mut host = Host::stub("rpm");
    host.set("PW_STUB_RPM_KERNELS", &fixture("rpm/kernels.txt"));
    let report = host.run(&["--stdout", "--hostname", "h"]).report();
    assert_eq!(report.reboot.required, Some(true));
    assert_eq!(report.reboot.reasons.len(), 1);
    assert!(
        report.reboot.reasons[0].contains("kernel-core 5.14.0-503.19.1.el9_5.x86_64"),
        "{:?}",
        report.reboot.reasons
    );

    // Running the newest installed kernel: nothing to do.
    let tmp = TempDir::new("kernels");
    let kernels = tmp.file(
        "kernels.txt",
        "1700000000 5.14.0-427.13.1.el9_4.x86_64\n1732615274 5.14.0-503.15.1.el9_5.x86_64\n",
    );
    host.set("PW_STUB_RPM_KERNELS", &kernels);
    let report = host.run(&["--stdout", "--hostname", "h"]).report();
    assert_eq!(report.reboot.required, Some(false));
    assert!(report.reboot.reasons.is_empty());
}

/// The apk installed database, parsed independently of the client.
fn apk_fixture() -> Vec<Package> {
    let text = std::fs::read_to_string(fixture("apk/installed")).unwrap();
    let mut want = Vec::new();
    for stanza in text.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let field = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap_or_default()
                .to_owned()
        };
        let version = field("V:");
        want.push(Package {
            name: field("P:"),
            epoch: String::new(),
            version: version.clone(),
            release: String::new(),
            arch: field("A:"),
            kind: PackageType::Apk,
            source_name: field("o:"),
            source_version: version,
        });
    }
    want.sort();
    want
}

#[test]
fn apk_host_from_installed_db() {
    let report = Host::stub("apk")
        .run(&["--stdout", "--hostname", "alpine1.example.org"])
        .report();
    let want = apk_fixture();
    assert_eq!(want.len(), 15);
    assert_eq!(packages(&report), want);
    let musl = want.iter().find(|p| p.name == "musl").unwrap();
    assert_eq!(
        (musl.version.as_str(), musl.release.as_str()),
        ("1.2.4-r0", "")
    );
    let libssl = want.iter().find(|p| p.name == "libssl3").unwrap();
    assert_eq!(libssl.source_name, "openssl");

    assert_eq!(report.os.id, "alpine");
    assert_eq!(report.os.version_id, "3.18.4");
    // The fixture's modules are for 6.1.64 while 6.1.62 runs.
    assert_eq!(report.reboot.required, Some(true));
    let repos = report.repositories.as_ref().unwrap();
    assert_eq!(repos.len(), 3, "the commented-out line is not a repository");
    assert_eq!(repos[0].id, "v3.18/main");
    assert_eq!(repos[2].name, "@testing edge/testing");
}

#[test]
fn apk_host_without_db_asks_apk_info() {
    let mut host = Host::stub("apk");
    host.set("PATCHWATCH_APK_DB", "/nonexistent/installed");
    let report = host.run(&["--stdout", "--hostname", "h"]).report();
    let got: Vec<(String, String)> = packages(&report)
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect();
    let want: Vec<(String, String)> = apk_fixture()
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect();
    assert_eq!(got, want);
}

/// The pacman local database, parsed independently of the client.
fn pacman_fixture() -> Vec<Package> {
    let mut want = Vec::new();
    for entry in std::fs::read_dir(fixture("pacman/local")).unwrap() {
        let desc = entry.unwrap().path().join("desc");
        let Ok(text) = std::fs::read_to_string(&desc) else {
            continue; // ALPM_DB_VERSION
        };
        let field = |k: &str| {
            let mut lines = text.lines();
            lines.find(|l| *l == k).expect(k);
            lines.next().unwrap().to_owned()
        };
        let version = field("%VERSION%");
        want.push(pkg(
            PackageType::Pacman,
            &field("%NAME%"),
            &version,
            &field("%ARCH%"),
            &field("%BASE%"),
            &version,
        ));
    }
    want.sort();
    want
}

#[test]
fn pacman_host_from_local_db() {
    let report = Host::stub("pacman")
        .run(&["--stdout", "--hostname", "arch1.example.org"])
        .report();
    let want = pacman_fixture();
    assert_eq!(want.len(), 16);
    let got = packages(&report);
    assert_eq!(got, want);
    let zlib = got.iter().find(|p| p.name == "zlib").unwrap();
    assert_eq!(
        (
            zlib.epoch.as_str(),
            zlib.version.as_str(),
            zlib.release.as_str()
        ),
        ("1", "1.3.1", "1")
    );
    let ca = got
        .iter()
        .find(|p| p.name == "ca-certificates-mozilla")
        .unwrap();
    assert_eq!(ca.source_name, "nss");
    let iana = got.iter().find(|p| p.name == "iana-etc").unwrap();
    assert_eq!(iana.arch, "any");

    assert_eq!(report.os.id, "arch");
    assert_eq!(report.reboot.required, Some(false));
    let repos = report.repositories.as_ref().unwrap();
    let ids: Vec<&str> = repos.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["core", "extra", "custom"]);
    assert_eq!(repos[2].urls.len(), 1);

    // Without the database, "pacman -Q": names and versions only.
    let mut host = Host::stub("pacman");
    host.set("PATCHWATCH_PACMAN_DB", "/nonexistent/local");
    let report = host.run(&["--stdout", "--hostname", "h"]).report();
    let got: Vec<(String, String)> = packages(&report)
        .into_iter()
        .map(|p| (p.name.clone(), p.evr()))
        .collect();
    let want: Vec<(String, String)> = want
        .into_iter()
        .map(|p| (p.name.clone(), p.evr()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn old_dpkg_falls_back_to_the_source_field() {
    let report = Host::stub("dpkg")
        .run(&["--stdout", "--hostname", "deb1.example.org"])
        .report();
    let d = PackageType::Deb;
    let mut want = vec![
        pkg(
            d,
            "accountsservice",
            "22.08.8-6",
            "amd64",
            "accountsservice",
            "22.08.8-6",
        ),
        pkg(d, "acl", "2.3.1-3", "amd64", "acl", "2.3.1-3"),
        pkg(d, "adduser", "3.131", "all", "adduser", "3.131"),
        pkg(
            d,
            "admin-session",
            "2023.06.26.c543406313-00",
            "amd64",
            "admin-session",
            "2023.06.26.c543406313-00",
        ),
        pkg(d, "attr", "1:2.5.1-4", "amd64", "attr", "1:2.5.1-4"),
        pkg(d, "libacl1", "2.3.1-3", "amd64", "acl", "2.3.1-3"),
        pkg(
            d,
            "util-linux-extra",
            "2.38.1-5+b1",
            "amd64",
            "util-linux",
            "2.38.1-5",
        ),
        // Held packages are installed too; "rc" and not-installed ones are not.
        pkg(
            d,
            "linux-image-amd64",
            "6.1.76-1",
            "amd64",
            "linux-signed-amd64",
            "6.1.76+1",
        ),
    ];
    want.sort();
    assert_eq!(packages(&report), want);
    let attr = want.iter().find(|p| p.name == "attr").unwrap();
    assert_eq!((attr.epoch.as_str(), attr.version.as_str()), ("1", "2.5.1"));
    let adduser = want.iter().find(|p| p.name == "adduser").unwrap();
    assert_eq!(adduser.release, "", "a native version has no release");
}

// ------------------------------------------------------------------ JSON

#[test]
fn odd_characters_are_escaped() {
    let mut host = Host::stub("apk");
    host.set("PATCHWATCH_OS_RELEASE", &fixture("escape/os-release"));
    let run = host.run(&[
        "--stdout",
        "--hostname",
        r#"we"ird\host"#,
        "--site",
        r#"Lab "A" \ B/C"#,
        "--tag",
        "ünïcødé",
        "--tag",
        "$HOME `x` 'q'",
    ]);
    // The client's JSON escaping is what is tested here: the server
    // refuses this hostname (no DNS name has `"`) and the tab (a control
    // character), so read the JSON as JSON.
    assert_eq!(run.code, 0, "client failed: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["hostname"], r#"we"ird\host"#);
    assert_eq!(report["site"], r#"Lab "A" \ B/C"#);
    assert_eq!(
        report["tags"],
        serde_json::json!(["ünïcødé", "$HOME `x` 'q'"])
    );
    assert_eq!(
        report["os"]["pretty_name"],
        "Odd \"Quoted\" Linux \\ back$lash\ttab ünïcødé"
    );
    // Single quotes in os-release keep everything literally.
    assert_eq!(report["os"]["version_codename"], "single $quoted");
    let refused = native::parse(run.stdout.as_bytes())
        .unwrap_err()
        .to_string();
    assert_eq!(refused, "hostname: contains the character '\"'");
    // The tab went out as an escape, not raw.
    assert!(run.stdout.contains(r#"back$lash\ttab"#), "{}", run.stdout);
    assert_eq!(run.json()["os"]["id_like"], "alpine");

    // Control characters in site or tags would be refused by the server.
    let run = host.run(&["--stdout", "--hostname", "h", "--site", "a\u{1}b"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("control characters"), "{}", run.stderr);
}

// ------------------------------------------------------------------ options

#[test]
fn bad_options_exit_1_with_a_message() {
    let host = Host::stub("apk");
    for (args, message) in [
        (&["--bogus"][..], "unknown option: --bogus"),
        (&["--tag"][..], "option --tag needs a value"),
        (&["--timeout", "soon"][..], "--timeout: expected a number"),
        (&["--stdout", "--proxy"][..], "exclude each other"),
        (&["--stdout=yes"][..], "option --stdout takes no value"),
        (
            &["--package-manager", "msi"][..],
            "expected dpkg, rpm, apk or pacman",
        ),
        (
            &["--config", "/nonexistent/client.conf"][..],
            "cannot read configuration file",
        ),
        (
            &["--server", "ftp://x", "--token", "t"][..],
            "expected an http:// or https:// URL",
        ),
        (
            &["--server", "http://x", "--token", "a b"][..],
            "characters a bearer token cannot have",
        ),
    ] {
        let run = host.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }

    let tmp = TempDir::new("conf");
    let conf = tmp.file("client.conf", "server = https://x\ncolour = blue\n");
    let run = host.run(&["--config", &conf]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("client.conf:2: unknown key 'colour'"),
        "{}",
        run.stderr
    );

    let run = host.run(&["--version"]);
    assert_eq!(
        (run.code, run.stdout.starts_with("patchwatch-client ")),
        (0, true)
    );
    let run = host.run(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Exit codes:"));
}

#[test]
fn sending_without_a_token_is_a_configuration_error() {
    let host = Host::stub("apk");
    let run = host.run(&["--server", "http://127.0.0.1:1", "--hostname", "h"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no token"), "{}", run.stderr);

    let tmp = TempDir::new("token");
    let empty = tmp.file("token", "\n");
    let run = host.run(&["--server", "http://127.0.0.1:1", "--token-file", &empty]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is empty"), "{}", run.stderr);

    let run = host.run(&["--token", "t0k3n", "--hostname", "h"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no server"), "{}", run.stderr);
}

#[test]
fn cron_prints_a_daily_line_with_the_options() {
    let host = Host::stub("apk");
    let run = host.run(&[
        "--cron",
        "--server",
        "https://pw.example.org",
        "--site",
        "CESNET 50%",
        "--tag",
        "prod",
        "--tag",
        "it's",
        "--token-file",
        "/etc/patchwatch/token",
        "--verbose",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let f: Vec<&str> = lines[0].splitn(7, ' ').collect();
    let minute: u32 = f[0].parse().unwrap();
    let hour: u32 = f[1].parse().unwrap();
    assert!(minute < 60 && hour < 24, "{}", lines[0]);
    assert_eq!(&f[2..5], ["*", "*", "*"]);
    assert!(!f[5].is_empty(), "the user field of /etc/cron.d");
    let command = f[6];
    let client = client();
    let expected = format!(
        "'{}' --quiet --random-sleep 3600 --server 'https://pw.example.org' --site 'CESNET 50\\%' \
         --tag 'prod' --tag 'it'\\''s' --token-file '/etc/patchwatch/token'",
        client.to_str().unwrap()
    );
    assert_eq!(command, expected);

    // A token on the command line would end up in a crontab.
    let run = host.run(&["--cron", "--token", "secret"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--token-file"), "{}", run.stderr);
    assert!(!run.stderr.contains("secret") && !run.stdout.contains("secret"));
}

#[test]
fn dry_run_collects_and_sends_nothing() {
    let host = Host::stub("apk");
    let tmp = TempDir::new("dry");
    let token = tmp.file("token", "s3cr3t-token\n");
    let port = closed_port();
    let server = format!("http://127.0.0.1:{port}");
    let run = host.run(&[
        "--dry-run",
        "--server",
        &server,
        "--token-file",
        &token,
        "--hostname",
        "h",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(packages(&run.report()), apk_fixture());
    assert!(run.stderr.contains("dry run: would POST"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{server}/api/v1/reports")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"));

    // It checks the configuration a real run needs.
    let run = host.run(&["--dry-run", "--server", &server, "--hostname", "h"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no token"));
}

// ------------------------------------------------------------------ HTTP

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[derive(Debug)]
struct Request {
    request_line: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    /// The body, gunzipped when the client said it was gzip.
    fn json(&self) -> Vec<u8> {
        match self.headers.get("content-encoding").map(String::as_str) {
            None => self.body.clone(),
            Some("gzip") => {
                let mut gz = Command::new("gzip")
                    .arg("-dc")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                gz.stdin.take().unwrap().write_all(&self.body).unwrap();
                let out = gz.wait_with_output().unwrap();
                assert!(out.status.success(), "the body is not gzip");
                out.stdout
            }
            Some(other) => panic!("unexpected Content-Encoding {other}"),
        }
    }
}

/// A one-thread HTTP/1.1 server answering the given replies in turn.
fn serve(replies: Vec<(u16, &'static str)>) -> (String, thread::JoinHandle<Vec<Request>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        for (status, body) in replies {
            let stream = loop {
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                    Err(_) => return seen,
                }
            };
            seen.push(answer(stream, status, body));
        }
        seen
    });
    (url, handle)
}

fn answer(mut stream: TcpStream, status: u16, body: &str) -> Request {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed in the headers");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap().to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
    }
    let len: usize = headers["content-length"].parse().unwrap();
    let mut body_bytes = buf[head_end + 4..].to_vec();
    while body_bytes.len() < len {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed in the body");
        body_bytes.extend_from_slice(&chunk[..n]);
    }
    let reply = format!(
        "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes()).unwrap();
    Request {
        request_line,
        headers,
        body: body_bytes,
    }
}

const TOKEN: &str = "pw_Zm9vYmFyLWJhei0xMjM0NTY3ODkw";

#[test]
fn sends_the_report_and_reads_the_reply() {
    let host = Host::stub("apk");
    let tmp = TempDir::new("send");
    let token = tmp.file("token", &format!("{TOKEN}\n"));
    let (url, server) = serve(vec![
        (
            201,
            r#"{"status":"stored","host_id":7,"new_host":true,"packages_changed":true}"#,
        ),
        (400, r#"{"error": "packages[0].name: is empty"}"#),
        (503, r#"{"error":"the store is busy; try again later"}"#),
    ]);
    let args = |extra: &'static str| {
        let mut a = vec![
            "--server",
            url.as_str(),
            "--token-file",
            token.as_str(),
            "--retries",
            "0",
            "--hostname",
            "alpine1.example.org",
        ];
        if !extra.is_empty() {
            a.push(extra);
        }
        a
    };

    let ok = host.run(&args("--verbose"));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stderr.contains("server replied 201"), "{}", ok.stderr);
    assert!(!ok.stderr.contains(TOKEN) && !ok.stdout.contains(TOKEN));
    // Success is one line on stdout: what was sent, where, and the answer.
    let said: Vec<&str> = ok.stdout.lines().collect();
    assert_eq!(said.len(), 1, "{}", ok.stdout);
    let expected_start = format!(
        "patchwatch-client: sent alpine1.example.org ({} packages, ",
        apk_fixture().len()
    );
    assert!(said[0].starts_with(&expected_start), "{}", said[0]);
    assert!(
        said[0].ends_with(&format!(
            "to {url}/api/v1/reports: HTTP 201, stored, new host 7"
        )),
        "{}",
        said[0]
    );

    let refused = host.run(&args(""));
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("(HTTP 400): packages[0].name: is empty"),
        "{}",
        refused.stderr
    );

    let busy = host.run(&args(""));
    assert_eq!(busy.code, 5, "{}", busy.stderr);
    assert!(busy.stderr.contains("the store is busy"), "{}", busy.stderr);

    let requests = server.join().unwrap();
    assert_eq!(requests.len(), 3);
    let r = &requests[0];
    assert_eq!(r.request_line, "POST /api/v1/reports HTTP/1.1");
    assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(r.headers["content-type"], "application/json");
    if !have("gzip") {
        common::tool_missing("gzip", "the compressed-upload check");
    } else {
        assert_eq!(
            r.headers.get("content-encoding").map(String::as_str),
            Some("gzip")
        );
    }
    let report = native::parse(&r.json()).expect("the sent report parses");
    assert_eq!(report.hostname, "alpine1.example.org");
    assert_eq!(packages(&report), apk_fixture());
}

#[test]
fn wget_sends_too() {
    let gnu_wget = Command::new("wget")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU Wget"));
    if !gnu_wget {
        common::tool_missing("GNU wget", "the wget transport test");
        return;
    }
    let mut host = Host::stub("apk");
    host.set("PATCHWATCH_HTTP_CLIENT", "wget");
    let tmp = TempDir::new("wget");
    let token = tmp.file("token", TOKEN);
    let (url, server) = serve(vec![
        (202, "{}"),
        (422, r#"{"error":"hostname: is empty"}"#),
    ]);
    let base = [
        "--server",
        &url,
        "--token-file",
        &token,
        "--retries",
        "0",
        "--hostname",
        "w",
    ];
    let run = host.run(&base);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = host.run(&base);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("hostname: is empty"), "{}", run.stderr);
    let requests = server.join().unwrap();
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Bearer {TOKEN}")
    );
    assert_eq!(native::parse(&requests[0].json()).unwrap().hostname, "w");
}

#[test]
fn configuration_file_supplies_server_token_site_and_tags() {
    let host = Host::stub("pacman");
    let tmp = TempDir::new("config");
    let token = tmp.file("token", TOKEN);
    let (url, server) = serve(vec![(200, "{}")]);
    let conf = tmp.file(
        "client.conf",
        &format!(
            "# Patchwatch\nserver = {url}/\ntoken_file = \"{token}\"\nsite = CESNET\ntags = prod, web\n"
        ),
    );
    let run = host.run(&["--config", &conf, "--hostname", "arch1", "--no-gzip"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = server.join().unwrap();
    assert!(!requests[0].headers.contains_key("content-encoding"));
    let report = native::parse(&requests[0].body).unwrap();
    assert_eq!(report.site.as_deref(), Some("CESNET"));
    assert_eq!(report.tags, ["prod", "web"]);

    // The command line wins; tags given there replace the file's.
    let run = host.run(&["--config", &conf, "--stdout", "--site", "X", "--tag", "t"]);
    let report = run.report();
    assert_eq!(
        (report.site.as_deref(), report.tags.as_slice()),
        (Some("X"), &["t".to_owned()][..])
    );

    // The default user configuration is read from $HOME.
    let host = Host::stub("pacman");
    let dir = Path::new(&host.env["HOME"]).join(".config/patchwatch");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("client.conf"), "site = from-home\n").unwrap();
    let report = host.run(&["--stdout", "--hostname", "h"]).report();
    assert_eq!(report.site.as_deref(), Some("from-home"));
}

#[test]
fn proxy_forwards_reports_as_they_are() {
    let apk = Host::stub("apk").run(&["--stdout", "--hostname", "offline1"]);
    let pacman = Host::stub("pacman").run(&["--stdout", "--hostname", "offline2"]);
    assert_eq!((apk.code, pacman.code), (0, 0));
    let input = format!("{}\n{}", apk.stdout, pacman.stdout);

    // The proxy host: no package database needed.
    let proxy = Host::real();
    let tmp = TempDir::new("proxy");
    let token = tmp.file("token", TOKEN);
    let (url, server) = serve(vec![(201, "{}"), (201, "{}")]);
    let run = proxy.run_with_stdin(
        &["--proxy", "--server", &url, "--token-file", &token],
        Some(input.as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = server.join().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].json(), apk.stdout.as_bytes());
    assert_eq!(requests[1].json(), pacman.stdout.as_bytes());

    // Nobody listening: a transport failure, exit 3, and a message.
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let run = proxy.run_with_stdin(
        &[
            "--proxy",
            "--server",
            &closed,
            "--token-file",
            &token,
            "--retries",
            "0",
        ],
        Some(apk.stdout.as_bytes()),
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
    assert!(run.stderr.contains(&closed), "{}", run.stderr);

    for (stdin, message) in [("", "no report on stdin"), ("hello\n", "not a JSON report")] {
        let run = proxy.run_with_stdin(
            &["--proxy", "--server", &closed, "--token-file", &token],
            Some(stdin.as_bytes()),
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
}

// ------------------------------------------------------------------ docs

/// The examples in docs/report-format.md parse, and the schema names every
/// member they and the client use.
#[test]
fn documented_examples_and_schema_agree_with_the_parser() {
    let doc = std::fs::read_to_string(root().join("docs/report-format.md")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap(),
    )
    .expect("the schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let check_members = |report: &serde_json::Value| {
        let top = schema["properties"].as_object().unwrap();
        for (key, value) in report.as_object().unwrap() {
            assert!(top.contains_key(key), "the schema lacks {key}");
            let def = match key.as_str() {
                "packages" => "package",
                "repositories" => "repository",
                "module_streams" => "module_stream",
                "apk_pins" => "apk_pin",
                "apt_preferences" => "apt_preferences",
                "os" | "kernel" | "reboot" | "client" => key,
                _ => continue,
            };
            let members = schema["$defs"][def]["properties"].as_object().unwrap();
            let items: Vec<&serde_json::Value> = match value {
                serde_json::Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                for k in item.as_object().unwrap().keys() {
                    assert!(members.contains_key(k), "the schema lacks {key}.{k}");
                }
            }
        }
    };

    let mut examples = 0;
    for block in doc.split("```json\n").skip(1) {
        let body = block.split("\n```").next().unwrap();
        if !body.contains("\"format_version\"") {
            continue;
        }
        native::parse(body.as_bytes())
            .unwrap_or_else(|e| panic!("documented example does not parse: {e}\n{body}"));
        check_members(&serde_json::from_str(body).unwrap());
        examples += 1;
    }
    assert_eq!(examples, 2);

    for manager in ["rpm", "apk", "pacman"] {
        let mut host = Host::stub(manager);
        host.set("PW_STUB_RPM_KERNELS", &fixture("rpm/kernels.txt"));
        let run = host.run(&["--stdout", "--hostname", "h", "--site", "s", "--tag", "t"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        check_members(&run.json());
    }
}

// ------------------------------------------------------------------ lint

#[test]
fn shellcheck_is_clean() {
    if !have("shellcheck") {
        common::tool_missing("shellcheck", "the client lint");
        return;
    }
    let stubs = root().join("client/tests/stubs");
    let mut files = vec![client()];
    for manager in std::fs::read_dir(&stubs).unwrap() {
        for stub in std::fs::read_dir(manager.unwrap().path()).unwrap() {
            files.push(stub.unwrap().path());
        }
    }
    let out = Command::new("shellcheck")
        .args(["-s", "sh"])
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn quiet_prints_nothing_on_success_and_help_names_the_ingest_token() {
    let host = Host::stub("apk");
    let tmp = TempDir::new("quiet");
    let token = tmp.file("token", TOKEN);
    let (url, server) = serve(vec![
        (
            200,
            r#"{"status":"stored","host_id":3,"new_host":false,"packages_changed":false}"#,
        ),
        (
            200,
            r#"{"status":"stored","host_id":3,"new_host":false,"packages_changed":false}"#,
        ),
    ]);
    let base = [
        "--server",
        &url,
        "--token-file",
        &token,
        "--retries",
        "0",
        "--hostname",
        "q.example.org",
    ];
    let loud = host.run(&base);
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    assert!(
        loud.stdout
            .trim_end()
            .ends_with("HTTP 200, stored, unchanged"),
        "{}",
        loud.stdout
    );
    let mut quiet_args = base.to_vec();
    quiet_args.push("--quiet");
    let quiet = host.run(&quiet_args);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stdout, "", "--quiet prints nothing on success");
    assert_eq!(quiet.stderr, "");
    assert_eq!(server.join().unwrap().len(), 2);

    let help = host.run(&["--help"]);
    assert!(help.stdout.contains("ingest token"), "{}", help.stdout);
    assert!(!help.stdout.contains("API token"), "{}", help.stdout);
}
