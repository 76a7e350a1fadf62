//! `GET /metrics`: what it counts, who may read it, and that Prometheus'
//! own checker (`promtool check metrics`, Debian's prometheus package)
//! accepts it. Under CI=true a missing promtool fails the test.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::start;
use http_body_util::BodyExt;
use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;
use patchwatch_store::{FeedKind, NewFeed, SyncState};
use tower::ServiceExt;

/// One OSV advisory for httpd on AlmaLinux 9 that no host has the fix
/// for: every AlmaLinux host with httpd is exposed to a high CVE.
fn httpd_advisory() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": "ALSA-2099:0001",
        "summary": "Important: httpd security update",
        "aliases": ["CVE-2099-0001"],
        "affected": [{
            "package": {"ecosystem": "AlmaLinux:9", "name": "httpd"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:99.0-1.el9"}]}],
        }],
        "database_specific": {"severity": "Important"},
    }))
    .unwrap()
}

async fn scrape(app: &axum::Router, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get("/metrics");
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The value of the sample whose line starts with `series` (name and
/// labels exactly as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn promtool_check(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "promtool is missing ({e}); .ci/deps/ops.sh installs Debian's prometheus package"
            );
            eprintln!("notice: no promtool here ({e}); the exposition format is not checked");
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn metrics_count_reports_and_describe_the_fleet() {
    let s = start(ServerConfig::default()).await;
    let db = s.db.as_ref();

    // Reading needs an API token; an ingest token is not one.
    assert_eq!(scrape(&s.app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&s.app, Some(&s.ingest)).await.0,
        StatusCode::FORBIDDEN
    );

    let alma = Image::almalinux9().unwrap();
    let mut fleet = Fleet::new(vec![alma], 3).with_drift(0);
    fleet.site = "SITE".into();
    for i in 0..3 {
        let r = s
            .post(&s.ingest, None, native::to_json(&fleet.report(i)))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }
    let refused = s.post(&s.ingest, None, b"{not json".to_vec()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    let doc = httpd_advisory();
    let feed = db
        .add_feed(&NewFeed {
            name: "alma-extra".into(),
            kind: FeedKind::Osv,
            source: "https://example.org/alma.json".into(),
            releases: String::new(),
        })
        .await
        .unwrap();
    let sha = patchwatch_vulndb::sha256_hex(&doc);
    db.import_generation(feed.id, doc, &sha, 1).await.unwrap();
    db.record_sync(
        feed.id,
        &SyncState {
            synced_at: Some(patchwatch_store::now_millis()),
            error: Some("HTTP 503 from example.org".into()),
            ..SyncState::default()
        },
    )
    .await
    .unwrap();

    let (status, content_type, text) = scrape(&s.app, Some(&s.api)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );

    let series = |name: &str| sample(&text, name);
    assert_eq!(
        series("patchwatch_reports_received_total{protocol=\"native\",outcome=\"stored\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series("patchwatch_reports_received_total{protocol=\"native\",outcome=\"refused\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series("patchwatch_reports_received_total{protocol=\"pakiti\",outcome=\"stored\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        series("patchwatch_ingest_duration_seconds_count{protocol=\"native\"}"),
        Some(4.0),
        "{text}"
    );
    assert_eq!(series("patchwatch_hosts{state=\"reporting\"}"), Some(3.0));
    assert_eq!(series("patchwatch_hosts{state=\"silent\"}"), Some(0.0));
    // Every host has httpd and none the fix: three high exposures.
    assert_eq!(
        series("patchwatch_findings{severity=\"high\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series("patchwatch_findings{severity=\"critical\"}"),
        Some(0.0)
    );
    assert_eq!(
        series("patchwatch_feed_last_sync_failed{feed=\"alma-extra\"}"),
        Some(1.0)
    );
    assert_eq!(
        series("patchwatch_feed_advisories{feed=\"alma-extra\"}"),
        Some(1.0)
    );
    let age = series("patchwatch_feed_age_seconds{feed=\"alma-extra\"}").unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
    assert!(
        series("patchwatch_assessment_last_duration_seconds").is_some(),
        "{text}"
    );

    promtool_check(&text);
}

#[tokio::test]
async fn metrics_listen_serves_them_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let db: std::sync::Arc<dyn patchwatch_store::Database> = std::sync::Arc::new(
        patchwatch_store_sqlite::SqliteStore::open(dir.path().join("m.sqlite")).unwrap(),
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = ServerConfig {
        metrics_listen: Some(format!("127.0.0.1:{port}")),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(patchwatch_server::serve(listener, db, config, async {
        let _ = stopped.await;
    }));
    // Plain HTTP/1.1 by hand: the test needs no HTTP client.
    let mut answer = String::new();
    for _ in 0..50 {
        if let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            c.read_to_string(&mut answer).await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    let _ = server.await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("patchwatch_hosts{state=\"reporting\"} 0"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    promtool_check(body);
}
