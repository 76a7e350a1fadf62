//! Who may report: source networks, trusted proxies, sites, and client
//! certificates over a real TLS connection.

mod common;

use std::process::Command;
use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use patchwatch_server::config::{TlsConfig, UnknownSites};
use patchwatch_server::policy::{CertificateRule, HostnameCheck};
use patchwatch_server::{Server, ServerConfig};
use patchwatch_store::Database;
use patchwatch_store_sqlite::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pakiti_body(host: &str, site: &str) -> Vec<u8> {
    String::from_utf8(fixture("pakiti5.txt"))
        .unwrap()
        .replace("host: node1.example.org", &format!("host: {host}"))
        .replace("site: MYSITE", &format!("site: {site}"))
        .into_bytes()
}

#[tokio::test]
async fn default_allows_loopback_only() {
    // The mock peer 192.0.2.7 is not loopback.
    let s = start_from(ServerConfig::default(), "192.0.2.7:5000").await;
    let r = s.post_to("/feed/", &[], fixture("pakiti5.txt")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.text,
        "reports without credentials are not accepted from 192.0.2.7; this server accepts them \
         from 127.0.0.0/8, ::1/128 ([server.sources] networks)\n"
    );
    let fields = fixture_fields("patchman1.json");
    let r = s
        .post_to(
            "/reports/upload/",
            &[("Content-Type", &multipart_type())],
            multipart(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // An ingest token lets a forwarding proxy in from anywhere, into its site.
    let auth = format!("Bearer {}", s.ingest);
    let r = s
        .post_to(
            "/feed/",
            &[("Authorization", &auth)],
            pakiti_body("a.example.org", "SITE"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .post_to(
            "/feed/",
            &[("Authorization", &auth)],
            pakiti_body("b.example.org", "OTHER"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text
            .contains("names site \"OTHER\" but its credentials are for site \"SITE\""),
        "{}",
        r.text
    );
    let r = s
        .post_to(
            "/feed/",
            &[("Authorization", "Bearer pwi_nope")],
            fixture("pakiti5.txt"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(s.stored().await, (1, 1));

    // From loopback, the host's own name resolves to loopback: accepted.
    let config = ServerConfig {
        unknown_sites: UnknownSites::Create,
        ..ServerConfig::default()
    };
    let s = start_from(config, "127.0.0.1:5000").await;
    let r = s
        .post_to("/feed/", &[], pakiti_body("localhost", "LOCAL"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // ...but it names another host, which needs a proxy.
    let r = s
        .post_to("/feed/", &[], pakiti_body("elsewhere.invalid", "LOCAL"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text
            .contains("elsewhere.invalid, which does not resolve to the sender 127.0.0.1"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn trusted_proxies() {
    let mut config = open_config();
    config.sources.hostname_check = HostnameCheck::Dns;
    config.sources.trusted_proxies = vec!["192.0.2.7".parse().unwrap()];
    let s = start_from(config.clone(), "192.0.2.7:5000").await;
    // A proxy reports other hosts, proxy=1 or not.
    let mut fields = fixture_fields("pakiti4.json");
    for f in fields.iter_mut().filter(|f| f.0 == "proxy") {
        f.1 = "1".into();
    }
    let r = s
        .post_to(
            "/feed/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            urlencode(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .post_to("/feed/", &[], pakiti_body("other.invalid", "MYSITE"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Behind it, the forwarded client is the sender, with no proxy rights.
    let r = s
        .post_to(
            "/feed/",
            &[("X-Forwarded-For", "192.0.2.99")],
            pakiti_body("third.invalid", "MYSITE"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text.contains("does not resolve to the sender 192.0.2.99"),
        "{}",
        r.text
    );
    let r = s
        .post_to(
            "/feed/",
            &[("X-Forwarded-For", "198.51.100.3")],
            pakiti_body("third.invalid", "MYSITE"),
        )
        .await;
    assert!(
        r.text.contains("not accepted from 198.51.100.3"),
        "{}",
        r.text
    );
    let r = s
        .post_to(
            "/feed/",
            &[("X-Forwarded-For", "192.0.2.99")],
            pakiti_body("192.0.2.99", "MYSITE"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hosts = s.get("/api/v1/hosts?limit=10").await;
    let ip_host = hosts.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hostname"] == "192.0.2.99")
        .unwrap();
    let id = ip_host["id"].as_i64().unwrap();
    let reports = s.get(&format!("/api/v1/hosts/{id}/reports")).await;
    assert_eq!(reports.json["reports"][0]["sender"], "192.0.2.99");
    assert_eq!(s.stored().await, (3, 3));

    // Not a proxy: proxy=1 is refused outright.
    config.sources.trusted_proxies.clear();
    let s = start_from(config, "192.0.2.7:5000").await;
    let r = s
        .post_to(
            "/feed/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            urlencode(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text
            .contains("proxy=1 but 192.0.2.7 is not a trusted proxy"),
        "{}",
        r.text
    );
    assert_eq!(s.stored().await, (0, 0));
}

#[tokio::test]
async fn unknown_sites_are_refused_or_created() {
    let mut config = open_config();
    config.unknown_sites = UnknownSites::Refuse;
    let s = start_from(config.clone(), "192.0.2.7:5000").await;
    let r = s.post_to("/feed/", &[], fixture("pakiti5.txt")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text
            .starts_with("site \"MYSITE\" is not known to this server"),
        "{}",
        r.text
    );
    let r = s
        .post_to("/feed/", &[], pakiti_body("node1.example.org", "SITE"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "an existing site: {}", r.text);
    let r = s
        .post_to(
            "/reports/upload/",
            &[("Content-Type", &multipart_type())],
            multipart(&fixture_fields("patchman1.json")),
        )
        .await;
    assert!(
        r.text.contains("site \"default\" is not known"),
        "{}",
        r.text
    );
    assert_eq!(s.stored().await, (1, 1));

    config.unknown_sites = UnknownSites::Create;
    let s = start_from(config, "192.0.2.7:5000").await;
    let r = s.post_to("/feed/", &[], fixture("pakiti5.txt")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(s.db.site("MYSITE").await.unwrap().is_some());
    let r = s
        .post_to("/feed/", &[], pakiti_body("node1.example.org", "bad/name"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("site name \"bad/name\" is not valid"),
        "{}",
        r.text
    );
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

/// A CA, a server certificate for 127.0.0.1 and two client certificates.
fn pki(d: &std::path::Path) {
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
            "/CN=Test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    std::fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, subject, ext) in [
        ("server", "/CN=localhost", "server.ext"),
        ("node1", "/O=Example/CN=node1.example.org", "client.ext"),
        ("proxy", "/CN=proxy.example.org", "client.ext"),
    ] {
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                subject,
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
}

/// One HTTP/1.1 request over TLS, with an optional client certificate.
async fn https_post(
    port: u16,
    d: &std::path::Path,
    client: Option<&str>,
    path: &str,
    extra: &str,
    body: &[u8],
) -> (u16, String) {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(d.join("ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(name) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(d.join(format!("{name}.pem"))).unwrap()],
                PrivateKeyDer::from_pem_file(d.join(format!("{name}.key"))).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut tls = connector
        .connect(
            ServerName::IpAddress("127.0.0.1".parse::<std::net::IpAddr>().unwrap().into()),
            tcp,
        )
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn client_certificates_over_real_tls() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    pki(d);
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(d.join("t.sqlite")).unwrap());
    let site = db.create_site("CERTSITE").await.unwrap();
    let token = patchwatch_store::NewToken::generate(
        "t",
        patchwatch_store::TokenKind::Ingest,
        Some(site.id),
    );
    db.add_token(&token).await.unwrap();
    let mut config = ServerConfig::default();
    // Loopback may not report without credentials here: only certificates.
    config.sources.networks.clear();
    config.sources.certificates = vec![
        CertificateRule {
            subject: "CN=node1.example.org,O=Example".into(),
            site: Some("CERTSITE".into()),
            proxy: false,
        },
        CertificateRule {
            subject: "CN=proxy.example.org".into(),
            site: Some("CERTSITE".into()),
            proxy: true,
        },
    ];
    config.tls = Some(TlsConfig {
        cert: d.join("server.pem"),
        key: d.join("server.key"),
        client_ca: Some(d.join("ca.pem")),
    });
    let server = Server::new(db.clone(), config).unwrap();
    assert!(server.tls());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));

    let own = pakiti_body("node1.example.org", "CERTSITE");
    let (status, body) = https_post(port, d, Some("node1"), "/feed/?protocol=5", "", &own).await;
    assert_eq!((status, body.as_str()), (200, "OK\n"));
    let (status, body) = https_post(
        port,
        d,
        Some("node1"),
        "/feed/",
        "",
        &pakiti_body("node2.example.org", "CERTSITE"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body.contains("the client certificate names \"node1.example.org\""),
        "{body}"
    );
    let (status, body) = https_post(
        port,
        d,
        Some("node1"),
        "/feed/",
        "",
        &pakiti_body("node1.example.org", "ELSEWHERE"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = https_post(
        port,
        d,
        Some("proxy"),
        "/feed/",
        "",
        &pakiti_body("node2.example.org", "CERTSITE"),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "OK\n"));
    // Without a certificate: refused, but a token client still works.
    let (status, body) = https_post(port, d, None, "/feed/", "", &own).await;
    assert_eq!(status, 403);
    assert!(body.contains("not accepted from 127.0.0.1"), "{body}");
    let auth = format!("Authorization: Api-Key {}\r\n", token.secret);
    let (status, body) = https_post(
        port,
        d,
        None,
        "/api/report/",
        &auth,
        &fixture("patchman2.json"),
    )
    .await;
    assert_eq!(status, 202, "{body}");

    let hosts = db.hosts(&Default::default()).await.unwrap();
    let mut names: Vec<&str> = hosts.items.iter().map(|h| h.hostname.as_str()).collect();
    names.sort();
    assert_eq!(names, ["node1.example.org", "node2.example.org"]);
    assert!(hosts.items.iter().all(|h| h.site == "CERTSITE"));
    let _ = stop.send(());
    running.await.unwrap().unwrap();
}
