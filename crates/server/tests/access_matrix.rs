//! Every API endpoint x every kind of caller, on two sites in two site
//! groups: nobody sees a host, count, CVE or package of a site outside
//! their scope, and an out-of-scope id answers exactly like a missing one.
//! Run on SQLite, and on PostgreSQL (skipped with a notice when it is
//! unreachable, failing under `CI=true`).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, TestServer, start_with_peer};
use patchwatch_auth::{Role, TokenAccess, TokenScope};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;
use patchwatch_store::{
    Database, FeedKind, NewFeed, NewGrant, NewToken, NewUser, TokenKind, users::ORIGIN_LOCAL,
};
use serde_json::{Value, json};

const PEER: &str = "192.0.2.7:40000";
const USER_HEADER: &str = "X-Remote-User";
/// No host has this id.
const MISSING_ID: i64 = 987_654;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Nothing,
    Alpha,
    Beta,
    Both,
}

#[derive(Clone, Debug)]
enum Credential {
    User(&'static str),
    Bearer(String),
    Nobody,
}

struct Caller {
    name: &'static str,
    credential: Credential,
    /// What it may read; `None`: refused outright (401/403).
    reads: Option<Scope>,
    refused_with: StatusCode,
    /// May manage tags and OS-group exceptions.
    triages_everywhere: bool,
    /// May add exceptions on alpha-site.
    triages_alpha: bool,
}

struct World {
    server: TestServer,
    alpha_hosts: Vec<i64>,
    beta_hosts: Vec<i64>,
    /// Every CVE a beta host is exposed to: none may reach alpha readers.
    beta_cves: Vec<String>,
    /// CVEs listed for beta once its exception applies.
    beta_cve_count: usize,
    beta_exception: i64,
    callers: Vec<Caller>,
}

fn config() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.auth.remote_user_header = Some(USER_HEADER.into());
    config.sources.trusted_proxies = vec!["192.0.2.7/32".parse().unwrap()];
    config
}

async fn send(
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

async fn import_alma(db: &dyn Database) {
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

async fn report(s: &TestServer, token: &str, site: &str, image: Image, name: &str) -> i64 {
    let mut fleet = Fleet::new(vec![image], 1).with_drift(0);
    fleet.site = site.into();
    let mut r = fleet.report(0);
    r.hostname = name.into();
    let reply = s.post(token, None, native::to_json(&r)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["host_id"].as_i64().unwrap()
}

async fn user(db: &dyn Database, name: &str, grants: &[(Role, Option<&str>, Option<&str>)]) -> i64 {
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

async fn token(db: &dyn Database, t: NewToken) -> Credential {
    db.add_token(&t).await.unwrap();
    Credential::Bearer(t.secret)
}

/// Two sites: alpha-site (Debian hosts, which no imported feed covers:
/// no CVE at all) in group NGI_A, and beta-site (AlmaLinux hosts, exposed
/// to many CVEs) in NGI_B_T2, a child of NGI_B.
async fn world(db: Arc<dyn Database>) -> World {
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
    let alma = || {
        let mut image = Image::rhel9().unwrap();
        image.os.id = "almalinux".into();
        image.os.version_id = "9.5".into();
        image
    };
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

    let callers = vec![
        Caller {
            name: "admin (SSO)",
            credential: admin,
            reads: Some(Scope::Both),
            refused_with: StatusCode::OK,
            triages_everywhere: true,
            triages_alpha: true,
        },
        Caller {
            name: "auditor (SSO)",
            credential: Credential::User("csirt"),
            reads: Some(Scope::Both),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "site viewer (SSO)",
            credential: Credential::User("alpha-admin"),
            reads: Some(Scope::Alpha),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "site-group viewer (SSO)",
            credential: Credential::User("ngi-b"),
            reads: Some(Scope::Beta),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "triager (SSO)",
            credential: Credential::User("alpha-sec"),
            reads: Some(Scope::Alpha),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: true,
        },
        Caller {
            name: "user without roles (SSO)",
            credential: Credential::User("newcomer"),
            reads: None,
            refused_with: StatusCode::FORBIDDEN,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "legacy read token",
            credential: Credential::Bearer(server.api.clone()),
            reads: Some(Scope::Both),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "site read token",
            credential: token(
                db.as_ref(),
                NewToken::api("t-alpha", TokenAccess::Read, TokenScope::Site(alpha.id)),
            )
            .await,
            reads: Some(Scope::Alpha),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "group read token",
            credential: token(
                db.as_ref(),
                NewToken::api("t-ngi-a", TokenAccess::Read, TokenScope::Group(ngi_a)),
            )
            .await,
            reads: Some(Scope::Alpha),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "parent group triage token",
            credential: token(
                db.as_ref(),
                NewToken::api("t-ngi-b", TokenAccess::Triage, TokenScope::Group(ngi_b)),
            )
            .await,
            reads: Some(Scope::Beta),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "triager's triage token",
            credential: token(
                db.as_ref(),
                NewToken::api("t-sec", TokenAccess::Triage, TokenScope::User(triager)),
            )
            .await,
            reads: Some(Scope::Alpha),
            refused_with: StatusCode::OK,
            triages_everywhere: false,
            triages_alpha: true,
        },
        Caller {
            name: "ingest token",
            credential: Credential::Bearer(alpha_ingest.secret.clone()),
            reads: None,
            refused_with: StatusCode::FORBIDDEN,
            triages_everywhere: false,
            triages_alpha: false,
        },
        Caller {
            name: "anonymous",
            credential: Credential::Nobody,
            reads: None,
            refused_with: StatusCode::UNAUTHORIZED,
            triages_everywhere: false,
            triages_alpha: false,
        },
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

/// What may never appear in an answer to a caller that can't read `site`.
fn markers(w: &World, unreadable: Scope) -> Vec<String> {
    let mut m = Vec::new();
    if matches!(unreadable, Scope::Alpha | Scope::Both) {
        m.extend(
            [
                "alpha-site",
                "alpha-1.example.org",
                "alpha-2.example.org",
                "\"dpkg\"",
                "NGI_A",
            ]
            .map(String::from),
        );
    }
    if matches!(unreadable, Scope::Beta | Scope::Both) {
        m.extend(
            [
                "beta-site",
                "beta-1.example.org",
                "beta-2.example.org",
                "\"rpm-libs\"",
                "NGI_B",
            ]
            .map(String::from),
        );
        m.extend(w.beta_cves.iter().cloned());
    }
    m
}

fn unreadable(reads: Scope) -> Scope {
    match reads {
        Scope::Alpha => Scope::Beta,
        Scope::Beta => Scope::Alpha,
        Scope::Both => Scope::Nothing,
        Scope::Nothing => Scope::Both,
    }
}

fn assert_no_leak(w: &World, caller: &Caller, path: &str, r: &Reply) {
    let text = r.json.to_string();
    let reads = caller.reads.unwrap_or(Scope::Nothing);
    for marker in markers(w, unreadable(reads)) {
        // A site named in the request may be echoed in "not found".
        if path.contains(marker.as_str()) {
            continue;
        }
        assert!(
            !text.contains(&marker),
            "{} GET {path} leaks {marker}: {}",
            caller.name,
            &text[..text.len().min(600)]
        );
    }
}

/// An out-of-scope id must answer exactly as a missing one.
fn same_as_missing(caller: &Caller, path: &str, r: &Reply, missing: &Reply, id: i64) {
    let normalised = r
        .json
        .to_string()
        .replace(&id.to_string(), &MISSING_ID.to_string());
    assert_eq!(
        (r.status, normalised),
        (missing.status, missing.json.to_string()),
        "{} GET {path}: an out-of-scope host must look missing",
        caller.name
    );
}

async fn run_matrix(db: Arc<dyn Database>) {
    let w = world(db).await;
    let s = &w.server;
    let lists = [
        "/api/v1/hosts",
        "/api/v1/hosts?site=beta-site",
        "/api/v1/hosts?site=alpha-site",
        "/api/v1/cves",
        "/api/v1/cves?site=beta-site",
        "/api/v1/cves?site=alpha-site",
        "/api/v1/tags",
        "/api/v1/tags/assignments",
        "/api/v1/exceptions",
        "/api/v1/assessment",
    ];
    let per_host = ["", "/packages", "/reports", "/vulnerabilities"];
    let mut checked = 0;
    for caller in &w.callers {
        let who = &caller.credential;
        // Lists, counts and summaries.
        for path in lists {
            let r = send(s, who, "GET", path, None).await;
            checked += 1;
            let Some(reads) = caller.reads else {
                assert_eq!(
                    r.status, caller.refused_with,
                    "{} GET {path}: {}",
                    caller.name, r.json
                );
                continue;
            };
            assert_no_leak(&w, caller, path, &r);
            let site_out_of_scope = (path.ends_with("site=beta-site") && reads == Scope::Alpha)
                || (path.ends_with("site=alpha-site") && reads == Scope::Beta);
            let expected = if path == "/api/v1/assessment" && reads != Scope::Both {
                StatusCode::FORBIDDEN
            } else if site_out_of_scope && path.starts_with("/api/v1/cves") {
                // Exactly what an unknown site gets.
                let unknown = send(s, who, "GET", "/api/v1/cves?site=no-such-site", None).await;
                assert_eq!(
                    r.json
                        .to_string()
                        .replace("beta-site", "no-such-site")
                        .replace("alpha-site", "no-such-site"),
                    unknown.json.to_string(),
                    "{} GET {path}",
                    caller.name
                );
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            assert_eq!(r.status, expected, "{} GET {path}: {}", caller.name, r.json);
        }
        if let Some(reads) = caller.reads {
            let hosts = send(s, who, "GET", "/api/v1/hosts", None).await;
            let expected_total = match reads {
                Scope::Alpha | Scope::Beta => 2,
                Scope::Both => 4,
                Scope::Nothing => 0,
            };
            assert_eq!(hosts.json["total"], expected_total, "{}", caller.name);
            let cves = send(s, who, "GET", "/api/v1/cves", None).await;
            let expected_cves = if reads == Scope::Alpha {
                0
            } else {
                w.beta_cve_count
            };
            assert_eq!(cves.json["count"], expected_cves, "{}", caller.name);
            let cve_path = format!("/api/v1/cves/{}", w.beta_cves[2]);
            let cve = send(s, who, "GET", &cve_path, None).await;
            let expected = if reads == Scope::Alpha {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            assert_eq!(cve.status, expected, "{}: {}", caller.name, cve.json);
            assert_no_leak(&w, caller, &cve_path, &cve);
        }
        // Every per-host endpoint, for every host and a missing id.
        for suffix in per_host {
            let missing_path = format!("/api/v1/hosts/{MISSING_ID}{suffix}");
            let missing = send(s, who, "GET", &missing_path, None).await;
            for (id, site) in w
                .alpha_hosts
                .iter()
                .map(|i| (*i, Scope::Alpha))
                .chain(w.beta_hosts.iter().map(|i| (*i, Scope::Beta)))
            {
                let path = format!("/api/v1/hosts/{id}{suffix}");
                let r = send(s, who, "GET", &path, None).await;
                checked += 1;
                match caller.reads {
                    None => assert_eq!(r.status, caller.refused_with, "{} GET {path}", caller.name),
                    Some(reads) if reads == site || reads == Scope::Both => {
                        assert_eq!(
                            r.status,
                            StatusCode::OK,
                            "{} GET {path}: {}",
                            caller.name,
                            r.json
                        );
                        assert_no_leak(&w, caller, &path, &r);
                    }
                    Some(_) => same_as_missing(caller, &path, &r, &missing, id),
                }
            }
        }
        checked += write_checks(&w, caller).await;
    }
    eprintln!(
        "access matrix: {checked} requests checked for {} callers",
        w.callers.len()
    );
    timing_of_ids(&w).await;
}

/// Who may change what: tags and OS-group exceptions need triage
/// everywhere; a site's exceptions need triage on it, and a site the
/// caller can't read is "not found" like an unknown one.
async fn write_checks(w: &World, caller: &Caller) -> usize {
    let s = &w.server;
    let who = &caller.credential;
    let name = format!(
        "T{}",
        caller.name.len() * 31 + caller.name.as_bytes()[0] as usize
    );
    let r = send(s, who, "POST", "/api/v1/tags", Some(json!({"name": name}))).await;
    let expected = match caller.reads {
        None => caller.refused_with,
        Some(_) if caller.triages_everywhere => StatusCode::CREATED,
        Some(_) => StatusCode::FORBIDDEN,
    };
    assert_eq!(
        r.status, expected,
        "{} POST /api/v1/tags: {}",
        caller.name, r.json
    );
    let r = send(
        s,
        who,
        "DELETE",
        "/api/v1/tags/EGI/cves/CVE-1999-0001",
        None,
    )
    .await;
    if !caller.triages_everywhere {
        assert_ne!(r.status, StatusCode::OK, "{}", caller.name);
        assert_ne!(
            r.status,
            StatusCode::NOT_FOUND,
            "{} must be refused before the lookup",
            caller.name
        );
    }

    let body = |site: &str| {
        json!({"cve": "CVE-1999-0001", "package": name, "version": "1.0-1",
               "site": site, "reason": "test"})
    };
    let r = send(
        s,
        who,
        "POST",
        "/api/v1/exceptions",
        Some(body("alpha-site")),
    )
    .await;
    let expected = match caller.reads {
        None => caller.refused_with,
        Some(_) if caller.triages_alpha => StatusCode::CREATED,
        Some(Scope::Beta) => StatusCode::NOT_FOUND,
        Some(_) => StatusCode::FORBIDDEN,
    };
    assert_eq!(
        r.status, expected,
        "{} POST exception on alpha-site: {}",
        caller.name, r.json
    );
    if r.status == StatusCode::CREATED {
        assert!(
            r.json["author"].as_str().unwrap().starts_with("user:"),
            "{}",
            r.json
        );
    }
    // Beta's exception, for someone who can't see beta, is missing.
    let path = format!("/api/v1/exceptions/{}", w.beta_exception);
    if matches!(caller.reads, Some(Scope::Alpha)) {
        let r = send(s, who, "DELETE", &path, None).await;
        let missing = send(s, who, "DELETE", "/api/v1/exceptions/987654", None).await;
        assert_eq!(
            (
                r.status,
                r.json
                    .to_string()
                    .replace(&w.beta_exception.to_string(), "987654")
            ),
            (missing.status, missing.json.to_string()),
            "{}",
            caller.name
        );
        let r = send(
            s,
            who,
            "POST",
            "/api/v1/exceptions",
            Some(body("beta-site")),
        )
        .await;
        let unknown = send(
            s,
            who,
            "POST",
            "/api/v1/exceptions",
            Some(body("no-such-site")),
        )
        .await;
        assert_eq!(
            (
                r.status,
                r.json.to_string().replace("beta-site", "no-such-site")
            ),
            (unknown.status, unknown.json.to_string()),
            "{}",
            caller.name
        );
    }
    3
}

/// An out-of-scope id costs what a missing one does: the same lookup,
/// then the same answer. Medians of interleaved requests, generously
/// bounded (the machine is shared).
async fn timing_of_ids(w: &World) {
    let viewer = &w
        .callers
        .iter()
        .find(|c| c.name == "site viewer (SSO)")
        .unwrap()
        .credential;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for _ in 0..41 {
        let t = Instant::now();
        send(
            &w.server,
            viewer,
            "GET",
            &format!("/api/v1/hosts/{}", w.beta_hosts[0]),
            None,
        )
        .await;
        out.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        send(
            &w.server,
            viewer,
            "GET",
            &format!("/api/v1/hosts/{MISSING_ID}"),
            None,
        )
        .await;
        missing.push(t.elapsed().as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (a, b) = (median(&mut out), median(&mut missing));
    eprintln!(
        "median answer: out-of-scope id {:.0} µs, missing id {:.0} µs",
        a * 1e6,
        b * 1e6
    );
    assert!(
        a / b < 3.0 && b / a < 3.0,
        "out-of-scope {a} s vs missing {b} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_leaks_on_sqlite() {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> =
        Arc::new(patchwatch_store_sqlite::SqliteStore::open(dir.join("t.sqlite")).unwrap());
    run_matrix(db).await;
}

/// The same matrix on PostgreSQL, in a schema of its own (dropped after).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_leaks_on_postgres() {
    let url = std::env::var("PATCHWATCH_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let admin = match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(conn);
            client
        }
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL at {url} is unreachable ({e}); CI requires it");
            }
            eprintln!("notice: skipping: PostgreSQL at {url} is unreachable ({e})");
            return;
        }
    };
    let schema = format!("pw_access_matrix_{}", std::process::id());
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = patchwatch_store_postgres::PostgresStore::connect(&format!(
        "{url}{sep}options=-csearch_path%3D{schema}"
    ))
    .await
    .unwrap();
    run_matrix(Arc::new(store)).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_header_only_from_trusted_proxies() {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> =
        Arc::new(patchwatch_store_sqlite::SqliteStore::open(dir.join("t.sqlite")).unwrap());
    user(db.as_ref(), "root", &[(Role::Admin, None, None)]).await;
    let trusted = start_with_peer(db.clone(), config(), PEER.parse().unwrap()).await;
    let r = send(
        &trusted,
        &Credential::User("root"),
        "GET",
        "/api/v1/hosts",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = send(
        &trusted,
        &Credential::User("stranger"),
        "GET",
        "/api/v1/hosts",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);

    let elsewhere =
        start_with_peer(db.clone(), config(), "198.51.100.9:5000".parse().unwrap()).await;
    let r = send(
        &elsewhere,
        &Credential::User("root"),
        "GET",
        "/api/v1/hosts",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    assert!(
        r.json["error"].as_str().unwrap().contains("trusted proxy"),
        "{}",
        r.json
    );

    // Auto-creation makes a user with no rights, who is then told so.
    let mut auto = config();
    auto.auth.auto_create_users = true;
    let s = start_with_peer(db.clone(), auto, PEER.parse().unwrap()).await;
    let r = send(
        &s,
        &Credential::User("CN=Jane Doe,O=Example"),
        "GET",
        "/api/v1/hosts",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    let jane = db.user("CN=Jane Doe,O=Example").await.unwrap().unwrap();
    assert_eq!((jane.origin.as_str(), jane.grants.len()), ("sso", 0));

    // A verified client certificate's subject is a user name, when enabled.
    let subject = "CN=Jane Doe,O=Example";
    db.grant(
        subject,
        &NewGrant {
            role: Role::Auditor,
            site: None,
            group: None,
        },
    )
    .await
    .unwrap();
    let r = with_cert(&trusted, subject).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "off by default: {}",
        r.json
    );
    let mut certs = config();
    certs.auth.client_cert_users = true;
    let s = start_with_peer(db.clone(), certs, "198.51.100.9:5000".parse().unwrap()).await;
    let r = with_cert(&s, subject).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

async fn with_cert(s: &TestServer, subject: &str) -> Reply {
    let mut req = Request::get("/api/v1/hosts").body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(patchwatch_server::policy::ClientCert {
            subject: subject.into(),
            common_name: None,
        });
    s.send(req).await
}
