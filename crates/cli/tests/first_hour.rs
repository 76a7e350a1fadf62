//! What a new user meets in the first hour: where the database is, one
//! output style, confirmations, logs, `doctor`, and the rough edges found
//! trying the README on a fresh machine.

mod common;

use std::path::Path;

use common::Env;
use patchwatch_fleet::{Fleet, Image};
use patchwatch_store::{Database, SyncState};
use patchwatch_store_sqlite::SqliteStore;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn one_default_database_that_only_init_and_serve_create() {
    let env = Env::without_database();
    let expected = env.dir.path().join("data/patchwatch/patchwatch.sqlite");

    // A command never creates a database: it names the one it looked for.
    let out = env.bare_cmd(&["hosts", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&expected.display().to_string()), "{err}");
    assert!(err.contains("patchwatch init"), "{err}");
    assert!(!expected.exists(), "a read command created the database");

    let out = env.bare_cmd(&["init"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains(&format!(
            "Created the database sqlite:{}",
            expected.display()
        )),
        "{said}"
    );
    assert!(expected.exists());
    let again = env.bare_cmd(&["init"]).output().unwrap();
    assert!(stdout(&again).contains("exists; its schema is up to date"));

    // From any directory, the same fleet.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = env
        .bare_cmd(&["sites", "add", "S"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env
        .bare_cmd(&["sites", "list"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(stdout(&out).contains("S "), "{}", stdout(&out));
    assert!(!elsewhere.path().join("patchwatch.sqlite").exists());
}

#[test]
fn the_configuration_file_names_the_database() {
    let env = Env::without_database();
    let db = env.dir.path().join("from-config.sqlite");
    let config_dir = env.dir.path().join("config/patchwatch");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("patchwatch.toml"),
        format!("database = \"sqlite:{}\"\n", db.display()),
    )
    .unwrap();
    let out = env.bare_cmd(&["init"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains(&db.display().to_string()), "{said}");
    assert!(
        said.contains("patchwatch.toml"),
        "where it came from: {said}"
    );
    assert!(db.exists());
}

#[test]
fn empty_results_look_the_same_everywhere() {
    let env = Env::new();
    for (args, message) in [
        (vec!["hosts", "list"], "(no hosts match)"),
        (vec!["sites", "list"], "(no sites;"),
        (vec!["tokens", "list"], "(no tokens)"),
        (vec!["exceptions", "list"], "(no exceptions)"),
        (
            vec!["tags", "list", "--assignments"],
            "(no CVE is attached to a tag)",
        ),
        (vec!["feeds", "list"], "(no feeds;"),
    ] {
        let out = env.cmd(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}: no bare header");
        assert!(
            stderr(&out).starts_with(message),
            "{args:?}: {}",
            stderr(&out)
        );
        // CSV keeps its header, so a script always gets the columns.
        let mut csv = args.clone();
        csv.push("--csv");
        let out = env.cmd(&csv).output().unwrap();
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 1, "{csv:?}: {text}");
        assert_eq!(stderr(&out), "", "{csv:?}");
    }
}

fn fleet_with_history(env: &Env) {
    env.ok(&["sites", "add", "S"]);
    let fleet = Fleet::new(vec![Image::debian12().unwrap()], 5).with_drift(0);
    let mut a = fleet.report(1);
    a.hostname = "ui.farm.cz".into();
    let mut a2 = a.clone();
    let pkgs = a2.packages.as_mut().unwrap();
    pkgs.retain(|p| p.name != "adduser");
    let mut a3 = a2.clone();
    a3.kernel.release = "6.1.0-99-amd64-with-a-much-longer-name".into();
    env.ingest("S", vec![a, a2, a3]);
}

#[test]
fn csv_carries_rfc3339_times_and_history_lines_up() {
    let env = Env::new();
    fleet_with_history(&env);
    let csv = env.ok(&["hosts", "list", "--csv"]);
    let row = csv.lines().nth(1).unwrap();
    let rfc3339 = |s: &str| {
        s.len() == 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') && !s.contains("ago")
    };
    assert!(row.split(',').any(rfc3339), "no RFC 3339 time in {row}");
    assert!(!csv.contains(" ago"), "{csv}");

    let history = env.ok(&["hosts", "history", "ui.farm.cz"]);
    let lines: Vec<&str> = history
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(lines.len(), 3, "{history}");
    let column = |l: &str, what: &str| l.find(what).unwrap();
    for what in ["kernel ", "from "] {
        let first = column(lines[0], what);
        assert!(
            lines.iter().all(|l| column(l, what) == first),
            "{what:?} is not aligned:\n{history}"
        );
    }
    assert!(lines[2].ends_with("first report"), "{history}");
    assert!(lines[1].ends_with("1 removed"), "{history}");
    assert!(!history.contains("first report shown"));
}

#[test]
fn an_expiry_date_is_listed_as_that_day() {
    let env = Env::new();
    env.ok(&["sites", "add", "CESNET"]);
    env.ok(&[
        "exceptions",
        "add",
        "--cve",
        "CVE-2024-12797",
        "--package",
        "openssl-libs",
        "--version",
        "1:3.2.2-6.el9_5",
        "--site",
        "CESNET",
        "--reason",
        "FIPS build",
        "--expires",
        "2027-01-31",
    ]);
    let table = env.ok(&["exceptions", "list"]);
    assert!(table.contains("end of 2027-01-31"), "{table}");
    assert!(!table.contains("2027-02-01"), "{table}");
}

#[test]
fn feeds_are_named_after_the_whole_file_and_listed_narrowly() {
    let env = Env::new();
    let file = patchwatch_fleet::shared_data_dir()
        .join("debian/tracker-json/osv.dev_debian_security_tracker_mock.json");
    let out = env
        .cmd(&[
            "feeds",
            "import",
            "--kind",
            "debian-tracker",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let feeds = env.json(&["feeds", "list"]);
    assert_eq!(
        feeds[0]["name"], "osv.dev_debian_security_tracker_mock",
        "not cut at the first dot"
    );

    // A long URL and a long error: the table still fits a terminal, the
    // error on a line of its own, whole in JSON.
    env.ok(&[
        "feeds",
        "add",
        "almalinux-osv-with-a-long-name",
        "--kind",
        "osv",
        "--source",
        "https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip?some=very-long-query-string",
    ]);
    let error = format!(
        "downloading https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip: {}",
        "connection reset by peer; ".repeat(8)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = SqliteStore::open(&env.db).unwrap();
        let feed = db
            .feed("almalinux-osv-with-a-long-name")
            .await
            .unwrap()
            .unwrap();
        let state = SyncState {
            synced_at: Some(patchwatch_store::now_millis()),
            error: Some(error.clone()),
            ..SyncState::default()
        };
        db.record_sync(feed.id, &state).await.unwrap();
    });
    let table = env.ok(&["feeds", "list"]);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    assert!(table.contains("Last sync errors"), "{table}");
    assert!(
        table.lines().any(|l| l
            .trim_start()
            .starts_with("almalinux-osv-with-a-long-name: downloading")),
        "{table}"
    );
    let json = env.json(&["feeds", "list"]);
    let errors: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["sync"]["error"].as_str())
        .collect();
    assert_eq!(errors, [error.as_str()]);
    let csv = env.ok(&["feeds", "list", "--csv"]);
    assert!(
        csv.contains("connection reset by peer; connection reset"),
        "{csv}"
    );
}

#[test]
fn deleting_asks_or_needs_yes() {
    let env = Env::new();
    fleet_with_history(&env);
    // No terminal and no --yes: refused, nothing deleted.
    let err = env.fails(&["hosts", "delete", "ui.farm.cz"]);
    assert!(err.contains("--yes"), "{err}");
    let err = env.fails(&["prune", "--older-than-days", "0"]);
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(env.json(&["hosts", "list"])["total"], 1);
    assert_eq!(
        env.json(&["hosts", "history", "ui.farm.cz"])
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // On a terminal it asks; "n" keeps the host. `script` gives the
    // command a terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok()
    {
        let line = format!(
            "{} --database sqlite:{} hosts delete ui.farm.cz",
            env!("CARGO_BIN_EXE_patchwatch"),
            env.db.display()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(b"n\n")?;
                child.wait_with_output()
            })
            .unwrap();
        let said = stdout(&out);
        assert!(said.contains("Delete host ui.farm.cz"), "{said}");
        assert!(said.contains("[y/N]"), "{said}");
        assert_eq!(env.json(&["hosts", "list"])["total"], 1, "{said}");
    } else {
        eprintln!("notice: no `script` here; the terminal prompt is not tested");
    }

    env.ok(&["hosts", "delete", "ui.farm.cz", "--yes"]);
    assert_eq!(env.json(&["hosts", "list"])["total"], 0);
}

#[test]
fn commands_are_quiet_and_logs_plain_or_json() {
    let env = Env::new();
    let mut quiet = env.cmd(&["sites", "list"]);
    quiet.env_remove("PATCHWATCH_LOG");
    let out = quiet.output().unwrap();
    assert_eq!(
        stderr(&out),
        "(no sites; create one with `patchwatch sites add NAME`)\n"
    );

    let mut verbose = env.cmd(&["-v", "sites", "list"]);
    verbose.env_remove("PATCHWATCH_LOG");
    let err = stderr(&verbose.output().unwrap());
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes into a pipe: {err:?}");

    let mut json = env.cmd(&["-v", "--log-format", "json", "sites", "list"]);
    json.env_remove("PATCHWATCH_LOG");
    let err = stderr(&json.output().unwrap());
    let logs: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!logs.is_empty(), "{err}");
    assert!(logs.iter().all(|l| l["level"] == "INFO"), "{err}");
}

#[test]
fn postgres_notices_are_not_shown() {
    let url = std::env::var("PATCHWATCH_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let schema = format!("pw_cli_notice_{}", std::process::id());
    let admin = rt.block_on(async {
        match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .await
                    .unwrap();
                Some(client)
            }
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "PostgreSQL at {url} is unreachable ({e}); CI requires it"
                );
                eprintln!("notice: skipping: PostgreSQL at {url} is unreachable ({e})");
                None
            }
        }
    });
    let Some(admin) = admin else { return };
    let db = format!("{url}?options=-csearch_path%3D{schema}");
    let run = || {
        let mut c = assert_cmd::Command::cargo_bin("patchwatch").unwrap();
        c.env_remove("PATCHWATCH_LOG")
            .args(["-v", "--database", &db, "sites", "list"]);
        c.output().unwrap()
    };
    let first = run();
    // The second start finds the schema there: PostgreSQL answers the
    // `CREATE TABLE IF NOT EXISTS` with a NOTICE.
    let second = run();
    rt.block_on(async {
        let _ = admin
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    });
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(second.status.success(), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("INFO"), "-v logs at info: {err}");
    assert!(!err.contains("NOTICE"), "{err}");
    assert!(!err.contains("already exists"), "{err}");
}

#[test]
fn doctor_passes_on_a_fresh_install_and_names_what_fails() {
    let env = Env::without_database();
    let out = env.cmd(&["doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = stdout(&out);
    assert!(said.contains("FAIL  database"), "{said}");
    assert!(said.contains("patchwatch init"), "{said}");

    env.ok(&["init"]);
    let said = env.ok(&["doctor"]);
    for check in [
        "ok    database",
        "ok    migrations",
        "ok    tls",
        "ok    clock",
    ] {
        assert!(said.contains(check), "{check:?} in\n{said}");
    }
    assert!(said.contains("warn  feeds"), "no feeds yet: {said}");
    let json = env.json(&["doctor"]);
    assert_eq!(json["ok"], true);

    // A feed not updated for longer than allowed fails the check.
    let file = patchwatch_fleet::shared_data_dir()
        .join("debian/tracker-json/osv.dev_debian_security_tracker_mock.json");
    env.ok(&[
        "feeds",
        "import",
        "--kind",
        "debian-tracker",
        file.to_str().unwrap(),
    ]);
    assert!(env.ok(&["doctor"]).contains("ok    feeds"));
    let out = env
        .cmd(&["doctor", "--max-feed-age-hours", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("FAIL  feeds"), "{}", stdout(&out));

    // Unreadable TLS files are named.
    let config = env.dir.path().join("tls.toml");
    std::fs::write(
        &config,
        "[server.tls]\ncert = \"/nonexistent/cert.pem\"\nkey = \"/nonexistent/key.pem\"\n",
    )
    .unwrap();
    let out = env
        .cmd(&["--config", config.to_str().unwrap(), "doctor"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FAIL  tls"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("/nonexistent/cert.pem"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn readme_says_how_to_make_the_report_it_posts() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let post = readme
        .find("--data @report.json")
        .expect("the README posts report.json");
    let made = readme
        .find("--stdout > report.json")
        .expect("the README makes report.json");
    assert!(made < post, "report.json is made before it is posted");
}

#[test]
fn the_sample_configuration_and_systemd_unit_fit_the_binary() {
    let env = Env::without_database();
    let sample = repo_root().join("packaging/server/patchwatch.toml");
    // Every key of the sample is one the server knows.
    let said = env.ok(&["--config", sample.to_str().unwrap(), "init"]);
    assert!(said.contains("Created the database"), "{said}");
    let text = std::fs::read_to_string(&sample).unwrap();
    assert!(
        text.contains("database = \"sqlite:/var/lib/patchwatch/patchwatch.sqlite\""),
        "the sample keeps the service's data where its unit allows writing"
    );

    let unit =
        std::fs::read_to_string(repo_root().join("packaging/server/patchwatch.service")).unwrap();
    for line in [
        "ExecStart=/usr/local/bin/patchwatch serve",
        "ExecStartPre=/usr/local/bin/patchwatch init",
        "Environment=PATCHWATCH_CONFIG=/etc/patchwatch/patchwatch.toml",
        "StateDirectory=patchwatch",
        "User=patchwatch",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line:?} in the unit");
    }
    if let Ok(out) = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(repo_root().join("packaging/server/patchwatch.service"))
        .output()
    {
        let err = String::from_utf8_lossy(&out.stderr);
        // The binary is not installed here: only that complaint is expected.
        let other: Vec<&str> = err
            .lines()
            .filter(|l| !l.contains("/usr/local/bin/patchwatch") && !l.trim().is_empty())
            .collect();
        assert!(other.is_empty(), "systemd-analyze verify: {err}");
    }
}

#[test]
fn generations_are_numbered_per_feed() {
    let env = Env::new();
    let dir = patchwatch_fleet::shared_data_dir().join("debian/tracker-json");
    let first = dir.join("osv.dev_debian_security_tracker_mock.json");
    let second = dir.join("vunnel_tracker_debian.json");
    let import = |name: &str, file: &Path| {
        env.ok(&[
            "feeds",
            "import",
            "--kind",
            "debian-tracker",
            name,
            file.to_str().unwrap(),
        ])
    };
    assert!(import("a", &first).contains("imported generation 1 "));
    let said = import("a", &second);
    assert!(said.contains("imported generation 2 "), "{said}");
    assert!(said.contains("replacing generation 1."), "{said}");
    // Another feed starts at 1, whatever the other has done.
    assert!(import("b", &first).contains("imported generation 1 "));
    let feeds = env.json(&["feeds", "list"]);
    let number = |name: &str| {
        feeds
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["current"]["number"]
            .clone()
    };
    assert_eq!(number("a"), 2);
    assert_eq!(number("b"), 1);
}

#[test]
fn one_finding_is_one_finding() {
    let env = Env::new();
    fleet_with_history(&env);
    // One advisory for bash, fixed in a version no host has.
    let osv = env.dir.path().join("one.json");
    std::fs::write(
        &osv,
        serde_json::to_vec(&serde_json::json!({
            "id": "DSA-9999-1",
            "aliases": ["CVE-2099-0002"],
            "affected": [{
                "package": {"ecosystem": "Debian:12", "name": "bash"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0-1"}]}],
            }],
        }))
        .unwrap(),
    )
    .unwrap();
    env.ok(&["feeds", "import", "--kind", "osv", osv.to_str().unwrap()]);
    let out = env.cmd(&["hosts", "vulns", "ui.farm.cz"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("1 finding for ui.farm.cz"), "{err}");
    assert!(stdout(&out).contains("CVE-2099-0002"), "{}", stdout(&out));
}
