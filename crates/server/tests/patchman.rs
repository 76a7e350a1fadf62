//! Patchman endpoints end to end: protocol 1 forms, protocol 2 JSON with
//! API keys, the bad-input corpora, and one host through every foreign
//! protocol.

mod common;

use axum::http::StatusCode;
use common::*;
use patchwatch_reports::patchman;

async fn post_v1(s: &TestServer, path: &str, fields: &[(String, String)]) -> RawReply {
    s.post_to(
        path,
        &[("Content-Type", &multipart_type())],
        multipart(fields),
    )
    .await
}

async fn post_v2(s: &TestServer, key: Option<&str>, body: Vec<u8>) -> RawReply {
    let auth = key.map(|k| format!("Api-Key {k}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    s.post_to("/api/report/", &headers, body).await
}

#[tokio::test]
async fn protocol_1_is_stored_with_summary_or_204() {
    let mut config = open_config();
    config.patchman_site = "LAB".into();
    let s = start_from(config, "192.0.2.7:5000").await;
    let fields = fixture_fields("patchman1.json");
    let r = post_v1(&s, "/reports/upload/", &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.content_type.starts_with("text/plain"));
    assert!(
        r.text.starts_with("Host: node1.example.org\n"),
        "{}",
        r.text
    );
    assert!(r.text.contains("Packages: 50\n"), "{}", r.text);
    assert_eq!(
        s.package_lines("node1.example.org").await,
        expected_packages()
    );
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["items"][0]["site"], "LAB");
    assert_eq!(hosts.json["items"][0]["protocol"], "patchman-1");
    let id = hosts.json["items"][0]["id"].as_i64().unwrap();
    let host = s.get(&format!("/api/v1/hosts/{id}")).await;
    assert_eq!(host.json["repositories"].as_array().unwrap().len(), 2);

    // A hook-triggered report: report=false, no packages, no repos ->
    // 204 and the host keeps its packages and repositories.
    let hook: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "report" => (k.clone(), "false".into()),
            "packages" | "repos" => (k.clone(), String::new()),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let r = post_v1(&s, "/patchman/reports/upload/", &hook).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(
        s.package_lines("node1.example.org").await,
        expected_packages()
    );
    let host = s.get(&format!("/api/v1/hosts/{id}")).await;
    assert_eq!(host.json["repositories"].as_array().unwrap().len(), 2);
    assert_eq!(s.stored().await, (1, 2));
}

#[tokio::test]
async fn protocol_1_corpus_is_refused() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    for (name, body) in corpus("patchman1") {
        let fields: Vec<(String, String)> = serde_json::from_slice(&body).unwrap();
        let r = post_v1(&s, "/reports/upload/", &fields).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "patchman1/{name}: {}",
            r.text
        );
        assert!(r.content_type.starts_with("text/plain"), "patchman1/{name}");
    }
    let r = s
        .post_to(
            "/reports/upload/",
            &[("Content-Type", "multipart/form-data")],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(r.text, "multipart/form-data without a boundary parameter\n");
    assert_eq!(s.stored().await, (0, 0));
}

#[tokio::test]
async fn protocol_2_with_api_keys() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let body = fixture("patchman2.json");

    let r = post_v2(&s, None, body.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.text.contains("missing Authorization header"),
        "{}",
        r.text
    );
    let r = post_v2(&s, Some("pwi_wrong"), body.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("unknown or revoked token"), "{}", r.text);
    let r = post_v2(&s, Some(&s.api.clone()), body.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an API token is not an ingest key"
    );
    let r = post_v2(&s, Some(""), body.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.stored().await, (0, 0));

    let r = post_v2(&s, Some(&s.ingest.clone()), body.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let json: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(json["status"], "accepted");
    assert!(json["report_id"].as_i64().unwrap() > 0);
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("node1.example.org")
    );
    assert_eq!(
        s.package_lines("node1.example.org").await,
        expected_packages()
    );
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["items"][0]["site"], "SITE", "the key's site");
    assert_eq!(hosts.json["items"][0]["protocol"], "patchman-2");
    // The /patchman prefix, and the key's owner may send from anywhere.
    let s2 = start_from(Default::default(), "203.0.113.50:1").await;
    let auth = format!("Api-Key {}", s2.ingest);
    let r = s2
        .post_to("/patchman/api/report/", &[("Authorization", &auth)], body)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
}

#[tokio::test]
async fn protocol_2_corpus_is_refused() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    for (name, body) in corpus("patchman2") {
        let r = post_v2(&s, Some(&s.ingest.clone()), body).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "patchman2/{name}: {}",
            r.text
        );
        let json: serde_json::Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(json["status"], "error", "patchman2/{name}");
        assert!(json["errors"].is_object(), "patchman2/{name}: {json}");
    }
    assert_eq!(s.stored().await, (0, 0));
}

/// The done-when criterion: one host through Pakiti 5, Pakiti 4, Patchman 1
/// and Patchman 2 yields the one package set, every time.
#[tokio::test]
async fn the_same_host_through_all_four_protocols() {
    let mut config = open_config();
    config.patchman_site = "MYSITE".into();
    let s = start_from(config, "192.0.2.7:5000").await;
    // Patchman 2's key must be for the Pakiti report's site too.
    let site = s.db.site("SITE").await.unwrap().unwrap();
    assert_eq!(site.name, "SITE");
    let mut pakiti5 = String::from_utf8(fixture("pakiti5.txt")).unwrap();
    pakiti5 = pakiti5.replace("site: MYSITE", "site: SITE");
    let mut pakiti4 = fixture_fields("pakiti4.json");
    for f in pakiti4.iter_mut().filter(|f| f.0 == "site") {
        f.1 = "SITE".into();
    }
    let expected = expected_packages();
    let mut seen = Vec::new();
    let r = s
        .post_to("/feed/?protocol=5", &[], pakiti5.into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    seen.push(("pakiti5", s.package_lines("node1.example.org").await));
    let r = s
        .post_to(
            "/feed/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            urlencode(&pakiti4),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    seen.push(("pakiti4", s.package_lines("node1.example.org").await));
    let r = post_v1(&s, "/reports/upload/", &fixture_fields("patchman1.json")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = post_v2(&s, Some(&s.ingest.clone()), fixture("patchman2.json")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    for (name, lines) in &seen {
        assert_eq!(lines, &expected, "{name}");
    }
    // Patchman 1 went to patchman_site (MYSITE), the rest to SITE.
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["total"], 2, "{}", hosts.json);
    for h in hosts.json["items"].as_array().unwrap() {
        let id = h["id"].as_i64().unwrap();
        let pkgs = s.get(&format!("/api/v1/hosts/{id}/packages")).await;
        let mut lines: Vec<String> = pkgs.json["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} {} {}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap(),
                    p["arch"].as_str().unwrap()
                )
            })
            .collect();
        lines.sort();
        assert_eq!(lines, expected, "{}", h["site"]);
    }
    let site_host = hosts.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["site"] == "SITE")
        .unwrap();
    let id = site_host["id"].as_i64().unwrap();
    let history = s.get(&format!("/api/v1/hosts/{id}/reports")).await;
    let reports = history.json["reports"].as_array().unwrap();
    let protocols: Vec<&str> = reports
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["patchman-2", "pakiti-4", "pakiti-5"]);
    assert!(
        reports[..2].iter().all(|r| r["unchanged"] == true),
        "{reports:?}"
    );
}

#[tokio::test]
async fn writers_feed_the_endpoints() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let (mut report, _) = patchman::parse_v1(&fixture_fields("patchman1.json")).unwrap();
    report.hostname = "node7.example.org".into();
    let r = post_v1(
        &s,
        "/reports/upload/",
        &patchman::to_v1_fields(&report, false),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    report.hostname = "node8.example.org".into();
    let r = post_v2(&s, Some(&s.ingest.clone()), patchman::to_v2_json(&report)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(
        s.package_lines("node7.example.org").await,
        expected_packages()
    );
    assert_eq!(
        s.package_lines("node8.example.org").await,
        expected_packages()
    );
}
