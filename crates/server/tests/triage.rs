//! CVE tags and exceptions through the API, and the Pakiti report-back
//! reply listing tagged, non-excepted CVEs: the real el9 image of the
//! shared data set, relabelled AlmaLinux 9.5, reported by protocol 5
//! against the real AlmaLinux OSV database. (The Debian tracker JSON in
//! the shared data is a six-package excerpt that names nothing the real
//! Debian host has installed.)

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::pakiti;
use patchwatch_server::ServerConfig;
use patchwatch_store::{FeedKind, NewFeed};
use serde_json::{Value, json};

const ALMA: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";

async fn import_alma(s: &TestServer) {
    let doc = std::fs::read(shared_data_dir().join(ALMA)).unwrap();
    let n = patchwatch_vulndb::parse_document(FeedKind::Osv, "alma", &doc, |_| {}).unwrap();
    let feed =
        s.db.add_feed(&NewFeed {
            name: "alma".into(),
            kind: FeedKind::Osv,
            source: ALMA.into(),
            releases: String::new(),
        })
        .await
        .unwrap();
    let sha = patchwatch_vulndb::sha256_hex(&doc);
    s.db.import_generation(feed.id, doc, &sha, n as i64)
        .await
        .unwrap();
}

async fn call(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Authorization", format!("Bearer {}", s.triage))
        .header("Content-Type", "application/json");
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    s.send(req.body(body).unwrap()).await
}

/// The real el9 host, as AlmaLinux 9.5, as `pakiti-client` reports it.
fn alma_body() -> Vec<u8> {
    let mut image = Image::almalinux9().unwrap();
    image.os.pretty_name = "AlmaLinux release 9.5 (Teal Serval)".into();
    let mut fleet = Fleet::new(vec![image], 3).with_drift(0);
    fleet.site = "MYSITE".into();
    pakiti::to_v5(&fleet.report(0)).into_bytes()
}

async fn report_back(s: &TestServer) -> Vec<String> {
    let r = s
        .post_to(
            "/feed/?mode=store-and-report&protocol=5",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            alma_body(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut lines = r.text.lines();
    assert_eq!(lines.next(), Some("OK"), "{}", r.text);
    lines.map(str::to_owned).collect()
}

#[tokio::test]
async fn pakiti_reply_lists_tagged_unexcepted_cves() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    import_alma(&s).await;
    // Stored first, so the API can show what the reply is built from.
    let first = report_back(&s).await;
    let hosts = s.get("/api/v1/hosts").await;
    let id = hosts.json["items"][0]["id"].as_i64().unwrap();
    let v = s.get(&format!("/api/v1/hosts/{id}/vulnerabilities")).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    let findings: Vec<Value> = v.json["findings"].as_array().unwrap().clone();
    let exposed: Vec<&Value> = findings.iter().filter(|f| f["exposed"] == true).collect();
    assert!(!exposed.is_empty(), "the real host has findings");

    // With the defaults, exactly the high and critical findings come back,
    // tagged High / Critical (auto-tagging by severity).
    // rpm versions come back as the client printed them: with an epoch.
    let line = |f: &Value, tag: &str| {
        let installed = f["installed"].as_str().unwrap();
        let version = if installed.contains(':') {
            installed.to_owned()
        } else {
            format!("0:{installed}")
        };
        format!(
            "{}\t{version}\t{}\t{}\t{tag}",
            f["package"].as_str().unwrap(),
            f["arch"].as_str().unwrap(),
            f["cve"].as_str().unwrap()
        )
    };
    let expected: BTreeSet<String> = exposed
        .iter()
        .filter_map(|f| match f["severity"].as_str() {
            Some("critical") => Some(line(f, "Critical")),
            Some("high") => Some(line(f, "High")),
            _ => None,
        })
        .collect();
    assert!(!expected.is_empty(), "the real host has high findings");
    assert_eq!(first.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(
        first.contains(&"openssl-libs\t1:3.2.2-6.el9_5\tx86_64\tCVE-2024-12797\tHigh".to_owned()),
        "{first:?}"
    );
    for f in &exposed {
        let tags = f["tags"].as_array().unwrap();
        let high = f["severity"] == "high" || f["severity"] == "critical";
        assert_eq!(!tags.is_empty(), high, "{f}");
        assert!(f["excepted"].is_null());
    }

    // Defaults off: nothing is tagged, the reply is exactly `OK\n`.
    for t in ["High", "Critical"] {
        let r = call(&s, "POST", &format!("/api/v1/tags/{t}/disable"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert_eq!(r.json["enabled"], false);
    }
    assert!(report_back(&s).await.is_empty());

    // A site's own tag, attached to one CVE the host has.
    let r = call(
        &s,
        "POST",
        "/api/v1/tags",
        Some(json!({"name": "EGI", "reason": "EGI SVG critical list"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let target = exposed[0];
    let cve = target["cve"].as_str().unwrap();
    let r = call(
        &s,
        "POST",
        "/api/v1/tags/EGI/cves",
        Some(json!({"cve": cve.to_lowercase(), "reason": "advisory"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["author"], "token:triager");
    let with_cve: BTreeSet<String> = exposed
        .iter()
        .filter(|f| f["cve"] == cve)
        .map(|f| line(f, "EGI"))
        .collect();
    assert_eq!(
        report_back(&s).await.into_iter().collect::<BTreeSet<_>>(),
        with_cve
    );
    let tagged = s
        .get(&format!("/api/v1/hosts/{id}/vulnerabilities?tag=EGI"))
        .await;
    assert_eq!(tagged.json["count"].as_u64(), Some(with_cve.len() as u64));

    // An exception for the package on the report's site takes it out of
    // the reply; the finding stays, excepted, in the API.
    let r = call(
        &s,
        "POST",
        "/api/v1/exceptions",
        Some(json!({
            "cve": cve,
            "package": target["package"],
            "version": target["installed"],
            "site": "MYSITE",
            "reason": "mitigated by configuration",
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let exception_id = r.json["id"].as_i64().unwrap();
    let after = report_back(&s).await;
    assert!(
        !after.contains(&line(target, "EGI")),
        "excepted line still in the reply: {after:?}"
    );
    assert_eq!(after.len(), with_cve.len() - 1);
    let v = s.get(&format!("/api/v1/hosts/{id}/vulnerabilities")).await;
    assert_eq!(v.json["excepted"], 1);
    let last = v.json["findings"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["cve"], cve);
    assert_eq!(last["excepted"]["id"], exception_id);
    assert_eq!(last["excepted"]["reason"], "mitigated by configuration");

    // The fleet view: the host is no longer counted for that finding.
    let show = s.get(&format!("/api/v1/cves/{cve}")).await;
    assert_eq!(show.status, StatusCode::OK, "{}", show.json);
    let list = s.get("/api/v1/cves?tag=EGI").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    if with_cve.len() == 1 {
        assert_eq!(show.json["hosts"], 0);
        assert_eq!(list.json["count"], 0);
    }

    // Removing the exception brings the line back.
    let r = call(
        &s,
        "DELETE",
        &format!("/api/v1/exceptions/{exception_id}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(report_back(&s).await.contains(&line(target, "EGI")));
}

#[tokio::test]
async fn tag_and_exception_endpoints_answer_precise_errors() {
    let s = start(ServerConfig::default()).await;
    let tags = s.get("/api/v1/tags").await;
    assert_eq!(tags.status, StatusCode::OK);
    assert_eq!(tags.json["count"], 2);
    assert_eq!(tags.json["tags"][0]["name"], "Critical");

    let cases: Vec<(&str, String, Option<Value>, StatusCode, &str)> = vec![
        (
            "POST",
            "/api/v1/tags".into(),
            Some(json!({"name": "High"})),
            StatusCode::CONFLICT,
            "tag \"High\" already exists",
        ),
        (
            "POST",
            "/api/v1/tags".into(),
            Some(json!({"nam": "x"})),
            StatusCode::BAD_REQUEST,
            "invalid JSON body",
        ),
        (
            "POST",
            "/api/v1/tags/Nope/cves".into(),
            Some(json!({"cve": "CVE-2024-12797"})),
            StatusCode::NOT_FOUND,
            "tag \"Nope\" not found",
        ),
        (
            "POST",
            "/api/v1/tags/High/cves".into(),
            Some(json!({"cve": "CVE-2024"})),
            StatusCode::BAD_REQUEST,
            "malformed CVE id",
        ),
        (
            "DELETE",
            "/api/v1/tags/High/cves/CVE-2024-12797".into(),
            None,
            StatusCode::NOT_FOUND,
            "CVE-2024-12797 tagged \"High\" not found",
        ),
        (
            "POST",
            "/api/v1/exceptions".into(),
            Some(
                json!({"cve": "CVE-2024-12797", "package": "openssl", "version": "3.0.15-1",
                        "site": "SITE", "os_group": "debian 12", "reason": "r"}),
            ),
            StatusCode::BAD_REQUEST,
            "not both",
        ),
        (
            "POST",
            "/api/v1/exceptions".into(),
            Some(
                json!({"cve": "CVE-2024-12797", "package": "openssl", "version": "3.0.15-1",
                        "site": "NOPE", "reason": "r"}),
            ),
            StatusCode::NOT_FOUND,
            "site \"NOPE\" not found",
        ),
        (
            "POST",
            "/api/v1/exceptions".into(),
            Some(
                json!({"cve": "CVE-2024-12797", "package": "openssl", "version": "3.0.15-1",
                        "os_group": "debian 12", "reason": "r", "expires": "2001-01-01"}),
            ),
            StatusCode::BAD_REQUEST,
            "in the past",
        ),
        (
            "POST",
            "/api/v1/exceptions".into(),
            Some(
                json!({"cve": "CVE-2024-12797", "package": "openssl", "version": "3.0.15-1",
                        "os_group": "debian 12", "reason": "r", "expires": "soon"}),
            ),
            StatusCode::BAD_REQUEST,
            "neither a date",
        ),
        (
            "DELETE",
            "/api/v1/exceptions/77".into(),
            None,
            StatusCode::NOT_FOUND,
            "exception 77 not found",
        ),
        (
            "DELETE",
            "/api/v1/exceptions/x".into(),
            None,
            StatusCode::BAD_REQUEST,
            "must be an integer",
        ),
        (
            "GET",
            "/api/v1/cves?tag=Nope".into(),
            None,
            StatusCode::NOT_FOUND,
            "tag \"Nope\"",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let r = call(&s, method, &path, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.json);
        assert!(
            r.json["error"].as_str().unwrap_or("").contains(message),
            "{method} {path}: {}",
            r.json
        );
    }

    // Managing needs a triage token: ingest and read tokens are refused.
    for token in [&s.ingest, &s.api] {
        let req = Request::post("/api/v1/tags")
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .body(Body::from(r#"{"name":"X"}"#))
            .unwrap();
        assert_eq!(s.send(req).await.status, StatusCode::FORBIDDEN);
    }
    // The author is the caller, never what the body claims.
    let r = call(
        &s,
        "POST",
        "/api/v1/exceptions",
        Some(
            json!({"cve": "cve-2024-12797", "package": "openssl", "version": "3.0.15-1",
                    "os_group": "debian 12", "reason": "r", "author": "bob"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert!(
        r.json["error"].as_str().unwrap().contains("author"),
        "{}",
        r.json
    );

    let r = call(
        &s,
        "POST",
        "/api/v1/exceptions",
        Some(
            json!({"cve": "cve-2024-12797", "package": "openssl", "version": "3.0.15-1",
                    "os_group": "debian 12", "reason": "r",
                    "expires": "2999-01-31"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["cve"], "CVE-2024-12797");
    assert_eq!(r.json["author"], "token:triager");
    assert_eq!(r.json["expires_at"], "2999-02-01T00:00:00Z");
    let list = s.get("/api/v1/exceptions").await;
    assert_eq!(list.json["count"], 1);
    let r = call(&s, "DELETE", "/api/v1/tags/High", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(s.get("/api/v1/tags").await.json["count"], 1);
}
