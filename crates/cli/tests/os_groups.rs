//! Admin-defined OS groups from the configuration file: a Rocky Linux host
//! reads the AlmaLinux data only when a group says so, and a malformed
//! group is refused with its name.

use patchwatch_fleet::{Fleet, Image, shared_data_dir};

mod common;

use common::Env;

#[test]
fn configured_groups_choose_the_data() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    let mut rocky = Image::rhel9().unwrap();
    rocky.os.id = "rocky".into();
    rocky.os.version_id = "9.5".into();
    rocky.os.pretty_name = "Rocky Linux 9.5 (Blue Onyx)".into();
    let mut fleet = Fleet::new(vec![rocky], 1).with_drift(0);
    fleet.site = "S".into();
    env.ingest("S", vec![fleet.report(0)]);
    let alma = shared_data_dir()
        .join("osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz")
        .display()
        .to_string();
    env.ok(&["feeds", "import", "--kind", "osv", &alma]);
    let host = fleet.hostname(0);

    // Without a group, no feed covers Rocky: no findings, and a note says
    // why.
    let out = env
        .cmd(&["hosts", "vulns", &host, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.as_array().map(Vec::len), Some(0), "{findings}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no imported feed covers rocky 9.5"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let config = env.dir.path().join("patchwatch.toml");
    std::fs::write(
        &config,
        "[[server.os_group]]\nname = \"el9\"\nmembers = [\"rocky 9\", \"centos-stream 9\"]\n\
         data = [\"almalinux 9\"]\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let findings = env.json(&["--config", &config, "hosts", "vulns", &host]);
    let f = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cve"] == "CVE-2024-12797" && f["package"] == "openssl-libs")
        .expect("the AlmaLinux 9 data applies through the group");
    assert_eq!(f["fixed"], "1:3.2.2-6.el9_5.1");
    // The group's name serves as an exception scope too.
    env.ok(&[
        "--config",
        &config,
        "exceptions",
        "add",
        "--cve",
        "CVE-2024-12797",
        "--package",
        "openssl-libs",
        "--version",
        "1:3.2.2-6.el9_5",
        "--os-group",
        "el9",
        "--reason",
        "rebuilt without the affected code",
    ]);
    let findings = env.json(&["--config", &config, "hosts", "vulns", &host]);
    let f = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["cve"] == "CVE-2024-12797" && f["package"] == "openssl-libs")
        .unwrap();
    assert_eq!(f["excepted"]["os_group"], "el9", "{f}");

    let bad = env.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[server.os_group]]\nname = \"broken\"\nmembers = [\"rocky 9\"]\ndata = [\"almalinux\"]\n",
    )
    .unwrap();
    let out = env
        .cmd(&[
            "--config",
            &bad.display().to_string(),
            "hosts",
            "vulns",
            &host,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("os_group") && err.contains("almalinux"),
        "{err}"
    );
}
