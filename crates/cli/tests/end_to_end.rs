//! The whole path on this machine: `patchwatch serve`, the shell client
//! reporting this host, `hosts show --json` listing exactly what
//! dpkg-query says is installed, and the server assessing the new host in
//! the background.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn patchwatch(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_patchwatch"));
    c.env("PATCHWATCH_LOG", "warn").args(["--database", db]);
    c
}

fn dpkg_installed() -> Option<BTreeSet<(String, String, String)>> {
    let out = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n",
        ])
        .output()
        .ok()?;
    Some(
        String::from_utf8(out.stdout)
            .ok()?
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let installed = f[0].starts_with("ii") || f[0].starts_with("hi");
                installed.then(|| (f[1].to_owned(), f[2].to_owned(), f[3].to_owned()))
            })
            .collect(),
    )
}

#[test]
fn client_report_matches_dpkg_query() {
    let Some(expected) = dpkg_installed() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "dpkg-query is missing in CI"
        );
        eprintln!("notice: no dpkg-query on this machine; skipping the end-to-end test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("e2e.sqlite").display());
    assert!(patchwatch(&db).arg("init").status().unwrap().success());
    let out = patchwatch(&db)
        .args(["sites", "add", "E2E"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let run = |args: &[&str]| {
        let out = patchwatch(&db).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let dsa = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/debian/security-tracker-2023-04/DSA_list"
    );
    run(&["feeds", "import", "--kind", "debian-dsa", dsa]);
    let api = run(&["tokens", "add", "e2e-reader"])
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        patchwatch(&db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../client/patchwatch-client"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let out = Command::new(client)
            .args([
                "--server",
                &format!("http://127.0.0.1:{port}"),
                "--token",
                &token,
            ])
            .args(["--hostname", "e2e.example.org", "--retries", "0"])
            .output()
            .unwrap();
        // Exit 3: the server isn't listening yet.
        if out.status.code() != Some(3) || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        report.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&report.stderr)
    );

    let out = patchwatch(&db)
        .args(["hosts", "show", "e2e.example.org", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let host: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<(String, String, String)> = host["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["arch"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        got, expected,
        "stored packages equal dpkg-query's, versions included"
    );
    assert_eq!(host["site"], "E2E");
    assert_eq!(host["protocol"], "native");

    // Assessed on arrival: the kept assessment has the host's set without
    // anyone asking for findings.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let out = Command::new("curl")
            .args(["-fsS", "-H", &format!("Authorization: Bearer {api}")])
            .arg(format!("http://127.0.0.1:{port}/api/v1/assessment"))
            .output()
            .expect("curl");
        let status: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        if status["assessments"] == 1 || Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["assessments"], 1, "{status}");
    assert_eq!(status["feeds"], 1, "{status}");
    assert!(status["advisories"].as_u64().unwrap() > 1000, "{status}");
    assert_eq!(status["last_update"]["assessed"], 1, "{status}");
    assert_eq!(
        status["packages"].as_u64().unwrap() as usize,
        expected.len(),
        "{status}"
    );
}
