//! `POST /api/v1/reports` end to end: good reports, resubmissions, races
//! and every kind of bad input.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{gzip, start};
use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;

fn fleet() -> Fleet {
    let mut f = Fleet::new(vec![Image::debian12().unwrap()], 3);
    f.site = "SITE".into();
    f
}

#[tokio::test]
async fn a_report_is_stored_and_readable() {
    let s = start(ServerConfig::default()).await;
    let report = fleet().report(1);
    let expected = report.packages.as_ref().unwrap().len();
    let r = s
        .post(&s.ingest, Some("gzip"), gzip(&native::to_json(&report)))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["new_host"], true);
    assert_eq!(r.json["packages"], expected);
    let id = r.json["host_id"].as_i64().unwrap();

    let hosts = s.get("/api/v1/hosts?site=SITE&os=debian%2012").await;
    assert_eq!(hosts.status, StatusCode::OK);
    assert_eq!(hosts.json["total"], 1);
    assert_eq!(hosts.json["items"][0]["hostname"], "node000001.example.org");
    assert_eq!(hosts.json["items"][0]["os"], "debian 12");

    let host = s.get(&format!("/api/v1/hosts/{id}")).await;
    assert_eq!(host.json["os_release"]["version_codename"], "bookworm");
    let pkgs = s.get(&format!("/api/v1/hosts/{id}/packages")).await;
    assert_eq!(pkgs.json["count"], expected);
    let libc = pkgs.json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libc6")
        .unwrap();
    assert_eq!(libc["source_name"], "glibc");
    let reports = s.get(&format!("/api/v1/hosts/{id}/reports")).await;
    assert_eq!(reports.json["reports"][0]["sender"], "192.0.2.7");
    assert_eq!(
        reports.json["reports"][0]["user_agent"],
        "patchwatch-client/test"
    );
    assert_eq!(reports.json["reports"][0]["protocol"], "native");
}

#[tokio::test]
async fn unchanged_resubmissions_are_history_not_copies() {
    let s = start(ServerConfig::default()).await;
    let body = gzip(&native::to_json(&fleet().report(2)));
    let first = s.post(&s.ingest, Some("gzip"), body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    for _ in 0..3 {
        let again = s.post(&s.ingest, Some("gzip"), body.clone()).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.json);
        assert_eq!(again.json["packages_changed"], false);
        assert_eq!(again.json["host_id"], first.json["host_id"]);
    }
    // The same content uncompressed is recognised by content, not bytes.
    let plain = s
        .post(&s.ingest, None, native::to_json(&fleet().report(2)))
        .await;
    assert_eq!(plain.json["packages_changed"], false);
    let id = first.json["host_id"].as_i64().unwrap();
    let history = s.get(&format!("/api/v1/hosts/{id}/reports")).await;
    let reports = history.json["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 5);
    assert!(reports[..4].iter().all(|r| r["unchanged"] == true));
    assert_eq!(reports[0]["changes"]["changes"], serde_json::json!([]));
    assert_eq!(s.stored().await, (1, 5));

    // A changed host is a changed report, and its history says what moved.
    let mut changed = fleet().report(2);
    let p = changed
        .packages
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p.name == "openssl")
        .unwrap();
    p.release = "1~deb12u99".into();
    let upgraded = p.evr();
    let r = s.post(&s.ingest, None, native::to_json(&changed)).await;
    assert_eq!(r.json["packages_changed"], true);
    let history = s.get(&format!("/api/v1/hosts/{id}/reports?limit=1")).await;
    let change = &history.json["reports"][0]["changes"]["changes"][0];
    assert_eq!(change["change"], "changed");
    assert_eq!(change["name"], "openssl");
    assert_eq!(change["to"], upgraded.as_str());
    // After the change, the old body is a full report again, not a repeat.
    let back = s.post(&s.ingest, Some("gzip"), body).await;
    assert_eq!(back.json["packages_changed"], true);
}

#[tokio::test]
async fn concurrent_reports_for_one_host_make_one_host() {
    let s = start(ServerConfig::default()).await;
    let body = native::to_json(&fleet().report(4));
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let (app, token, body) = (s.app.clone(), s.ingest.clone(), body.clone());
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = Request::post("/api/v1/reports")
                    .header("Authorization", format!("Bearer {token}"))
                    .body(Body::from(body))
                    .unwrap();
                app.oneshot(req).await.unwrap().status()
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_success());
    }
    assert_eq!(s.stored().await, (1, 24));
}

#[tokio::test]
async fn credentials_are_checked() {
    let s = start(ServerConfig::default()).await;
    let body = native::to_json(&fleet().report(5));
    let cases: [(Option<String>, StatusCode, &str); 5] = [
        (
            None,
            StatusCode::UNAUTHORIZED,
            "missing Authorization header",
        ),
        (
            Some("Basic dXNlcjpwdw==".into()),
            StatusCode::UNAUTHORIZED,
            "unsupported authorization scheme",
        ),
        (
            Some("Bearer ".into()),
            StatusCode::UNAUTHORIZED,
            "empty bearer token",
        ),
        (
            Some("Bearer pwi_nope".into()),
            StatusCode::UNAUTHORIZED,
            "unknown or revoked token",
        ),
        (
            Some(format!("Bearer {}", s.api)),
            StatusCode::FORBIDDEN,
            "needs an ingest token",
        ),
    ];
    for (auth, status, message) in cases {
        let mut req = Request::post("/api/v1/reports");
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = s.send(req.body(Body::from(body.clone())).unwrap()).await;
        assert_eq!(r.status, status, "{}", r.json);
        assert!(
            r.json["error"].as_str().unwrap().contains(message),
            "{}",
            r.json
        );
    }
    // The report names SITE; a token of another site may not send it.
    let r = s.post(&s.other_ingest, None, body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.json["error"]
            .as_str()
            .unwrap()
            .contains("is for site \"OTHER\""),
        "{}",
        r.json
    );
    // Reading needs an API token.
    let req = Request::get("/api/v1/hosts")
        .header("Authorization", format!("Bearer {}", s.ingest))
        .body(Body::empty())
        .unwrap();
    assert_eq!(s.send(req).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.stored().await, (0, 0));
}

/// The bad-report corpus of the reports crate, sent over HTTP: each file is
/// refused with 400 and a message naming the problem, and nothing is stored.
#[tokio::test]
async fn the_native_bad_input_corpus_is_refused() {
    let s = start(ServerConfig::default()).await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/tests/corpus");
    let index = std::fs::read_to_string(format!("{dir}/expected.tsv")).unwrap();
    let mut checked = 0;
    for line in index.lines().filter(|l| l.starts_with("native/")) {
        let (file, expected) = line.split_once('\t').unwrap();
        let body = std::fs::read(format!("{dir}/{file}")).unwrap();
        let r = s.post(&s.ingest, None, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file}: {}", r.json);
        let msg = r.json["error"].as_str().unwrap();
        assert!(msg.contains(expected), "{file}: {msg:?} lacks {expected:?}");
        // Compressed, the same body fails the same way.
        let r = s.post(&s.ingest, Some("gzip"), gzip(&body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file} gzip: {}", r.json);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} native corpus files");
    assert_eq!(s.stored().await, (0, 0));
}

#[tokio::test]
async fn bodies_are_bounded_and_must_decode() {
    let config = ServerConfig {
        max_body_bytes: 64 * 1024,
        max_decompressed_bytes: 256 * 1024,
        ..ServerConfig::default()
    };
    let s = start(config).await;
    let json = native::to_json(&fleet().report(6));
    assert!(json.len() > 64 * 1024);
    let cases: Vec<(Option<&str>, Vec<u8>, StatusCode, &str)> = vec![
        (
            None,
            json.clone(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit of 65536 bytes",
        ),
        (
            Some("gzip"),
            gzip(&vec![b' '; 1 << 20]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "decompressed body is larger than the limit of 262144 bytes",
        ),
        (
            Some("gzip"),
            json[..1000].to_vec(),
            StatusCode::BAD_REQUEST,
            "gzip body does not decompress",
        ),
        (
            Some("gzip"),
            gzip(&json)[..2000].to_vec(),
            StatusCode::BAD_REQUEST,
            "gzip body does not decompress",
        ),
        (
            Some("zstd"),
            b"\x28\xb5\x2f\xfdjunk".to_vec(),
            StatusCode::BAD_REQUEST,
            "zstd body does not decompress",
        ),
        (
            Some("br"),
            gzip(&json),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported Content-Encoding \"br\"",
        ),
        (
            None,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "empty request body",
        ),
    ];
    for (encoding, body, status, message) in cases {
        let r = s.post(&s.ingest, encoding, body).await;
        assert_eq!(r.status, status, "{message}: {}", r.json);
        assert!(
            r.json["error"].as_str().unwrap().contains(message),
            "{}",
            r.json
        );
    }
    // Within the limits, zstd and gzip both work.
    let small = {
        let mut r = fleet().report(7);
        r.packages.as_mut().unwrap().truncate(50);
        native::to_json(&r)
    };
    let z = zstd::encode_all(&small[..], 3).unwrap();
    assert!(s.post(&s.ingest, Some("zstd"), z).await.status.is_success());
    assert_eq!(s.stored().await, (1, 1));
}

#[tokio::test]
async fn read_api_errors_are_precise() {
    let s = start(ServerConfig::default()).await;
    for (path, status, message) in [
        (
            "/api/v1/hosts/abc",
            StatusCode::BAD_REQUEST,
            "host id in the path must be an integer",
        ),
        (
            "/api/v1/hosts/999",
            StatusCode::NOT_FOUND,
            "host 999 not found",
        ),
        (
            "/api/v1/hosts/999/packages",
            StatusCode::NOT_FOUND,
            "host 999 not found",
        ),
        (
            "/api/v1/hosts?limit=abc",
            StatusCode::BAD_REQUEST,
            "invalid query string",
        ),
        (
            "/api/v1/hosts?limit=5000",
            StatusCode::BAD_REQUEST,
            "limit must be at most 1000",
        ),
        (
            "/api/v1/hosts?colour=red",
            StatusCode::BAD_REQUEST,
            "unknown field `colour`",
        ),
        (
            "/api/v2/hosts",
            StatusCode::NOT_FOUND,
            "no such endpoint: /api/v2/hosts",
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
    let ok = s.get("/healthz").await;
    assert_eq!(ok.json["status"], "ok");
    assert_eq!(ok.json["database"], "sqlite");
}

#[tokio::test]
async fn a_runaway_package_list_is_refused() {
    let config = ServerConfig {
        max_packages: 500,
        ..ServerConfig::default()
    };
    let s = start(config).await;
    let r = s
        .post(&s.ingest, None, native::to_json(&fleet().report(8)))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.json["error"],
        "the report lists 716 packages; this server accepts at most 500 (max_packages)"
    );
    assert_eq!(s.stored().await, (0, 0));
}
