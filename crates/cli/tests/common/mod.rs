//! A `patchwatch` command line on a fresh SQLite file, for the CLI tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use assert_cmd::Command;
use patchwatch_reports::{Report, os};
use patchwatch_store::{Database, IngestRequest};
use patchwatch_store_sqlite::SqliteStore;
use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Env {
    /// A new, empty database (commands other than `init` and `serve`
    /// refuse to create one).
    pub fn new() -> Env {
        let env = Env::without_database();
        drop(SqliteStore::open(&env.db).unwrap());
        env
    }

    /// A directory with no database in it yet.
    pub fn without_database() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("pw.sqlite");
        Env { dir, db }
    }

    /// `patchwatch` with no database named: it finds its configuration
    /// and data under this directory (XDG), as a user's would.
    pub fn bare_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("patchwatch").unwrap();
        c.env_remove("PATCHWATCH_DATABASE")
            .env_remove("PATCHWATCH_CONFIG")
            .env("PATCHWATCH_LOG", "warn")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .args(args);
        c
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("patchwatch").unwrap();
        c.env_remove("PATCHWATCH_DATABASE")
            .env_remove("PATCHWATCH_CONFIG")
            .env("PATCHWATCH_LOG", "warn")
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .arg("--database")
            .arg(format!("sqlite:{}", self.db.display()))
            .args(args);
        c
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Reports straight into the database, as the server would.
    pub fn ingest(&self, site: &str, reports: Vec<Report>) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db: Arc<dyn Database> = Arc::new(SqliteStore::open(&self.db).unwrap());
            let site = db.site(site).await.unwrap().unwrap();
            for (i, r) in reports.into_iter().enumerate() {
                let normalised = os::normalise(&r.os, &r.os_string);
                let req = IngestRequest::new(
                    site.id,
                    r,
                    normalised,
                    patchwatch_store::now_millis() + i as i64,
                    "192.0.2.1".into(),
                    "test".into(),
                );
                db.ingest(req).await.unwrap();
            }
        });
    }
}
