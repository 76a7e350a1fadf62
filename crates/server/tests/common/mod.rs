//! A server on a fresh SQLite database, driven in-process.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use patchwatch_auth::{TokenAccess, TokenScope};
use patchwatch_server::{AppState, ServerConfig, router};
use patchwatch_store::{Database, HostFilter, NewToken, TokenKind};
use patchwatch_store_sqlite::SqliteStore;
use tower::ServiceExt;

pub struct TestServer {
    pub app: Router,
    pub db: Arc<dyn Database>,
    pub ingest: String,
    /// Reads every site (what API tokens made before scopes became).
    pub api: String,
    pub other_ingest: String,
    /// Reads and triages every site (tags, exceptions).
    pub triage: String,
}

pub async fn start(config: ServerConfig) -> TestServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.join("t.sqlite")).unwrap());
    start_with(db, config).await
}

pub async fn start_with(db: Arc<dyn Database>, config: ServerConfig) -> TestServer {
    start_with_peer(db, config, SocketAddr::from(([192, 0, 2, 7], 40000))).await
}

/// A server on a fresh database whose every request comes from `peer`,
/// built like `serve` builds it (the Pakiti key is loaded).
pub async fn start_from(config: ServerConfig, peer: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.join("t.sqlite")).unwrap());
    start_with_peer(db, config, peer.parse().unwrap()).await
}

pub async fn start_with_peer(
    db: Arc<dyn Database>,
    config: ServerConfig,
    peer: SocketAddr,
) -> TestServer {
    let mut tokens = Vec::new();
    if let Ok(site) = db.create_site("SITE").await {
        let other = db.create_site("OTHER").await.unwrap();
        for (name, kind, site) in [
            ("ingest", TokenKind::Ingest, Some(site.id)),
            ("reader", TokenKind::Api, None),
            ("other", TokenKind::Ingest, Some(other.id)),
        ] {
            let t = NewToken::generate(name, kind, site);
            db.add_token(&t).await.unwrap();
            tokens.push(t.secret);
        }
        let t = NewToken::api("triager", TokenAccess::Triage, TokenScope::Everywhere);
        db.add_token(&t).await.unwrap();
        tokens.push(t.secret);
    } else {
        tokens = vec![
            "pwi_x".into(),
            "pwa_x".into(),
            "pwi_y".into(),
            "pwa_y".into(),
        ];
    }
    let app = router(AppState::load(db.clone(), config).unwrap()).layer(MockConnectInfo(peer));
    TestServer {
        app,
        db,
        ingest: tokens[0].clone(),
        api: tokens[1].clone(),
        other_ingest: tokens[2].clone(),
        triage: tokens[3].clone(),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub json: serde_json::Value,
}

impl TestServer {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        });
        Reply { status, json }
    }

    pub async fn post(&self, token: &str, encoding: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = Request::post("/api/v1/reports")
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .header("User-Agent", "patchwatch-client/test");
        if let Some(e) = encoding {
            req = req.header("Content-Encoding", e);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let req = Request::get(path)
            .header("Authorization", format!("Bearer {}", self.api))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// Hosts and reports stored, for "nothing was stored" checks.
    pub async fn stored(&self) -> (u64, usize) {
        let hosts = self.db.hosts(&HostFilter::default()).await.unwrap();
        let mut reports = 0;
        for h in &hosts.items {
            reports += self.db.reports(h.id, 1000, 0).await.unwrap().len();
        }
        (hosts.total, reports)
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A plain-text or JSON reply with its content type.
pub struct RawReply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
}

impl TestServer {
    /// POSTs `body` to `path` with `headers`.
    pub async fn post_to(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> RawReply {
        let mut req = Request::post(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        RawReply {
            status,
            content_type,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// The stored packages of the only host, as `name version arch` lines.
    pub async fn package_lines(&self, hostname: &str) -> Vec<String> {
        let hosts = self.get("/api/v1/hosts").await;
        let id = hosts.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hostname"] == hostname)
            .unwrap_or_else(|| panic!("no host {hostname}: {}", hosts.json))["id"]
            .as_i64()
            .unwrap();
        let pkgs = self.get(&format!("/api/v1/hosts/{id}/packages")).await;
        let mut lines: Vec<String> = pkgs.json["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                // `version` is the full `[epoch:]version[-release]`.
                format!(
                    "{} {} {}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["arch"].as_str().unwrap_or("")
                )
            })
            .collect();
        lines.sort();
        lines
    }
}

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../reports/tests/fixtures/debian12/"
);
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/tests/corpus/");

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// A fixture of form fields (`[[name, value], ...]`).
pub fn fixture_fields(name: &str) -> Vec<(String, String)> {
    serde_json::from_slice(&fixture(name)).unwrap()
}

pub fn expected_packages() -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8(fixture("expected.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// Every file of one corpus directory, with its name.
pub fn corpus(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(format!("{CORPUS}{dir}"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "corpus {dir} is missing");
    files
}

/// `application/x-www-form-urlencoded`, as curl `--data-urlencode` sends.
pub fn urlencode(fields: &[(String, String)]) -> Vec<u8> {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

pub const BOUNDARY: &str = "------------------------d74496d66958873e";

/// `multipart/form-data` with text parts, as curl `-F` sends; the content
/// type is `multipart/form-data; boundary=` + [`BOUNDARY`].
pub fn multipart(fields: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(v.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Settings for tests whose reports come from 192.0.2.7 (the mock peer):
/// that network may report, without DNS checks, and sites are created.
pub fn open_config() -> ServerConfig {
    let mut c = ServerConfig::default();
    c.sources.networks = vec!["192.0.2.0/24".parse().unwrap()];
    c.sources.hostname_check = patchwatch_server::policy::HostnameCheck::Off;
    c.unknown_sites = patchwatch_server::config::UnknownSites::Create;
    c
}
