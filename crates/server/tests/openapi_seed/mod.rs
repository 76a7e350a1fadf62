//! A server with something behind every endpoint, for the OpenAPI tests:
//! the real Debian 12 host (two reports, so its history has changes) and
//! the real el9 image relabelled AlmaLinux 9.5, the real AlmaLinux OSV
//! database as a feed, the real bookworm-security and bookworm-updates
//! indexes as repositories, a tag with a CVE, a disabled tag and an
//! exception, all made through the API where the API can make them.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use patchwatch_fleet::{Fleet, Image, hosts, shared_data_dir};
use patchwatch_reports::native;
use patchwatch_store::{FeedKind, NewFeed, NewRepository, RepositoryKind};
use patchwatch_updates::testing::add_bookworm;
use serde_json::{Value, json};

use crate::common::{Reply, TestServer};

const ALMA: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";

/// What the seed made, for requests that need real ids.
pub struct Seeded {
    pub debian: i64,
    pub alma: i64,
    /// A CVE the AlmaLinux host is exposed to, attached to `tag`.
    pub cve: String,
    pub tag: String,
    pub disabled_tag: String,
    pub exception: i64,
}

pub async fn call(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Authorization", format!("Bearer {}", s.triage))
        .header("Content-Type", "application/json");
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    s.send(req.body(body).unwrap()).await
}

fn expect(r: &Reply, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.json);
}

pub async fn seed(s: &TestServer) -> Seeded {
    // The Debian host: first without two packages and with an older
    // version of a third, then as it is.
    let full = hosts::debian12("SITE", 0);
    let mut older = full.clone();
    let packages = older
        .packages
        .as_mut()
        .expect("the Debian image has packages");
    packages.truncate(packages.len() - 2);
    packages[0].version = "0.1".into();
    let first = s.post(&s.ingest, None, native::to_json(&older)).await;
    expect(
        &first,
        StatusCode::CREATED,
        "the Debian host's first report",
    );
    let second = s.post(&s.ingest, None, native::to_json(&full)).await;
    expect(&second, StatusCode::OK, "the Debian host's second report");
    let debian = second.json["host_id"].as_i64().unwrap();

    let mut image = Image::almalinux9().unwrap();
    image.os.pretty_name = "AlmaLinux 9.5 (Teal Serval)".into();
    let mut fleet = Fleet::new(vec![image], 2).with_drift(0);
    fleet.site = "SITE".into();
    fleet.domain = "alma.example".into();
    let r = s
        .post(
            &s.ingest,
            Some("gzip"),
            crate::common::gzip(&native::to_json(&fleet.report(0))),
        )
        .await;
    expect(&r, StatusCode::CREATED, "the AlmaLinux host's report");
    let alma = r.json["host_id"].as_i64().unwrap();

    import_alma(s).await;
    add_debian_repositories(s).await;

    let v = s
        .get(&format!("/api/v1/hosts/{alma}/vulnerabilities"))
        .await;
    expect(&v, StatusCode::OK, "the AlmaLinux host's findings");
    let finding = v.json["findings"]
        .as_array()
        .and_then(|f| f.first())
        .unwrap_or_else(|| panic!("the AlmaLinux host has no findings: {}", v.json))
        .clone();
    let cve = finding["cve"].as_str().unwrap().to_owned();

    let tag = "Urgent".to_owned();
    let r = call(
        s,
        "POST",
        "/api/v1/tags",
        Some(json!({"name": tag, "reason": "patch this week"})),
    )
    .await;
    expect(&r, StatusCode::CREATED, "a new tag");
    let r = call(
        s,
        "POST",
        &format!("/api/v1/tags/{tag}/cves"),
        Some(json!({"cve": cve, "reason": "exposed on the web servers"})),
    )
    .await;
    expect(&r, StatusCode::CREATED, "a CVE attached to the tag");
    let disabled_tag = "Parked".to_owned();
    let r = call(
        s,
        "POST",
        "/api/v1/tags",
        Some(json!({"name": disabled_tag})),
    )
    .await;
    expect(&r, StatusCode::CREATED, "a second tag");
    let r = call(
        s,
        "POST",
        &format!("/api/v1/tags/{disabled_tag}/disable"),
        None,
    )
    .await;
    expect(&r, StatusCode::OK, "the second tag disabled");

    let r = call(
        s,
        "POST",
        "/api/v1/exceptions",
        Some(json!({
            "cve": cve,
            "package": finding["package"],
            "version": finding["installed"],
            "site": "SITE",
            "reason": "mitigated by configuration",
            "expires": "2099-01-31",
        })),
    )
    .await;
    expect(&r, StatusCode::CREATED, "an exception");
    let exception = r.json["id"].as_i64().unwrap();

    Seeded {
        debian,
        alma,
        cve,
        tag,
        disabled_tag,
        exception,
    }
}

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

/// bookworm-security and bookworm-updates (the small real indexes), the
/// defaults of Debian 12 hosts; and a third repository never imported.
async fn add_debian_repositories(s: &TestServer) {
    add_bookworm(s.db.as_ref(), &["bookworm-updates", "bookworm-security"])
        .await
        .unwrap();
    s.db.add_repository(&NewRepository {
        name: "alma-baseos".into(),
        kind: RepositoryKind::RpmMd,
        source: "https://repo.almalinux.org/almalinux/9/BaseOS/x86_64/os/".into(),
        suite: String::new(),
        components: Vec::new(),
        architectures: vec!["x86_64".into()],
        priority: 10,
        cost: 1000,
        default_for: vec!["almalinux 9".into()],
    })
    .await
    .unwrap();
}
