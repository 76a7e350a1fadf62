//! The vulnerability endpoints on the real AlmaLinux OSV database.

mod common;

use axum::http::StatusCode;
use common::start;
use patchwatch_assess::OsGroups;
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;
use patchwatch_server::vulns::VulnIndex;
use patchwatch_store::{FeedKind, NewAssignment, NewFeed, now_millis};
use patchwatch_vulndb::{TagWanted, Triage};

async fn import(s: &common::TestServer, name: &str, kind: FeedKind, rel: &str) {
    let doc = std::fs::read(shared_data_dir().join(rel)).unwrap();
    let advisories = patchwatch_vulndb::parse_document(kind, name, &doc, |_| {}).unwrap();
    let feed =
        s.db.add_feed(&NewFeed {
            name: name.into(),
            kind,
            source: rel.into(),
            releases: String::new(),
        })
        .await
        .unwrap();
    let sha = patchwatch_vulndb::sha256_hex(&doc);
    s.db.import_generation(feed.id, doc, &sha, advisories as i64)
        .await
        .unwrap();
}

#[tokio::test]
async fn findings_per_host_and_per_cve() {
    let s = start(ServerConfig::default()).await;
    let fleet = Fleet::exact(Image::almalinux9().unwrap(), "SITE");
    let r = s
        .post(&s.ingest, None, native::to_json(&fleet.report(0)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["host_id"].as_i64().unwrap();

    // Before any feed: nothing known, and the answer says so.
    let none = s.get(&format!("/api/v1/hosts/{id}/vulnerabilities")).await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.json);
    assert_eq!(
        (none.json["feeds"].as_u64(), none.json["covered"].as_bool()),
        (Some(0), Some(false))
    );

    import(
        &s,
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let v = s.get(&format!("/api/v1/hosts/{id}/vulnerabilities")).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    assert_eq!(v.json["covered"], true);
    assert_eq!(v.json["os"], "almalinux 9.5");
    let findings = v.json["findings"].as_array().unwrap();
    assert!(findings.len() > 100, "{}", findings.len());
    let f = findings
        .iter()
        .find(|f| f["cve"] == "CVE-2024-12797" && f["package"] == "openssl-libs")
        .expect("CVE-2024-12797 in openssl-libs");
    assert_eq!(f["advisory"], "ALSA-2025:1330");
    assert_eq!(f["installed"], "1:3.2.2-6.el9_5");
    assert_eq!(f["fixed"], "1:3.2.2-6.el9_5.1");
    assert_eq!(f["feed"], "alma");
    assert!(
        f["explanation"]
            .as_str()
            .unwrap()
            .contains("(rpm ordering)")
    );

    let list = s.get("/api/v1/cves?site=SITE").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    let cve = list.json["cves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cve"] == "CVE-2024-12797")
        .expect("listed");
    assert_eq!(cve["hosts"], 1);
    assert!(
        cve["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "openssl-libs")
    );

    let show = s.get("/api/v1/cves/cve-2024-12797").await;
    assert_eq!(show.status, StatusCode::OK, "{}", show.json);
    assert_eq!(show.json["cve"], "CVE-2024-12797");
    assert!(
        show.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["hostname"] == "node000000.example.org" && f["site"] == "SITE")
    );

    for (path, status, message) in [
        (
            "/api/v1/cves/CVE-2024-1",
            StatusCode::BAD_REQUEST,
            "malformed CVE id",
        ),
        (
            "/api/v1/cves/CVE-1999-99999",
            StatusCode::NOT_FOUND,
            "no host is exposed to CVE-1999-99999",
        ),
        (
            "/api/v1/cves?site=NOPE",
            StatusCode::NOT_FOUND,
            "site \"NOPE\" not found",
        ),
        (
            "/api/v1/hosts/999/vulnerabilities",
            StatusCode::NOT_FOUND,
            "host 999 not found",
        ),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, status, "{path}: {}", r.json);
        assert!(
            r.json["error"].as_str().unwrap().contains(message),
            "{path}: {}",
            r.json
        );
    }

    // A new import is picked up without a restart.
    import(
        &s,
        "deb",
        FeedKind::DebianTracker,
        "debian/tracker-json/vunnel_tracker_debian.json",
    )
    .await;
    let again = s.get(&format!("/api/v1/hosts/{id}/vulnerabilities")).await;
    assert_eq!(again.json["feeds"], 2);
}

/// The CVE views read the hosts on every request: a report stored just
/// before a request counts in it, and a deleted host is gone from the next.
#[tokio::test]
async fn cve_views_follow_new_reports_and_deleted_hosts() {
    let s = start(ServerConfig::default()).await;
    import(
        &s,
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let mut fleet = Fleet::exact(Image::almalinux9().unwrap(), "SITE");
    let hosts_of = |list: &serde_json::Value, cve: &str| {
        list["cves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cve"] == cve)
            .map_or(0, |c| c["hosts"].as_u64().unwrap())
    };
    let openssl = "CVE-2024-12797";
    let r = s
        .post(&s.ingest, None, native::to_json(&fleet.report(0)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let first = r.json["host_id"].as_i64().unwrap();
    assert_eq!(hosts_of(&s.get("/api/v1/cves").await.json, openssl), 1);

    // Stored, then asked at once (the background assessor has not run).
    fleet.site = "OTHER".into();
    let r = s
        .post(&s.other_ingest, None, native::to_json(&fleet.report(1)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(hosts_of(&s.get("/api/v1/cves").await.json, openssl), 2);
    assert_eq!(
        hosts_of(&s.get("/api/v1/cves?site=OTHER").await.json, openssl),
        1
    );
    assert_eq!(
        hosts_of(&s.get("/api/v1/cves?site=SITE").await.json, openssl),
        1
    );

    // The hosts filters' views, kept by an index of their own: served
    // again only while the assessment, the host keys and the triage are
    // what they were computed from.
    let index = VulnIndex::new(OsGroups::default());
    let db = s.db.as_ref();
    let triage = || async { Triage::load(db, now_millis()).await.unwrap() };
    let every = |_: i64| true;
    let urgent = Some(TagWanted::Named("urgent"));
    let second = r.json["host_id"].as_i64().unwrap();
    let exposed = |found: std::sync::Arc<Vec<i64>>| found.to_vec();
    let before = triage().await;
    for _ in 0..2 {
        let all = index.hosts_exposed(db, every, Some(openssl), None, &before);
        assert_eq!(exposed(all.await.unwrap()), vec![first, second]);
        let tagged = index.hosts_exposed(db, every, None, urgent, &before);
        assert_eq!(exposed(tagged.await.unwrap()), Vec::<i64>::new());
    }
    // A new tag on the CVE: a new triage, another answer.
    s.db.add_tag("urgent", "this week").await.unwrap();
    s.db.assign_tag(&NewAssignment {
        cve: openssl.into(),
        tag: "urgent".into(),
        reason: "exploited".into(),
        author: "test".into(),
    })
    .await
    .unwrap();
    let after = triage().await;
    let tagged = index.hosts_exposed(db, every, None, urgent, &after);
    assert_eq!(exposed(tagged.await.unwrap()), vec![first, second]);
    let found = index.cve_hosts(db, every, openssl, &after).await.unwrap();
    assert_eq!(
        (found.exposed.clone(), found.excepted.len()),
        (vec![first, second], 0)
    );

    assert!(s.db.delete_host(first).await.unwrap());
    // Moved host keys: the kept answers are not served again.
    let tagged = index.hosts_exposed(db, every, None, urgent, &after);
    assert_eq!(exposed(tagged.await.unwrap()), vec![second]);
    let found = index.cve_hosts(db, every, openssl, &after).await.unwrap();
    assert_eq!(found.exposed, vec![second]);
    assert_eq!(hosts_of(&s.get("/api/v1/cves").await.json, openssl), 1);
    let site = s.get("/api/v1/cves?site=SITE").await;
    assert_eq!(site.status, StatusCode::OK, "{}", site.json);
    assert_eq!(site.json["count"], 0, "{}", site.json);
}
