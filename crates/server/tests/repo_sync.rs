//! The periodic repository sync: a due repository is downloaded from a
//! local HTTP server serving the real Alpine v3.21 index, one synced
//! within the interval is left alone, and a failing one keeps its snapshot.

#[path = "../../vulndb/tests/common/http.rs"]
mod http;

use std::sync::Arc;
use std::time::Duration;

use http::{Route, TestServer};
use patchwatch_fleet::shared_data_dir;
use patchwatch_server::repo_updates::sync_due;
use patchwatch_store::{Database, NewRepository, RepositoryKind};
use patchwatch_store_sqlite::SqliteStore;
use patchwatch_vulndb::{SyncOptions, Syncer};

const INDEX: &str = "/alpine/v3.21/main/x86_64/APKINDEX.tar.gz";

#[tokio::test]
async fn due_repositories_are_synced_and_failures_keep_the_snapshot() {
    let server = TestServer::start();
    let index =
        std::fs::read(shared_data_dir().join("repos/alpine/v3.21/main/x86_64/APKINDEX.tar.gz"))
            .unwrap();
    server.set(
        INDEX,
        Route::Document {
            body: index.clone(),
            etag: Some("\"a1\"".into()),
            last_modified: None,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> = Arc::new(SqliteStore::open(dir.path().join("t.sqlite")).unwrap());
    let repo = db
        .add_repository(&NewRepository {
            name: "alpine-main".into(),
            kind: RepositoryKind::Apk,
            source: server.url("/alpine/v3.21/main"),
            suite: String::new(),
            components: vec![],
            architectures: vec!["x86_64".into()],
            priority: 0,
            cost: 1000,
            default_for: vec!["alpine 3.21".into()],
        })
        .await
        .unwrap();
    let syncer = Syncer::new(SyncOptions::default()).unwrap();
    let hour = Duration::from_secs(3600);
    assert_eq!(sync_due(&*db, &syncer, hour).await, 1);
    let synced = db.repository("alpine-main").await.unwrap().unwrap();
    let current = synced.current.clone().unwrap();
    assert_eq!(current.number, 1);
    assert!(current.packages > 5000, "{current:?}");
    // Not due again within the interval.
    assert_eq!(sync_due(&*db, &syncer, hour).await, 0);

    // Due again (interval 0), and the download is cut short.
    server.set(
        INDEX,
        Route::Truncated {
            body: index[..index.len() / 2].to_vec(),
            claimed: index.len(),
        },
    );
    db.record_repo_sync(
        repo.id,
        &patchwatch_store::SyncState {
            synced_at: Some(0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(sync_due(&*db, &syncer, Duration::ZERO).await, 1);
    let after = db.repository("alpine-main").await.unwrap().unwrap();
    assert_eq!(after.current.unwrap().number, 1);
    assert!(after.sync.error.is_some(), "{:?}", after.sync);
}
