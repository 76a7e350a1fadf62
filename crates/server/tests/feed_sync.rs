//! The server's periodic feed sync: due feeds are downloaded, feeds
//! synced within the interval (by this process or another sharing the
//! database) are not, and a failure keeps the current generation.

#[path = "../../vulndb/tests/common/http.rs"]
mod http;

use std::sync::Arc;
use std::time::Duration;

use http::{Route, TestServer};
use patchwatch_fleet::shared_data_dir;
use patchwatch_server::feed_sync::sync_due;
use patchwatch_store::{Database, FeedKind, NewFeed, SyncState};
use patchwatch_store_sqlite::SqliteStore;
use patchwatch_vulndb::{SyncOptions, Syncer};

#[tokio::test]
async fn due_feeds_are_synced_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.path().join("pw.sqlite")).unwrap());
    let server = TestServer::start();
    let zip =
        std::fs::read(shared_data_dir().join("osv/almalinux/vuls-data-update_alma-osv-all.zip"))
            .unwrap();
    server.set(
        "/AlmaLinux/all.zip",
        Route::Document {
            body: zip,
            etag: Some("\"e1\"".into()),
            last_modified: None,
        },
    );
    let add = |name: &str, source: String| {
        let db = db.clone();
        let name = name.to_owned();
        async move {
            db.add_feed(&NewFeed {
                name,
                kind: FeedKind::Osv,
                source,
                releases: String::new(),
            })
            .await
            .unwrap()
        }
    };
    add("alma", server.url("/AlmaLinux/all.zip")).await;
    // A plain path is imported by hand, never by the periodic sync.
    add("local", "/srv/feeds/local.zip".into()).await;
    let off = add("off", server.url("/off.zip")).await;
    db.set_feed_enabled(&off.name, false).await.unwrap();

    let syncer = Syncer::new(SyncOptions::default()).unwrap();
    let hour = Duration::from_secs(3600);
    assert_eq!(sync_due(&*db, &syncer, hour).await, 1);
    let alma = db.feed("alma").await.unwrap().unwrap();
    let generation = alma.current.clone().expect("imported");
    assert_eq!(server.requests().len(), 1, "only the enabled URL feed");

    // Synced within the hour (here, or by another process): not due.
    assert_eq!(sync_due(&*db, &syncer, hour).await, 0);
    assert_eq!(server.requests().len(), 1);

    // An hour later it is due again, and the conditional request finds
    // it unchanged.
    let mut old = alma.sync.clone();
    old.synced_at = Some(patchwatch_store::now_millis() - 2 * 3_600_000);
    db.record_sync(alma.id, &old).await.unwrap();
    assert_eq!(sync_due(&*db, &syncer, hour).await, 1);
    assert_eq!(
        server.last_request().header("If-None-Match"),
        Some("\"e1\"")
    );

    // A failing vendor: recorded, the generation stays.
    server.set("/AlmaLinux/all.zip", Route::Status(503));
    db.record_sync(
        alma.id,
        &SyncState {
            synced_at: Some(0),
            ..old
        },
    )
    .await
    .unwrap();
    assert_eq!(sync_due(&*db, &syncer, hour).await, 1);
    let alma = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(alma.current, Some(generation));
    assert!(
        alma.sync
            .error
            .as_deref()
            .unwrap_or("")
            .contains("HTTP 503"),
        "{:?}",
        alma.sync.error
    );
}
