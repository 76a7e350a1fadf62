//! The world of the access matrix: two sites in two site groups, their
//! hosts, triage data, and one caller of every kind.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use patchwatch_auth::{Role, TokenAccess, TokenScope};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;
use patchwatch_store::{
    Database, FeedKind, NewFeed, NewGrant, NewToken, NewUser, TokenKind, users::ORIGIN_LOCAL,
};
use serde_json::{Value, json};

use crate::common::{Reply, TestServer, start_with_peer};

pub const PEER: &str = "192.0.2.7:40000";
pub const USER_HEADER: &str = "X-Remote-User";
/// No host has this id.
pub const MISSING_ID: i64 = 987_654;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Nothing,
    Alpha,
    Beta,
    Both,
}

#[derive(Clone, Debug)]
pub enum Credential {
    User(&'static str),
    Bearer(String),
    Nobody,
}

pub struct Caller {
    pub name: &'static str,
    pub credential: Credential,
    /// What it may read; `None`: refused outright (401/403).
    pub reads: Option<Scope>,
    pub refused_with: StatusCode,
    /// May manage tags and OS-group exceptions.
    pub triages_everywhere: bool,
    /// May add exceptions on alpha-site.
    pub triages_alpha: bool,
}

impl Caller {
    pub fn reads(name: &'static str, credential: Credential, scope: Scope) -> Caller {
        Caller {
            name,
            credential,
            reads: Some(scope),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        }
    }

    pub fn refused(name: &'static str, credential: Credential, status: StatusCode) -> Caller {
        Caller {
            name,
            credential,
            reads: None,
            refused_with: status,
            triages_everywhere: false,
            triages_alpha: false,
        }
    }

    pub fn triaging(mut self, scope: Scope) -> Caller {
        self.triages_everywhere = scope == Scope::Both;
        self.triages_alpha = matches!(scope, Scope::Both | Scope::Alpha);
        self
    }
}

pub struct World {
    pub server: TestServer,
    pub alpha_hosts: Vec<i64>,
    pub beta_hosts: Vec<i64>,
    /// Every CVE a beta host is exposed to: none may reach alpha readers.
    pub beta_cves: Vec<String>,
    /// CVEs listed for beta once its exception applies.
    pub beta_cve_count: usize,
    pub beta_exception: i64,
    pub callers: Vec<Caller>,
}

pub fn config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.auth.remote_user_header = Some(USER_HEADER.into());
    config.sources.trusted_proxies = vec!["192.0.2.7/32".parse().unwrap()];
    config
}

pub async fn send(
    s: &TestServer,
    who: &Credential,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", "application/json");
    match who {
        Credential::User(name) => req = req.header(USER_HEADER, *name),
        Credential::Bearer(token) => req = req.header("Authorization", format!("Bearer {token}")),
        Credential::Nobody => {}
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    s.send(req.body(body).unwrap()).await
}

pub async fn import_alma(db: &dyn Database) {
    let rel = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";
    let doc = std::fs::read(shared_data_dir().join(rel)).unwrap();
    let n = patchwatch_vulndb::parse_document(FeedKind::Osv, "alma", &doc, |_| {}).unwrap();
    let feed = db
        .add_feed(&NewFeed {
            name: "alma".into(),
            kind: FeedKind::Osv,
            source: rel.into(),
            releases: String::new(),
        })
        .await
        .unwrap();
    let sha = patchwatch_vulndb::sha256_hex(&doc);
    db.import_generation(feed.id, doc, &sha, n as i64)
        .await
        .unwrap();
}

pub async fn report(s: &TestServer, token: &str, site: &str, image: Image, name: &str) -> i64 {
    let mut fleet = Fleet::new(vec![image], 1).with_drift(0);
    fleet.site = site.into();
    let mut r = fleet.report(0);
    r.hostname = name.into();
    let reply = s.post(token, None, native::to_json(&r)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["host_id"].as_i64().unwrap()
}

pub async fn user(
    db: &dyn Database,
    name: &str,
    grants: &[(Role, Option<&str>, Option<&str>)],
) -> i64 {
    let u = db
        .add_user(&NewUser {
            name: name.into(),
            password_hash: None,
            origin: ORIGIN_LOCAL.into(),
        })
        .await
        .unwrap();
    for (role, site, group) in grants {
        db.grant(
            name,
            &NewGrant {
                role: *role,
                site: site.map(Into::into),
                group: group.map(Into::into),
            },
        )
        .await
        .unwrap();
    }
    u.id
}

pub async fn token(db: &dyn Database, t: NewToken) -> Credential {
    db.add_token(&t).await.unwrap();
    Credential::Bearer(t.secret)
}

/// Two sites: alpha-site (Debian hosts, which no imported feed covers:
/// no CVE at all) in group NGI_A, and beta-site (AlmaLinux hosts, exposed
/// to many CVEs) in NGI_B_T2, a child of NGI_B.
pub async fn world(db: Arc<dyn Database>) -> World {
    let server = start_with_peer(db.clone(), config(), PEER.parse::<SocketAddr>().unwrap()).await;
    let alpha = db.create_site("alpha-site").await.unwrap();
    let beta = db.create_site("beta-site").await.unwrap();
    db.add_site_group("NGI_A", None).await.unwrap();
    db.add_site_group("NGI_B", None).await.unwrap();
    db.add_site_group("NGI_B_T2", Some("NGI_B")).await.unwrap();
    db.set_group_member("NGI_A", "alpha-site", true)
        .await
        .unwrap();
    db.set_group_member("NGI_B_T2", "beta-site", true)
        .await
        .unwrap();
    let groups = db.site_groups().await.unwrap();
    let ngi_a = groups.iter().find(|g| g.name == "NGI_A").unwrap().id;
    let ngi_b = groups.iter().find(|g| g.name == "NGI_B").unwrap().id;

    let alpha_ingest = NewToken::generate("alpha-ingest", TokenKind::Ingest, Some(alpha.id));
    let beta_ingest = NewToken::generate("beta-ingest", TokenKind::Ingest, Some(beta.id));
    db.add_token(&alpha_ingest).await.unwrap();
    db.add_token(&beta_ingest).await.unwrap();
    import_alma(db.as_ref()).await;
    let alma = || Image::almalinux9().unwrap();
    let mut alpha_hosts = Vec::new();
    let mut beta_hosts = Vec::new();
    for i in 1..=2 {
        let name = format!("alpha-{i}.example.org");
        alpha_hosts.push(
            report(
                &server,
                &alpha_ingest.secret,
                "alpha-site",
                Image::debian12().unwrap(),
                &name,
            )
            .await,
        );
        let name = format!("beta-{i}.example.org");
        beta_hosts.push(report(&server, &beta_ingest.secret, "beta-site", alma(), &name).await);
    }

    user(db.as_ref(), "root", &[(Role::Admin, None, None)]).await;
    user(db.as_ref(), "csirt", &[(Role::Auditor, None, None)]).await;
    user(
        db.as_ref(),
        "alpha-admin",
        &[(Role::Viewer, Some("alpha-site"), None)],
    )
    .await;
    user(db.as_ref(), "ngi-b", &[(Role::Viewer, None, Some("NGI_B"))]).await;
    let triager = user(
        db.as_ref(),
        "alpha-sec",
        &[(Role::Triager, Some("alpha-site"), None)],
    )
    .await;
    user(db.as_ref(), "newcomer", &[]).await;

    let admin = Credential::User("root");
    let all: Vec<Value> = send(&server, &admin, "GET", "/api/v1/cves", None)
        .await
        .json["cves"]
        .as_array()
        .unwrap()
        .clone();
    let beta_cves: Vec<String> = all
        .iter()
        .map(|c| c["cve"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        beta_cves.len() > 20,
        "the beta hosts must be exposed: {}",
        beta_cves.len()
    );

    // Triage data of both sites: a tag on a beta CVE, an exception each.
    let r = send(
        &server,
        &admin,
        "POST",
        "/api/v1/tags",
        Some(json!({"name": "EGI"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let path = "/api/v1/tags/EGI/cves";
    let r = send(
        &server,
        &admin,
        "POST",
        path,
        Some(json!({"cve": beta_cves[0]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["author"], "user:root");
    let exception = |site: &str, cve: &str| {
        json!({"cve": cve, "package": "openssl-libs", "version": "1:3.2.2-6.el9_5",
               "site": site, "reason": "not exposed"})
    };
    let r = send(
        &server,
        &admin,
        "POST",
        "/api/v1/exceptions",
        Some(exception("beta-site", &beta_cves[1])),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let beta_exception = r.json["id"].as_i64().unwrap();
    let beta_cve_count = send(&server, &admin, "GET", "/api/v1/cves", None)
        .await
        .json["count"]
        .as_u64()
        .unwrap() as usize;

    let t = |name, access, scope| token(db.as_ref(), NewToken::api(name, access, scope));
    let callers = vec![
        Caller::reads("admin (SSO)", admin, Scope::Both).triaging(Scope::Both),
        Caller::reads("auditor (SSO)", Credential::User("csirt"), Scope::Both),
        Caller::reads(
            "site viewer (SSO)",
            Credential::User("alpha-admin"),
            Scope::Alpha,
        ),
        Caller::reads(
            "site-group viewer (SSO)",
            Credential::User("ngi-b"),
            Scope::Beta,
        ),
        Caller::reads("triager (SSO)", Credential::User("alpha-sec"), Scope::Alpha)
            .triaging(Scope::Alpha),
        Caller::refused(
            "user without roles (SSO)",
            Credential::User("newcomer"),
            StatusCode::FORBIDDEN,
        ),
        Caller::reads(
            "legacy read token",
            Credential::Bearer(server.api.clone()),
            Scope::Both,
        ),
        Caller::reads(
            "site read token",
            t("t-alpha", TokenAccess::Read, TokenScope::Site(alpha.id)).await,
            Scope::Alpha,
        ),
        Caller::reads(
            "group read token",
            t("t-ngi-a", TokenAccess::Read, TokenScope::Group(ngi_a)).await,
            Scope::Alpha,
        ),
        Caller::reads(
            "parent group triage token",
            t("t-ngi-b", TokenAccess::Triage, TokenScope::Group(ngi_b)).await,
            Scope::Beta,
        )
        .triaging(Scope::Beta),
        Caller::reads(
            "triager's triage token",
            t("t-sec", TokenAccess::Triage, TokenScope::User(triager)).await,
            Scope::Alpha,
        )
        .triaging(Scope::Alpha),
        Caller::refused(
            "ingest token",
            Credential::Bearer(alpha_ingest.secret.clone()),
            StatusCode::FORBIDDEN,
        ),
        Caller::refused("anonymous", Credential::Nobody, StatusCode::UNAUTHORIZED),
    ];
    World {
        server,
        alpha_hosts,
        beta_hosts,
        beta_cves,
        beta_cve_count,
        beta_exception,
        callers,
    }
}
