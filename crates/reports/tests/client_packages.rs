//! The client's .deb and .rpm, built from this repository by
//! `packaging/build-client-packages.sh` (dpkg-deb, rpmbuild), inspected with
//! dpkg-deb and rpm, and linted with lintian and rpmlint where installed.
//! Under CI=true a missing dpkg-deb, rpmbuild, lintian or rpmlint fails
//! (`.ci/deps/ops.sh` installs them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `tool` runs; a missing tool fails under CI and is skipped with
/// a notice otherwise.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(!in_ci(), "{tool} is missing; .ci/deps/ops.sh installs it");
        eprintln!("notice: no {tool} here; that part of the packaging test is skipped");
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn client_version() -> String {
    let script = std::fs::read_to_string(root().join("client/patchwatch-client")).unwrap();
    script
        .lines()
        .find_map(|l| l.strip_prefix("PW_VERSION="))
        .unwrap()
        .to_owned()
}

fn build(format: &str, out: &Path) -> PathBuf {
    let built = run(Command::new("sh")
        .arg(root().join("packaging/build-client-packages.sh"))
        .arg(out)
        .arg(format));
    PathBuf::from(text(&built).trim())
}

#[test]
fn deb_package_has_the_client_its_cron_file_and_configuration() {
    if !have("dpkg-deb") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let deb = build("deb", out.path());
    let version = client_version();
    assert_eq!(
        deb.file_name().unwrap().to_str().unwrap(),
        format!("patchwatch-client_{version}_all.deb")
    );
    let field = |name: &str| {
        text(&run(Command::new("dpkg-deb")
            .args(["-f"])
            .arg(&deb)
            .arg(name)))
        .trim()
        .to_owned()
    };
    assert_eq!(field("Package"), "patchwatch-client");
    assert_eq!(field("Version"), version);
    assert_eq!(field("Architecture"), "all");
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    for (mode, path) in [
        ("-rwxr-xr-x root/root", "./usr/bin/patchwatch-client"),
        ("-rw-r--r-- root/root", "./etc/cron.d/patchwatch-client"),
        ("-rw-r--r-- root/root", "./etc/patchwatch/client.conf"),
        (
            "-rw-r--r-- root/root",
            "./usr/share/doc/patchwatch-client/copyright",
        ),
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(path)),
            "{mode} {path} in\n{listing}"
        );
    }
    let conffiles = text(&run(Command::new("sh").arg("-c").arg(format!(
        "dpkg-deb --ctrl-tarfile '{}' | tar -xOf - ./conffiles",
        deb.display()
    ))));
    assert_eq!(
        conffiles,
        "/etc/cron.d/patchwatch-client\n/etc/patchwatch/client.conf\n"
    );

    // The packaged script is the repository's, byte for byte.
    let unpacked = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(unpacked.path()));
    assert_eq!(
        std::fs::read(unpacked.path().join("usr/bin/patchwatch-client")).unwrap(),
        std::fs::read(root().join("client/patchwatch-client")).unwrap()
    );
    // The cron job stays inert until a server is configured, and is quiet.
    let cron =
        std::fs::read_to_string(unpacked.path().join("etc/cron.d/patchwatch-client")).unwrap();
    let job = cron
        .lines()
        .find(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap();
    assert!(job.contains(" root "), "{job}");
    assert!(
        job.contains("server[[:space:]]*=") && job.contains("--quiet"),
        "{job}"
    );
    let conf = std::fs::read_to_string(unpacked.path().join("etc/patchwatch/client.conf")).unwrap();
    assert!(!conf.lines().any(|l| l.starts_with("server")), "{conf}");

    if have("lintian") {
        let out = Command::new("lintian")
            .args(["--fail-on", "error", "--no-tag-display-limit"])
            .arg(&deb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lintian: {}{}",
            text(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn rpm_package_has_the_client_its_cron_file_and_configuration() {
    if !have("rpmbuild") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let rpm = build("rpm", out.path());
    let version = client_version();
    assert_eq!(
        rpm.file_name().unwrap().to_str().unwrap(),
        format!("patchwatch-client-{version}-1.noarch.rpm")
    );
    let query = |format: &str| {
        text(&run(Command::new("rpm")
            .args(["-qp", "--queryformat", format])
            .arg(&rpm)))
    };
    assert_eq!(
        query("%{NAME} %{VERSION} %{ARCH} %{LICENSE}"),
        format!("patchwatch-client {version} noarch Apache-2.0")
    );
    let files = text(&run(Command::new("rpm")
        .args([
            "-qp",
            "--queryformat",
            "[%{FILEMODES:perms} %{FILEFLAGS:fflags} %{FILENAMES}\n]",
        ])
        .arg(&rpm)));
    for (mode, flags, path) in [
        ("-rwxr-xr-x", "", "/usr/bin/patchwatch-client"),
        ("-rw-r--r--", "cn", "/etc/cron.d/patchwatch-client"),
        ("-rw-r--r--", "cn", "/etc/patchwatch/client.conf"),
    ] {
        let want = format!("{mode} {flags} {path}");
        assert!(files.lines().any(|l| l == want), "{want:?} in\n{files}");
    }
    let requires = text(&run(Command::new("rpm").args(["-qpR"]).arg(&rpm)));
    assert!(requires.contains("(curl or wget)"), "{requires}");

    if have("rpmlint") {
        let out = Command::new("rpmlint").arg(&rpm).output().unwrap();
        let said = format!("{}{}", text(&out), String::from_utf8_lossy(&out.stderr));
        // rpmlint exits non-zero on warnings too: errors are what fail.
        // Packages built in CI are not signed; signing is a release step.
        let errors: Vec<&str> = said
            .lines()
            .filter(|l| l.contains(": E: ") && !l.ends_with(": E: no-signature"))
            .collect();
        assert!(errors.is_empty(), "rpmlint errors:\n{said}");
    }
}
