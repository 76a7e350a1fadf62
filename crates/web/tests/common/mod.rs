//! A real server (API and web UI) on 127.0.0.1, a fresh SQLite database,
//! and a cookie-keeping client that does what a browser's form does.

#![allow(dead_code)]

use std::sync::Arc;

use patchwatch_auth::Role;
use patchwatch_fleet::shared_data_dir;
use patchwatch_reports::{Report, native};
use patchwatch_server::{Server, ServerConfig};
use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{Database, FeedKind, NewFeed, NewGrant, NewToken, NewUser, TokenKind};
use patchwatch_store_sqlite::SqliteStore;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Running {
    pub base: String,
    pub db: Arc<dyn Database>,
    /// Ingest tokens of sites SITE and OTHER.
    pub ingest: String,
    pub other_ingest: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Users: `admin` (admin), `site` (triager on SITE), `viewer` (viewer on
/// OTHER), all with [`PASSWORD`].
pub async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.join("web.sqlite")).unwrap());
    let site = db.create_site("SITE").await.unwrap();
    let other = db.create_site("OTHER").await.unwrap();
    let ingest = NewToken::generate("ingest", TokenKind::Ingest, Some(site.id));
    let other_ingest = NewToken::generate("other", TokenKind::Ingest, Some(other.id));
    db.add_token(&ingest).await.unwrap();
    db.add_token(&other_ingest).await.unwrap();
    let hash = patchwatch_auth::password::hash(PASSWORD).unwrap();
    for (name, role, on) in [
        ("admin", Role::Admin, None),
        ("site", Role::Triager, Some("SITE")),
        ("viewer", Role::Viewer, Some("OTHER")),
    ] {
        db.add_user(&NewUser {
            name: name.into(),
            password_hash: Some(hash.clone()),
            origin: ORIGIN_LOCAL.into(),
        })
        .await
        .unwrap();
        db.grant(
            name,
            &NewGrant {
                role,
                site: on.map(Into::into),
                group: None,
            },
        )
        .await
        .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::new(db.clone(), ServerConfig::default())
        .unwrap()
        .with_ui(patchwatch_web::routes());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    Running {
        base,
        db,
        ingest: ingest.secret,
        other_ingest: other_ingest.secret,
        _stop: stop,
    }
}

impl Running {
    /// Posts a native report through the real ingest endpoint; the host id.
    pub async fn report(&self, token: &str, report: &Report) -> i64 {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/reports", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(native::to_json(report))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["host_id"].as_i64().unwrap()
    }

    /// A browser for this server.
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// Imports a real feed document as the server's `feeds import` does.
    pub async fn import(&self, name: &str, kind: FeedKind, rel: &str) {
        let doc = std::fs::read(shared_data_dir().join(rel)).unwrap();
        let advisories = patchwatch_vulndb::parse_document(kind, name, &doc, |_| {}).unwrap();
        let feed = self
            .db
            .add_feed(&NewFeed {
                name: name.into(),
                kind,
                source: rel.into(),
                releases: String::new(),
            })
            .await
            .unwrap();
        let sha = patchwatch_vulndb::sha256_hex(&doc);
        self.db
            .import_generation(feed.id, doc, &sha, advisories as i64)
            .await
            .unwrap();
    }
}

/// An AlmaLinux 9.5 host of the real RHEL 9 inventory (the AlmaLinux OSV
/// data has findings for it).
// Not every test binary sends one.
#[allow(unused_imports)]
pub use patchwatch_fleet::hosts::almalinux9 as alma_report;

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    pub cookie: Option<String>,
}

impl Browser {
    async fn done(&mut self, r: reqwest::Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        if let Some(set) = headers.get(SET_COOKIE).and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        Page {
            status,
            headers,
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = req.send().await.unwrap();
        self.done(r).await
    }

    /// A form post as a browser sends it from this site's page.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, Some(&self.base.clone())).await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut req = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        self.done(r).await
    }

    pub async fn login(&mut self, user: &str) -> Page {
        let page = self
            .post("/login", &[("username", user), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        page
    }
}
