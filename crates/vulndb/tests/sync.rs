//! Feed sync against a local HTTP server serving the real vendor documents
//! in `../shared/data`: conditional requests, truncated and failed
//! downloads (the current generation stays), compressed variants, limits
//! and file sources.

#[path = "common/http.rs"]
mod http;

use std::io::Write;
use std::sync::{Arc, Mutex};

use http::{Route, TestServer};
use patchwatch_fleet::shared_data_dir;
use patchwatch_store::{Database, Feed, FeedKind, NewFeed};
use patchwatch_store_sqlite::SqliteStore;
use patchwatch_vulndb::sync::Source;
use patchwatch_vulndb::{Progress, SyncError, SyncOptions, SyncOutcome, Syncer};

const ALMA_ZIP: &str = "osv/almalinux/vuls-data-update_alma-osv-all.zip";
const ALMA_TAR_XZ: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";
const DEBIAN_OSV_ZIP: &str = "osv/debian/vuls-data-update_debian-osv-all.zip";
const TRACKER: &str = "debian/tracker-json/vunnel_tracker_debian.json";
const SECDB: &str = "alpine/secdb-json-fixtures/vuls-data-update_v3.16_main.json";

fn data(rel: &str) -> Vec<u8> {
    let path = shared_data_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Env {
    _dir: tempfile::TempDir,
    db: Arc<dyn Database>,
    server: TestServer,
    syncer: Syncer,
}

impl Env {
    fn new() -> Env {
        Env::with(SyncOptions::default())
    }

    fn with(options: SyncOptions) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(SqliteStore::open(dir.path().join("pw.sqlite")).unwrap());
        Env {
            _dir: dir,
            db,
            server: TestServer::start(),
            syncer: Syncer::new(options).unwrap(),
        }
    }

    async fn add(&self, name: &str, kind: FeedKind, source: &str) -> Feed {
        self.db
            .add_feed(&NewFeed {
                name: name.into(),
                kind,
                source: source.into(),
                releases: String::new(),
            })
            .await
            .unwrap()
    }

    /// Syncs the feed as stored now (its validators and current generation).
    async fn sync(&self, name: &str) -> Result<SyncOutcome, SyncError> {
        let feed = self.feed(name).await;
        self.syncer.sync(&*self.db, &feed, &|_| {}).await
    }

    async fn feed(&self, name: &str) -> Feed {
        self.db.feed(name).await.unwrap().unwrap()
    }
}

fn document(body: Vec<u8>, etag: Option<&str>, last_modified: Option<&str>) -> Route {
    Route::Document {
        body,
        etag: etag.map(str::to_owned),
        last_modified: last_modified.map(str::to_owned),
    }
}

const LM: &str = "Tue, 04 Mar 2025 10:00:00 GMT";

#[tokio::test]
async fn conditional_requests_and_a_new_document() {
    let env = Env::new();
    env.server.set(
        "/AlmaLinux/all.zip",
        document(data(ALMA_ZIP), Some("\"v1\""), Some(LM)),
    );
    env.add("alma", FeedKind::Osv, &env.server.url("/AlmaLinux/all.zip"))
        .await;

    let first = env.sync("alma").await.unwrap();
    let SyncOutcome::Imported {
        generation: g1,
        previous: None,
    } = first
    else {
        panic!("the first sync imports: {first:?}");
    };
    assert!(g1.advisories > 0);
    let req = env.server.last_request();
    assert_eq!(req.method, "GET");
    assert_eq!(req.target, "/AlmaLinux/all.zip");
    assert_eq!(req.header("If-None-Match"), None, "nothing to validate yet");
    let feed = env.feed("alma").await;
    assert_eq!(feed.sync.etag.as_deref(), Some("\"v1\""));
    assert_eq!(feed.sync.last_modified.as_deref(), Some(LM));
    assert_eq!(feed.sync.error, None);
    let first_synced = feed.sync.synced_at.expect("sync time recorded");

    // The second sync sends the validators and downloads nothing.
    assert_eq!(env.sync("alma").await.unwrap(), SyncOutcome::NotModified);
    let req = env.server.last_request();
    assert_eq!(req.header("If-None-Match"), Some("\"v1\""));
    assert_eq!(req.header("If-Modified-Since"), Some(LM));
    let feed = env.feed("alma").await;
    assert_eq!(feed.current.as_ref(), Some(&g1));
    assert_eq!(feed.sync.etag.as_deref(), Some("\"v1\""));
    assert!(feed.sync.synced_at.unwrap() >= first_synced);

    // The vendor publishes a new document: a new generation.
    env.server.set(
        "/AlmaLinux/all.zip",
        document(data(DEBIAN_OSV_ZIP), Some("\"v2\""), None),
    );
    let SyncOutcome::Imported {
        generation: g2,
        previous,
    } = env.sync("alma").await.unwrap()
    else {
        panic!("a changed document is imported");
    };
    assert_eq!(previous, Some(g1.id));
    assert_ne!(g2.sha256, g1.sha256);
    let feed = env.feed("alma").await;
    assert_eq!(feed.sync.etag.as_deref(), Some("\"v2\""));
    assert_eq!(feed.sync.last_modified, None, "validators are replaced");
}

#[tokio::test]
async fn last_modified_alone_and_unchanged_documents() {
    let env = Env::new();
    // No ETag: If-Modified-Since alone makes the request conditional.
    env.server
        .set("/v3.16/main.json", document(data(SECDB), None, Some(LM)));
    env.add(
        "secdb",
        FeedKind::AlpineSecdb,
        &env.server.url("/v3.16/main.json"),
    )
    .await;
    assert!(matches!(
        env.sync("secdb").await.unwrap(),
        SyncOutcome::Imported { .. }
    ));
    assert_eq!(env.sync("secdb").await.unwrap(), SyncOutcome::NotModified);
    let req = env.server.last_request();
    assert_eq!(req.header("If-Modified-Since"), Some(LM));
    assert_eq!(req.header("If-None-Match"), None);

    // No validators at all: the same bytes again are recognised by their
    // SHA-256 and nothing is stored.
    env.server
        .set("/v3.16/main.json", document(data(SECDB), None, None));
    let out = env.sync("secdb").await.unwrap();
    assert!(matches!(out, SyncOutcome::Unchanged { .. }), "{out:?}");
    assert_eq!(env.feed("secdb").await.generations, 1);
}

#[tokio::test]
async fn truncated_downloads_never_replace_the_current_generation() {
    let env = Env::new();
    let whole = data(ALMA_TAR_XZ);
    env.server.set(
        "/alma.tar.xz",
        document(whole.clone(), Some("\"good\""), None),
    );
    env.add("alma", FeedKind::Osv, &env.server.url("/alma.tar.xz"))
        .await;
    let SyncOutcome::Imported { generation, .. } = env.sync("alma").await.unwrap() else {
        panic!("imported");
    };

    // The connection closes before Content-Length bytes arrived.
    env.server.set(
        "/alma.tar.xz",
        Route::Truncated {
            body: whole[..whole.len() / 2].to_vec(),
            claimed: whole.len(),
        },
    );
    // Without the validators the server would send the document again.
    let mut feed = env.feed("alma").await;
    feed.sync.etag = None;
    let err = env.syncer.sync(&*env.db, &feed, &|_| {}).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Request { .. } | SyncError::Truncated { .. }),
        "{err:?}"
    );
    let feed = env.feed("alma").await;
    assert_eq!(feed.current.as_ref(), Some(&generation), "still current");
    assert_eq!(feed.generations, 1);
    let recorded = feed.sync.error.clone().expect("the error is recorded");
    assert!(recorded.contains("/alma.tar.xz"), "{recorded}");
    assert_eq!(
        feed.sync.etag.as_deref(),
        Some("\"good\""),
        "the validators of the current document stay"
    );

    // A complete response carrying a cut-off xz stream: refused by the
    // parser.
    env.server.set(
        "/alma.tar.xz",
        document(whole[..whole.len() - 1000].to_vec(), Some("\"cut\""), None),
    );
    let err = env.sync("alma").await.unwrap_err();
    assert!(matches!(err, SyncError::Parse { .. }), "{err:?}");
    let feed = env.feed("alma").await;
    assert_eq!(feed.current.as_ref(), Some(&generation));
    assert!(
        feed.sync
            .error
            .as_deref()
            .unwrap()
            .contains("does not parse"),
        "{:?}",
        feed.sync.error
    );
    assert_eq!(feed.sync.etag.as_deref(), Some("\"good\""));
    assert_eq!(env.db.current_documents().await.unwrap()[0].1, whole);
}

#[tokio::test]
async fn http_errors_are_recorded_and_cleared_by_the_next_success() {
    let env = Env::new();
    env.server.set("/all.zip", Route::Status(500));
    env.add("alma", FeedKind::Osv, &env.server.url("/all.zip"))
        .await;
    let err = env.sync("alma").await.unwrap_err();
    assert!(
        matches!(err, SyncError::Status { status: 500, .. }),
        "{err:?}"
    );
    let feed = env.feed("alma").await;
    assert!(feed.current.is_none());
    assert!(
        feed.sync.error.as_deref().unwrap().contains("HTTP 500"),
        "{:?}",
        feed.sync.error
    );
    assert!(feed.sync.synced_at.is_some());

    env.server
        .set("/all.zip", document(data(ALMA_ZIP), Some("\"x\""), None));
    assert!(matches!(
        env.sync("alma").await.unwrap(),
        SyncOutcome::Imported { .. }
    ));
    assert_eq!(env.feed("alma").await.sync.error, None);

    // Nobody listening: a connection error, recorded.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/all.zip", closed.local_addr().unwrap());
    drop(closed);
    env.add("gone", FeedKind::Osv, &url).await;
    let err = env.sync("gone").await.unwrap_err();
    assert!(matches!(err, SyncError::Request { .. }), "{err:?}");
    assert!(env.feed("gone").await.sync.error.is_some());
}

#[tokio::test]
async fn compressed_variants_of_one_document_all_import() {
    let env = Env::new();
    let plain = data(TRACKER);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&plain).unwrap();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&plain).unwrap();
    let variants = [
        ("plain", plain.clone()),
        ("gz", gz.finish().unwrap()),
        ("bz2", bz.finish().unwrap()),
        ("xz", xz.finish().unwrap()),
        ("zst", zstd::encode_all(&plain[..], 3).unwrap()),
    ];
    let mut counts = Vec::new();
    for (name, body) in variants {
        // Served without a telling file name: the format is recognised
        // by content.
        let path = format!("/tracker-{name}");
        env.server.set(&path, document(body.clone(), None, None));
        env.add(name, FeedKind::DebianTracker, &env.server.url(&path))
            .await;
        let SyncOutcome::Imported { generation, .. } = env.sync(name).await.unwrap() else {
            panic!("{name} imports");
        };
        assert_eq!(generation.size, body.len() as i64, "stored as served");
        counts.push(generation.advisories);
    }
    assert!(counts[0] > 0);
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
}

#[tokio::test]
async fn size_limit_and_progress() {
    let env = Env::with(SyncOptions {
        max_bytes: 1000,
        ..SyncOptions::default()
    });
    let zip = data(ALMA_ZIP);
    assert!(zip.len() > 1000);
    env.server
        .set("/all.zip", document(zip.clone(), None, None));
    env.add("alma", FeedKind::Osv, &env.server.url("/all.zip"))
        .await;
    let err = env.sync("alma").await.unwrap_err();
    assert!(
        matches!(err, SyncError::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );

    let env2 = Env::new();
    env2.server
        .set("/all.zip", document(zip.clone(), None, None));
    env2.add("alma", FeedKind::Osv, &env2.server.url("/all.zip"))
        .await;
    let seen: Mutex<Vec<Progress>> = Mutex::default();
    let feed = env2.feed("alma").await;
    env2.syncer
        .sync(&*env2.db, &feed, &|p| seen.lock().unwrap().push(p))
        .await
        .unwrap();
    let seen = seen.into_inner().unwrap();
    let last = *seen.last().unwrap();
    assert_eq!(
        last,
        Progress {
            bytes: zip.len() as u64,
            total: Some(zip.len() as u64)
        }
    );
    assert!(seen.windows(2).all(|w| w[0].bytes <= w[1].bytes));
}

#[tokio::test]
async fn file_sources() {
    let env = Env::new();
    // Canonical: a file URL has no `..` in it.
    let path = std::fs::canonicalize(shared_data_dir().join(ALMA_ZIP)).unwrap();
    let url = format!("file://{}", path.display());
    assert_eq!(Source::parse(&url).unwrap(), Source::File(path.clone()));
    env.add("by-url", FeedKind::Osv, &url).await;
    env.add("by-path", FeedKind::Osv, &path.display().to_string())
        .await;
    for name in ["by-url", "by-path"] {
        assert!(matches!(
            env.sync(name).await.unwrap(),
            SyncOutcome::Imported { .. }
        ));
        assert!(matches!(
            env.sync(name).await.unwrap(),
            SyncOutcome::Unchanged { .. }
        ));
        assert_eq!(env.feed(name).await.sync.etag, None);
    }
    env.add("missing", FeedKind::Osv, "/nonexistent/all.zip")
        .await;
    let err = env.sync("missing").await.unwrap_err();
    assert!(matches!(err, SyncError::File { .. }), "{err:?}");
    env.add("ftp", FeedKind::Osv, "ftp://example.org/all.zip")
        .await;
    let err = env.sync("ftp").await.unwrap_err();
    assert!(matches!(err, SyncError::Scheme { .. }), "{err:?}");
    assert!(env.feed("ftp").await.sync.error.is_some());
}
