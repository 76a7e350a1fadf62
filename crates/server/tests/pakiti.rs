//! Pakiti endpoints end to end: protocol 5 raw bodies, protocol 4 forms,
//! modes, encryption, limits and the bad-input corpus.

mod common;

use std::process::Command;
use std::time::Instant;

use axum::http::StatusCode;
use common::*;
use patchwatch_reports::pakiti::{self, Mode};
use patchwatch_server::ServerConfig;

const URLENCODED: &str = "application/x-www-form-urlencoded";

async fn post_v5(s: &TestServer, query: &str, body: Vec<u8>) -> RawReply {
    // pakiti-client labels its raw body as a form; it must not be decoded.
    s.post_to(
        &format!("/feed/{query}"),
        &[("Content-Type", URLENCODED)],
        body,
    )
    .await
}

#[tokio::test]
async fn protocol_5_is_stored_and_readable() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let r = post_v5(&s, "?protocol=5", fixture("pakiti5.txt")).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "OK\n"));
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    assert_eq!(
        s.package_lines("node1.example.org").await,
        expected_packages()
    );
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["items"][0]["site"], "MYSITE");
    assert_eq!(hosts.json["items"][0]["os"], "debian 12");
    assert_eq!(hosts.json["items"][0]["protocol"], "pakiti-5");
    let id = hosts.json["items"][0]["id"].as_i64().unwrap();
    let reports = s.get(&format!("/api/v1/hosts/{id}/reports")).await;
    assert_eq!(reports.json["reports"][0]["sender"], "192.0.2.7");
}

#[tokio::test]
async fn old_clients_other_paths_and_gzip() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    // 3.0.1 sends no query string and no content type.
    let r = s.post_to("/feed/", &[], fixture("pakiti5.txt")).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "OK\n"));
    let r = s
        .post_to(
            "/pakiti/feed",
            &[
                ("Content-Type", "application/octet-stream"),
                ("Content-Encoding", "gzip"),
            ],
            gzip(&fixture("pakiti5.txt")),
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::OK, "OK\n"),
        "{}",
        r.text
    );
    assert_eq!(s.stored().await, (1, 2));

    let mut config = open_config();
    config.pakiti_paths = vec!["/custom/feed/".into()];
    let s = start_from(config, "192.0.2.7:5000").await;
    let r = s
        .post_to("/custom/feed/", &[], fixture("pakiti5.txt"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        s.post_to("/feed/", &[], fixture("pakiti5.txt"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn protocol_4_urlencoded_and_multipart() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let fields = fixture_fields("pakiti4.json");
    let r = s
        .post_to(
            "/feed/",
            &[("Content-Type", URLENCODED)],
            urlencode(&fields),
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::OK, "OK\n"),
        "{}",
        r.text
    );
    let r = s
        .post_to(
            "/feed/?protocol=4",
            &[("Content-Type", &multipart_type())],
            multipart(&fields),
        )
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::OK, "OK\n"),
        "{}",
        r.text
    );
    assert_eq!(
        s.package_lines("node1.example.org").await,
        expected_packages()
    );
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["items"][0]["protocol"], "pakiti-4");
    assert_eq!(s.stored().await, (1, 2));
}

#[tokio::test]
async fn modes() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    for query in ["?protocol=5&mode=report-only", "?report=2"] {
        let r = post_v5(&s, query, fixture("pakiti5.txt")).await;
        assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "OK\n"));
    }
    let mut fields = fixture_fields("pakiti4.json");
    for f in fields.iter_mut().filter(|f| f.0 == "report") {
        f.1 = "2".into();
    }
    let r = s
        .post_to(
            "/feed/",
            &[("Content-Type", URLENCODED)],
            urlencode(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(s.stored().await, (0, 0), "report-only stores nothing");

    let r = post_v5(
        &s,
        "?mode=store-and-report&protocol=5",
        fixture("pakiti5.txt"),
    )
    .await;
    // No feed is imported: no CVE is tagged, the reply is exactly `OK\n`.
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "OK\n"));
    assert_eq!(s.stored().await, (1, 1));
    let r = post_v5(&s, "?mode=loud", fixture("pakiti5.txt")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.starts_with("mode: unknown value `loud`"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn every_corpus_file_is_refused_and_nothing_stored() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    for (name, body) in corpus("pakiti5") {
        let r = post_v5(&s, "?protocol=5", body).await;
        assert!(
            r.status.is_client_error(),
            "pakiti5/{name}: {} {}",
            r.status,
            r.text
        );
        assert!(
            r.text.len() > 10 && r.text.ends_with('\n'),
            "pakiti5/{name}: {:?}",
            r.text
        );
    }
    for (name, body) in corpus("pakiti4") {
        let fields: Vec<(String, String)> = serde_json::from_slice(&body).unwrap();
        for (ct, body) in [
            (URLENCODED.to_owned(), urlencode(&fields)),
            (multipart_type(), multipart(&fields)),
        ] {
            let r = s
                .post_to("/feed/?protocol=4", &[("Content-Type", &ct)], body)
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "pakiti4/{name}: {}",
                r.text
            );
        }
    }
    // A truncated multipart body, and an empty one.
    let mut cut = multipart(&fixture_fields("pakiti4.json"));
    cut.truncate(cut.len() / 2);
    let r = s
        .post_to("/feed/", &[("Content-Type", &multipart_type())], cut)
        .await;
    assert!(r.text.contains("truncated body?"), "{}", r.text);
    let r = post_v5(&s, "", Vec::new()).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::BAD_REQUEST, "empty request body\n")
    );
    assert_eq!(s.stored().await, (0, 0));
}

#[tokio::test]
async fn oversize_and_huge_bodies() {
    let mut config = open_config();
    config.max_body_bytes = 1000;
    let s = start_from(config, "192.0.2.7:5000").await;
    let r = post_v5(&s, "", fixture("pakiti5.txt")).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.text,
        "request body is larger than the limit of 1000 bytes\n"
    );
    assert_eq!(s.stored().await, (0, 0));

    // 100,000 packages (about 4 MB): within the byte limits, over the
    // package limit, so refused by default and nothing stored...
    let mut body = String::from(
        "#\narch: x86_64\nhost: big.example.org\npackager: rpm\nsite: BIG\n\
         system: Rocky Linux release 9.3 (Blue Onyx)\n#\n",
    );
    for i in 0..100_000 {
        body.push_str(&format!("pkg{i:06}\t0:1.{i}-1.el9\tx86_64\n"));
    }
    body.push_str("#\n");
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let r = post_v5(&s, "?protocol=5", body.clone().into_bytes()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(
        r.text,
        "the report lists 100000 packages; this server accepts at most 50000 (max_packages)\n"
    );
    assert_eq!(s.stored().await, (0, 0));
    let r = post_v5(
        &s,
        "?protocol=5&mode=report-only",
        body.clone().into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);

    // ...and stored when the administrator raises the limit.
    let mut config = open_config();
    config.max_packages = 200_000;
    let s = start_from(config, "192.0.2.7:5000").await;
    let started = Instant::now();
    let r = post_v5(&s, "?protocol=5", body.into_bytes()).await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    eprintln!("100,000-package Pakiti report stored in {took:?}");
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["items"][0]["packages"], 100_000);
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn encrypted_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in ["server", "other"] {
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=pakiti-{name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    std::fs::write(d.join("report.txt"), fixture("pakiti5.txt")).unwrap();
    openssl(
        d,
        &[
            "smime",
            "-encrypt",
            "-binary",
            "-aes-256-cbc",
            "-outform",
            "DER",
            "-in",
            "report.txt",
            "-out",
            "report.der",
            "server.pem",
        ],
    );
    let encrypted = std::fs::read(d.join("report.der")).unwrap();
    assert_eq!(encrypted[0], 0x30);

    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let r = post_v5(&s, "?protocol=5", encrypted.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("this server has no key to decrypt it"),
        "{}",
        r.text
    );

    let mut config = open_config();
    config.pakiti_key = Some(d.join("other.key"));
    let s = start_from(config, "192.0.2.7:5000").await;
    let started = std::time::Instant::now();
    let r = post_v5(&s, "?protocol=5", encrypted.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The wrong key's RSA step yields a wrong content key (implicit
    // rejection); about once in 256 runs that key's AES padding happens to
    // check out and the refusal names the garbage it decrypted to instead.
    assert!(
        r.text.contains("cannot decrypt it") || r.text.contains("not valid UTF-8"),
        "{}",
        r.text
    );
    // Refusals of encrypted reports are answered at one fixed moment
    // (RUSTSEC-2023-0071: RSA decryption time must not be observable).
    assert!(
        started.elapsed() >= patchwatch_server::api::pakiti::DECRYPTION_FAILURE_REPLY_AFTER,
        "answered after {:?}",
        started.elapsed()
    );
    let mut corrupt = encrypted.clone();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let started = std::time::Instant::now();
    let r = post_v5(&s, "?protocol=5", corrupt).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        started.elapsed() >= patchwatch_server::api::pakiti::DECRYPTION_FAILURE_REPLY_AFTER,
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(s.stored().await, (0, 0));

    let mut config = open_config();
    config.pakiti_key = Some(d.join("server.key"));
    config.pakiti_cert = Some(d.join("server.pem"));
    let s = start_from(config, "192.0.2.7:5000").await;
    let r = post_v5(&s, "?protocol=5", encrypted).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::OK, "OK\n"),
        "{}",
        r.text
    );
    assert_eq!(
        s.package_lines("node1.example.org").await,
        expected_packages()
    );

    // A key that doesn't fit its certificate stops the server at start.
    let config = ServerConfig {
        pakiti_key: Some(d.join("server.key")),
        pakiti_cert: Some(d.join("other.pem")),
        ..ServerConfig::default()
    };
    let db = std::sync::Arc::new(
        patchwatch_store_sqlite::SqliteStore::open(d.join("x.sqlite")).unwrap(),
    );
    let err = patchwatch_server::AppState::load(db, config)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not belong to the private key"), "{err}");
}

#[tokio::test]
async fn writers_feed_the_endpoint() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let mut report = pakiti::parse_v5(&fixture("pakiti5.txt")).unwrap();
    report.hostname = "node2.example.org".into();
    let r = post_v5(&s, "", pakiti::to_v5(&report).into_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    report.hostname = "node3.example.org".into();
    let fields = pakiti::to_v4_fields(&report, Mode::StoreOnly, false);
    let r = s
        .post_to(
            "/feed/",
            &[("Content-Type", URLENCODED)],
            urlencode(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        s.package_lines("node2.example.org").await,
        expected_packages()
    );
    assert_eq!(
        s.package_lines("node3.example.org").await,
        expected_packages()
    );
}
