//! `tags`, `exceptions`, and their effect on `hosts vulns` and `cves`, on
//! the real el9 image relabelled AlmaLinux 9.5 and the real AlmaLinux OSV
//! database.

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use serde_json::Value;

mod common;

use common::Env;

const ALMA: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";
const HOST: &str = "node000000.alma.example";

fn setup() -> Env {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    let mut alma = Image::rhel9().unwrap();
    alma.os.id = "almalinux".into();
    alma.os.version_id = "9.5".into();
    alma.os.pretty_name = "AlmaLinux 9.5 (Teal Serval)".into();
    let mut fleet = Fleet::new(vec![alma], 2).with_drift(0);
    fleet.domain = "alma.example".into();
    env.ingest("S", vec![fleet.report(0)]);
    let feed = shared_data_dir().join(ALMA).display().to_string();
    env.ok(&["feeds", "import", "--kind", "osv", &feed]);
    env
}

/// Exit status 1 (our errors) or 2 (clap's usage errors), with stderr.
fn refused(env: &Env, args: &[&str]) -> String {
    let out = env.cmd(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn tags_and_exceptions_shape_the_findings() {
    let env = setup();
    let tags = env.json(&["tags", "list"]);
    let names: Vec<&str> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Critical", "High"]);

    let all = env.json(&["hosts", "vulns", HOST]);
    let all = all.as_array().unwrap();
    assert!(!all.is_empty());
    // The existing fields are all still there, plus tags and excepted.
    for key in [
        "cve",
        "package",
        "installed",
        "fixed",
        "state",
        "severity",
        "advisory",
        "feed",
        "explanation",
        "tags",
        "excepted",
    ] {
        assert!(all[0].get(key).is_some(), "{key} missing: {}", all[0]);
    }
    for f in all {
        let auto = match f["severity"].as_str().unwrap() {
            "critical" => vec!["Critical"],
            "high" => vec!["High"],
            _ => vec![],
        };
        assert_eq!(f["tags"], serde_json::json!(auto), "{f}");
    }

    env.ok(&["tags", "add", "EGI", "--reason", "EGI SVG list"]);
    assert!(refused(&env, &["tags", "add", "EGI"]).contains("tag \"EGI\" already exists"));
    let target = &all[0];
    let cve = target["cve"].as_str().unwrap();
    let out = env.ok(&["tags", "assign", &cve.to_lowercase(), "EGI"]);
    assert!(out.contains(&format!("Tagged {cve} EGI")), "{out}");
    assert!(refused(&env, &["tags", "assign", "CVE-2024-1", "EGI"]).contains("malformed CVE id"));
    assert!(refused(&env, &["tags", "assign", cve, "Nope"]).contains("tag \"Nope\" not found"));
    let assignments = env.json(&["tags", "list", "--assignments"]);
    assert_eq!(assignments[0]["cve"], cve);
    assert_eq!(assignments[0]["tag"], "EGI");

    let egi = env.json(&["hosts", "vulns", HOST, "--tag", "EGI"]);
    let egi = egi.as_array().unwrap();
    assert!(!egi.is_empty() && egi.iter().all(|f| f["cve"] == cve));
    let list = env.json(&["cves", "list", "--tag", "EGI"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["cve"], cve);
    assert_eq!(list[0]["hosts"], 1);
    assert!(refused(&env, &["cves", "list", "--tag", "Nope"]).contains("tag \"Nope\""));

    // Exceptions: bad input first.
    let base = [
        "exceptions",
        "add",
        "--cve",
        cve,
        "--package",
        target["package"].as_str().unwrap(),
        "--version",
        target["installed"].as_str().unwrap(),
        "--reason",
        "mitigated",
    ];
    let with =
        |extra: &[&'static str]| -> Vec<&str> { base.iter().chain(extra).copied().collect() };
    assert!(refused(&env, &with(&[])).contains("--os-group"));
    assert!(refused(&env, &with(&["--os-group", "almalinux 9", "--site", "S"])).contains("--site"));
    assert!(
        refused(&env, &with(&["--site", "S", "--expires", "2001-01-01"])).contains("in the past")
    );
    assert!(refused(&env, &with(&["--site", "NOPE"])).contains("site \"NOPE\" not found"));

    let e: Value = serde_json::from_str(&env.ok(&with(&[
        "--os-group",
        "AlmaLinux 9",
        "--author",
        "alice",
        "--json",
    ])))
    .unwrap();
    let id = e["id"].as_i64().unwrap();
    assert_eq!(e["author"], "alice");
    assert!(refused(&env, &with(&["--os-group", "AlmaLinux 9"])).contains("already exists"));

    let after = env.json(&["hosts", "vulns", HOST]);
    let after = after.as_array().unwrap();
    assert_eq!(after.len(), all.len(), "excepted findings are kept");
    let last = after.last().unwrap();
    assert_eq!(last["cve"], cve);
    assert_eq!(last["package"], target["package"]);
    assert_eq!(last["excepted"]["id"], id);
    assert!(
        after[..after.len() - 1]
            .iter()
            .all(|f| f["excepted"].is_null())
    );
    let table = env.ok(&["hosts", "vulns", HOST]);
    assert!(table.contains("Excepted (1):"), "{table}");
    let csv = env.ok(&["hosts", "vulns", HOST, "--csv"]);
    assert_eq!(
        csv.lines().next(),
        Some("CVE,PACKAGE,INSTALLED,FIXED,STATE,SEVERITY,ADVISORY,FEED,TAGS,EXCEPTION")
    );
    // The host no longer counts for the CVE if that was its only finding.
    let egi_hosts = egi.len();
    let list = env.json(&["cves", "list", "--tag", "EGI"]);
    if egi_hosts == 1 {
        assert!(list.as_array().unwrap().is_empty(), "{list}");
    }

    let listed = env.json(&["exceptions", "list"]);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["os_group"], "AlmaLinux 9");
    env.ok(&["exceptions", "remove", &id.to_string()]);
    assert!(
        refused(&env, &["exceptions", "remove", &id.to_string()])
            .contains(&format!("exception {id} not found"))
    );

    env.ok(&["tags", "disable", "EGI"]);
    assert!(refused(&env, &["hosts", "vulns", HOST, "--tag", "EGI"]).contains("disabled"));
    env.ok(&["tags", "unassign", cve, "EGI"]);
    env.ok(&["tags", "remove", "EGI"]);
    assert!(refused(&env, &["tags", "remove", "EGI"]).contains("not found"));
}
