//! Every API endpoint x every kind of caller, on two sites in two site
//! groups: nobody sees a host, count, CVE or package of a site outside
//! their scope, and an out-of-scope id answers exactly like a missing one.
//! Run on SQLite, and on PostgreSQL (skipped with a notice when it is
//! unreachable, failing under `CI=true`).

mod access;
mod common;

use std::sync::Arc;
use std::time::Instant;

use access::{Caller, Credential, MISSING_ID, PEER, Scope, World, config, send, user, world};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, TestServer, start_with_peer};
use patchwatch_auth::Role;
use patchwatch_store::{Database, NewGrant};
use serde_json::json;

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
        "/api/v1/updates",
        "/api/v1/repos",
        "/api/v1/packages/openssl",
    ];
    let per_host = ["", "/packages", "/reports", "/vulnerabilities", "/updates"];
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
