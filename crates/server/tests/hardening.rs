//! What a hostile client can do to the server: hold connections open, send
//! headers or bodies slowly, send huge field lists, control characters and
//! look-alike hostnames. Each test reproduces a probe of issue 10 against a
//! real listening server or the router.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{gzip, start};
use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::native;
use patchwatch_server::{Server, ServerConfig};
use patchwatch_store::Database;
use patchwatch_store_sqlite::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Running {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn listen(config: ServerConfig) -> Running {
    let dir = tempfile::tempdir().unwrap().keep();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.join("t.sqlite")).unwrap());
    let server = Server::new(db, config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    Running {
        port,
        stop: Some(stop),
    }
}

/// Reads until the server closes the connection (or `within` passes:
/// `None`), returning what it sent.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

async fn healthz(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    read_until_closed(&mut s, Duration::from_secs(20))
        .await
        .expect("healthz answered")
}

fn short_timeouts() -> ServerConfig {
    ServerConfig {
        header_timeout_seconds: 1,
        body_timeout_seconds: 1,
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_requests_are_cut_off() {
    let server = listen(short_timeouts()).await;
    let connect = || TcpStream::connect(("127.0.0.1", server.port));

    // Connects and sends nothing: closed after the header timeout.
    let mut idle = connect().await.unwrap();
    // Sends half a request head, then stalls.
    let mut half_head = connect().await.unwrap();
    half_head
        .write_all(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Len")
        .await
        .unwrap();
    // Sends a whole head announcing 1,000 bytes, then 10 of them.
    let mut half_body = connect().await.unwrap();
    half_body
        .write_all(
            b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
        )
        .await
        .unwrap();
    // One request answered, then kept alive and left idle.
    let mut kept_alive = connect().await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let started = Instant::now();
    let limit = Duration::from_secs(6);
    assert!(
        read_until_closed(&mut idle, limit).await.is_some(),
        "an idle connection stayed open"
    );
    assert!(
        read_until_closed(&mut half_head, limit).await.is_some(),
        "a connection with half a request head stayed open"
    );
    let reply = read_until_closed(&mut half_body, limit)
        .await
        .expect("a connection with half a body stayed open");
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        reply.contains("within 1 s (body_timeout_seconds)"),
        "{reply}"
    );
    let reply = read_until_closed(&mut kept_alive, limit)
        .await
        .expect("an idle kept-alive connection stayed open");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    eprintln!(
        "idle, half-head, half-body and kept-alive connections all closed within {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
}

/// At the connection cap, a further client waits in the accept queue until
/// a slot frees (here: idle connections reaching the header timeout), and
/// is then served; the server never holds more than the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let server = listen(ServerConfig {
        max_connections: 4,
        header_timeout_seconds: 2,
        ..ServerConfig::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(
            TcpStream::connect(("127.0.0.1", server.port))
                .await
                .unwrap(),
        );
    }
    // Let the server accept those four first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let reply = healthz(server.port).await;
    let waited = started.elapsed();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    eprintln!("at the cap of 4 busy connections, a fifth was served after {waited:?}");
    assert!(
        waited >= Duration::from_millis(1200),
        "answered after {waited:?}: the cap of 4 connections did not hold"
    );
    assert!(
        waited < Duration::from_secs(10),
        "answered after {waited:?}"
    );
    // More idle clients than the cap (as with 1,100 against an fd limit of
    // 1,024) only delay others until the timeout frees slots: the queue
    // drains `max_connections` per header timeout.
    for _ in 0..8 {
        idle.push(
            TcpStream::connect(("127.0.0.1", server.port))
                .await
                .unwrap(),
        );
    }
    let reply = healthz(server.port).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[test]
fn the_limits_are_announced_and_zero_is_refused() {
    let line = short_timeouts().describe_limits();
    assert!(line.contains("512 connections at once"), "{line}");
    assert!(line.contains("request headers within 1 s"), "{line}");
    assert!(line.contains("bodies within 1 s"), "{line}");
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.path().join("t.sqlite")).unwrap());
    let config = ServerConfig {
        max_connections: 0,
        ..ServerConfig::default()
    };
    let Err(e) = Server::new(db, config) else {
        panic!("a server without connections started");
    };
    assert_eq!(e.to_string(), "[server] max_connections must be at least 1");
}

fn report_with(mutate: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut f = Fleet::new(vec![Image::debian12().unwrap()], 1);
    f.site = "SITE".into();
    let mut json: serde_json::Value =
        serde_json::from_slice(&native::to_json(&f.report(1))).unwrap();
    mutate(&mut json);
    serde_json::to_vec(&json).unwrap()
}

/// The probe: one gzip report of 100,000 tags was stored whole (1 GB) and
/// blocked ingest for seconds. Now it is refused, naming the limit, and
/// nothing of it is stored.
#[tokio::test]
async fn a_report_with_100000_tags_is_refused_naming_the_limit() {
    let s = start(ServerConfig::default()).await;
    let body = report_with(|r| {
        r["tags"] = (0..100_000).map(|i| format!("tag{i}")).collect();
    });
    let started = Instant::now();
    let r = s.post(&s.ingest, Some("gzip"), gzip(&body)).await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert_eq!(
        r.json["error"],
        "tags: has 100000 entries; at most 64 allowed"
    );
    let took = started.elapsed();
    eprintln!("100,000 tags refused in {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(s.stored().await.0, 0);
}

#[tokio::test]
async fn terminal_escapes_are_refused_at_ingest() {
    let s = start(ServerConfig::default()).await;
    for (field, mutate) in [
        (
            "os.pretty_name",
            (|r: &mut serde_json::Value| {
                r["os"]["pretty_name"] = "Debian\u{1b}]0;owned\u{7}".into()
            }) as fn(&mut serde_json::Value),
        ),
        ("kernel.version", |r| {
            r["kernel"]["version"] = "#1 SMP\u{7}".into()
        }),
        ("client.name", |r| r["client"]["name"] = "x\u{1b}[2J".into()),
        (
            "reboot.reasons[0]",
            |r| r["reboot"] = serde_json::json!({"required": true, "reasons": ["\u{1b}[31m"]}),
        ),
    ] {
        let r = s.post(&s.ingest, None, report_with(mutate)).await;
        assert_eq!(r.status, 400, "{field}: {}", r.json);
        let message = r.json["error"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{field}: contains a control character")),
            "{field}: {message}"
        );
    }
    assert_eq!(s.stored().await.0, 0);
}

/// `web1.example.org.` and `WEB1.example.org` are the host that
/// `web1.example.org` is; a Cyrillic look-alike or a zero-width space is
/// refused rather than made a second host.
#[tokio::test]
async fn hostnames_are_normalised_and_look_alikes_refused() {
    let s = start(ServerConfig::default()).await;
    let mut ids = Vec::new();
    for name in ["web1.example.org", "web1.example.org.", "WEB1.Example.ORG"] {
        let r = s
            .post(
                &s.ingest,
                None,
                report_with(|r| r["hostname"] = name.into()),
            )
            .await;
        assert!(r.status.is_success(), "{name}: {}", r.json);
        ids.push(r.json["host_id"].as_i64().unwrap());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.json["total"], 1, "{}", hosts.json);
    assert_eq!(hosts.json["items"][0]["hostname"], "web1.example.org");
    for evil in [
        "web1.ex\u{0430}mple.org",
        "web1\u{200b}.example.org",
        "web1.\u{202e}gro",
    ] {
        let r = s
            .post(
                &s.ingest,
                None,
                report_with(|r| r["hostname"] = evil.into()),
            )
            .await;
        assert_eq!(r.status, 400, "{evil:?}: {}", r.json);
        assert!(
            r.json["error"]
                .as_str()
                .unwrap()
                .contains("which no DNS name contains"),
            "{}",
            r.json
        );
    }
    assert_eq!(s.get("/api/v1/hosts").await.json["total"], 1);
}

#[path = "../../reports/tests/common/mutate.rs"]
#[allow(dead_code)]
mod mutate;

/// The token-less Patchman 1 path's multipart parser (multer) and the
/// Pakiti 4 form decoding, on randomly mutated real form posts: never a
/// panic, for a bounded time (`PATCHWATCH_FUZZ_SECONDS`).
#[test]
fn form_posts_survive_mutation() {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderValue, header};
    use patchwatch_server::ingest::form;

    let mut multipart = HeaderMap::new();
    multipart.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&common::multipart_type()).unwrap(),
    );
    let seeds = vec![
        common::multipart(&common::fixture_fields("patchman1.json")),
        common::multipart(&common::fixture_fields("pakiti4.json")),
    ];
    mutate::run("multipart", &seeds, 300, |body| {
        if let Ok(fields) = form::fields(&multipart, Bytes::copy_from_slice(body)) {
            let _ = patchwatch_reports::patchman::parse_v1(&fields);
            let _ = patchwatch_reports::pakiti::parse_v4(&fields);
        }
    });
    let mut urlencoded = HeaderMap::new();
    urlencoded.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let seeds = vec![common::urlencode(&common::fixture_fields("pakiti4.json"))];
    mutate::run("urlencoded", &seeds, 300, |body| {
        if let Ok(fields) = form::fields(&urlencoded, Bytes::copy_from_slice(body)) {
            let _ = patchwatch_reports::pakiti::parse_v4(&fields);
        }
    });
}
