//! A server on a fresh SQLite database, driven in-process.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use patchwatch_server::{AppState, ServerConfig, router};
use patchwatch_store::{Database, HostFilter, NewToken, TokenKind};
use patchwatch_store_sqlite::SqliteStore;
use tower::ServiceExt;

pub struct TestServer {
    pub app: Router,
    pub db: Arc<dyn Database>,
    pub ingest: String,
    pub api: String,
    pub other_ingest: String,
}

pub async fn start(config: ServerConfig) -> TestServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.join("t.sqlite")).unwrap());
    start_with(db, config).await
}

pub async fn start_with(db: Arc<dyn Database>, config: ServerConfig) -> TestServer {
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
    } else {
        tokens = vec!["pwi_x".into(), "pwa_x".into(), "pwi_y".into()];
    }
    let app = router(AppState::new(db.clone(), config))
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000))));
    TestServer {
        app,
        db,
        ingest: tokens[0].clone(),
        api: tokens[1].clone(),
        other_ingest: tokens[2].clone(),
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
