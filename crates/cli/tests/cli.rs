//! The `patchwatch` binary against a real SQLite file.

mod common;

use assert_cmd::Command;
use common::Env;
use patchwatch_fleet::{Fleet, Image};

#[test]
fn sites_and_tokens() {
    let env = Env::new();
    let out = env.ok(&["sites", "add", "CESNET"]);
    let token = out.lines().last().unwrap();
    assert!(token.starts_with("pwi_") && token.len() == 52, "{out}");
    assert!(
        env.fails(&["sites", "add", "CESNET"])
            .contains("site \"CESNET\" already exists")
    );
    assert!(
        env.fails(&["sites", "add", "bad name"])
            .contains("site name \"bad name\" is not valid: use 1-64 letters")
    );
    // The server takes reports for no longer name: neither does the CLI.
    assert!(
        env.fails(&["sites", "add", &"S".repeat(65)])
            .contains("is not valid")
    );
    let sites = env.json(&["sites", "list"]);
    assert_eq!(sites[0]["name"], "CESNET");
    assert_eq!(sites[0]["hosts"], 0);

    let api = env.ok(&["tokens", "add", "reader"]);
    assert!(api.lines().last().unwrap().starts_with("pwa_"));
    let extra = env.ok(&["tokens", "add", "second", "--site", "CESNET"]);
    assert!(extra.lines().last().unwrap().starts_with("pwi_"));
    assert!(
        env.fails(&["tokens", "add", "x", "--site", "NOPE"])
            .contains("no site named \"NOPE\"")
    );
    let csv = env.ok(&["tokens", "list", "--csv"]);
    assert_eq!(
        csv.lines().next(),
        Some("NAME,KIND,ACCESS,SCOPE,CREATED,LAST USED,STATE")
    );
    let reader_line = |csv: &str| {
        csv.lines()
            .find(|l| l.starts_with("reader,"))
            .unwrap_or_else(|| panic!("reader in {csv}"))
            .to_owned()
    };
    let line = reader_line(&csv);
    assert!(line.starts_with("reader,api,read,every site,"), "{line}");
    assert!(line.ends_with(",never,active"), "{line}");
    assert_eq!(csv.lines().count(), 4);
    assert!(
        !csv.contains("pwi_") && !csv.contains("pwa_"),
        "secrets never listed"
    );
    assert!(
        env.fails(&["tokens", "delete", "reader"])
            .contains("token \"reader\" is active: revoke it first")
    );
    assert!(
        env.ok(&["tokens", "revoke", "reader"])
            .contains("Revoked token \"reader\".")
    );
    // Revoked, not deleted: still listed, with when (the CLI is nobody).
    let csv = env.ok(&["tokens", "list", "--csv"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let line = reader_line(&csv);
    let state = line.rsplit(',').next().unwrap();
    assert!(
        state.starts_with("revoked 20") && state.ends_with('Z'),
        "{line}"
    );
    let json = env.json(&["tokens", "list"]);
    let reader = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "reader")
        .unwrap();
    assert_eq!(reader["last_used_at"], serde_json::Value::Null);
    assert!(reader["revoked_at"].is_string(), "{reader}");
    assert_eq!(reader["revoked_by"], serde_json::Value::Null);
    assert!(
        env.ok(&["tokens", "revoke", "reader"])
            .contains("Token \"reader\" was already revoked.")
    );
    assert_eq!(reader_line(&env.ok(&["tokens", "list", "--csv"])), line);
    assert!(
        env.fails(&["tokens", "add", "reader"])
            .contains("a token named \"reader\" already exists")
    );
    env.ok(&["tokens", "delete", "reader"]);
    assert!(!env.ok(&["tokens", "list"]).contains("reader"));
    assert!(
        env.fails(&["tokens", "revoke", "reader"])
            .contains("no token named \"reader\"")
    );
    assert!(
        env.fails(&["tokens", "delete", "reader"])
            .contains("no token named \"reader\"")
    );
    env.ok(&["tokens", "add", "reader"]);
}

#[test]
fn hosts_list_show_history_diff_delete() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    let fleet = Fleet::new(
        vec![Image::debian12().unwrap(), Image::rhel9().unwrap()],
        11,
    )
    .with_drift(0);
    let mut a = fleet.report(1);
    a.hostname = "ui.farm.cz".into();
    let mut b = fleet.report(2);
    b.hostname = "wn1.desy.de".into();
    let mut a2 = a.clone();
    let pkgs = a2.packages.as_mut().unwrap();
    pkgs.iter_mut().find(|p| p.name == "bash").unwrap().release = "2+deb12u9".into();
    pkgs.retain(|p| p.name != "adduser");
    let a_count = a.packages.as_ref().unwrap().len();
    env.ingest("S", vec![a, b, a2]);

    let list = env.json(&["hosts", "list"]);
    assert_eq!(list["total"], 2);
    let table = env.ok(&["hosts", "list", "--domain", ".cz"]);
    assert!(table.starts_with("HOST"), "{table}");
    assert!(
        table.contains("ui.farm.cz") && !table.contains("desy"),
        "{table}"
    );
    assert_eq!(
        env.json(&["hosts", "list", "--os", "debian 12"])["total"],
        2
    );
    assert_eq!(
        env.json(&["hosts", "list", "--not-seen-days", "1"])["total"],
        0
    );

    let show = env.json(&["hosts", "show", "UI.farm.cz"]);
    let packages = show["packages"].as_array().unwrap();
    assert_eq!(packages.len(), a_count - 1);
    let bash = packages.iter().find(|p| p["name"] == "bash").unwrap();
    assert!(
        bash["version"].as_str().unwrap().ends_with("-2+deb12u9"),
        "{bash}"
    );
    assert_eq!(show["os"], "debian 12");
    let text = env.ok(&["hosts", "show", "ui.farm.cz"]);
    assert!(
        text.contains("Site:      S") && text.contains("PACKAGE"),
        "{text}"
    );

    let history = env.ok(&["hosts", "history", "ui.farm.cz"]);
    assert!(history.contains("1 changed, 1 removed"), "{history}");
    assert!(history.contains("- adduser"), "{history}");
    assert!(history.contains("~ bash"), "{history}");
    let hj = env.json(&["hosts", "history", "ui.farm.cz"]);
    assert_eq!(hj.as_array().unwrap().len(), 2);

    let diff = env.json(&["hosts", "diff", "ui.farm.cz", "wn1.desy.de"]);
    let diffs = diff["differences"].as_array().unwrap();
    assert!(
        diffs
            .iter()
            .any(|d| d["name"] == "adduser" && d["change"] == "added")
    );
    assert!(
        diffs
            .iter()
            .any(|d| d["name"] == "bash" && d["change"] == "changed")
    );

    assert!(
        env.fails(&["hosts", "show", "nope.example"])
            .contains("no host \"nope.example\"")
    );
    let pruned = env.json(&["prune", "--older-than-days", "0", "--yes"]);
    assert_eq!(pruned["reports"], 1, "the older report of ui.farm.cz goes");
    assert_eq!(
        env.json(&["hosts", "history", "ui.farm.cz"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.ok(&["hosts", "delete", "wn1.desy.de", "--yes"]);
    assert_eq!(env.json(&["hosts", "list"])["total"], 1);
}

#[test]
fn vercmp_single_and_batch() {
    let env = Env::new();
    assert_eq!(
        env.ok(&["vercmp", "--type", "deb", "1.0~rc1", "1.0"]),
        "<\n"
    );
    assert_eq!(
        env.ok(&["vercmp", "--type", "rpm", "1.0^git1", "1.0"]),
        ">\n"
    );
    assert_eq!(
        env.ok(&["vercmp", "--type", "apk", "1.0_rc1", "1.0"]),
        "<\n"
    );
    assert_eq!(
        env.ok(&["vercmp", "--type", "pacman", "1:1.0-1", "2.0-1"]),
        ">\n"
    );
    let out = env
        .cmd(&["vercmp", "--type", "deb"])
        .write_stdin("1.0 1.0\n2:1 1:9\n1.0-1 1.0-2\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "=\n>\n<\n");
    let err = env.fails(&["vercmp", "--type", "deb", "1.0"]);
    assert!(err.contains("give two versions"), "{err}");
}

#[test]
fn bad_database_urls_and_config_are_explained() {
    let env = Env::new();
    let out = Command::cargo_bin("patchwatch")
        .unwrap()
        .args(["--database", "mysql://x", "sites", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsupported database URL \"mysql://x\"")
    );
    let cfg = env.db.with_extension("toml");
    std::fs::write(&cfg, "[server]\nretention = 3\n").unwrap();
    let err = env.fails(&["--config", cfg.to_str().unwrap(), "sites", "list"]);
    assert!(err.contains("unknown field `retention`"), "{err}");
}

/// Issue 10: `hosts delete 1` deleted the host with id 1 although a host
/// is named `1`. A bare number is a hostname; `id:N` is an id.
#[test]
fn a_numeric_hostname_is_never_taken_for_an_id() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    let fleet = Fleet::new(vec![Image::debian12().unwrap()], 2).with_drift(0);
    let mut first = fleet.report(1);
    first.hostname = "web.example.org".into();
    let mut numeric = fleet.report(2);
    numeric.hostname = "1".into();
    env.ingest("S", vec![first, numeric]);
    let show = env.json(&["hosts", "show", "id:1"]);
    assert_eq!(show["hostname"], "web.example.org", "{show}");
    assert_eq!(env.json(&["hosts", "show", "1"])["hostname"], "1");

    let out = env.ok(&["hosts", "delete", "1", "--yes"]);
    assert!(out.starts_with("Deleted host 1 (id:2, site S)"), "{out}");
    let list = env.json(&["hosts", "list"]);
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["hostname"], "web.example.org");
    assert!(
        env.fails(&["hosts", "show", "id:2"])
            .contains("no host with id 2")
    );
    assert!(env.fails(&["hosts", "show", "id:x"]).contains("write id:N"));
    // The stored form is found from any spelling of the name.
    assert_eq!(
        env.json(&["hosts", "show", "WEB.example.org."])["hostname"],
        "web.example.org"
    );
}

/// Issue 10: rows stored before ingest refused control characters reach
/// the terminal escaped, never raw.
#[test]
fn terminal_escapes_in_stored_rows_are_printed_escaped() {
    let env = Env::new();
    env.ok(&["sites", "add", "S"]);
    let mut report = Fleet::new(vec![Image::debian12().unwrap()], 1).report(1);
    report.hostname = "web.example.org".into();
    report.os.pretty_name = "Debian\u{1b}]0;owned\u{7}\u{1b}[2J".into();
    report.kernel.version = "#1 SMP\u{9b}31m".into();
    report.client.name = "evil\u{202e}gro".into();
    report.reboot.required = Some(true);
    report.reboot.reasons = vec!["\u{1b}[31mred".into()];
    // Straight into the database, as an older server stored it.
    env.ingest("S", vec![report]);
    let text = env.ok(&["hosts", "show", "web.example.org"]);
    for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(raw), "{raw:?} printed raw:\n{text}");
    }
    assert!(
        text.contains("Debian\\u{1b}]0;owned\\u{7}\\u{1b}[2J"),
        "{text}"
    );
    assert!(text.contains("#1 SMP\\u{9b}31m"), "{text}");
    assert!(text.contains("evil\\u{202e}gro"), "{text}");
    assert!(text.contains("required (\\u{1b}[31mred)"), "{text}");
}
