//! Feed sync state and enabling: what `feeds sync` and the server's
//! periodic sync rely on.

use patchwatch_store::{FeedKind, StoreError, SyncState};

use super::{Db, digest, new_feed};

pub async fn feed_sync_state_recorded(db: Db) {
    let feed = db.add_feed(&new_feed("alma", FeedKind::Osv)).await.unwrap();
    assert_eq!(
        feed.sync,
        SyncState::default(),
        "a new feed was never synced"
    );
    let doc = b"doc".to_vec();
    db.import_generation(feed.id, doc.clone(), &digest(&doc), 1)
        .await
        .unwrap();

    let ok = SyncState {
        etag: Some("\"abc\"".into()),
        last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        synced_at: Some(1_700_000_000_000),
        error: None,
    };
    db.record_sync(feed.id, &ok).await.unwrap();
    let listed = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(listed.sync, ok);
    // Recording sync state leaves the generations alone.
    assert_eq!(
        listed.current,
        db.feed("alma").await.unwrap().unwrap().current
    );
    assert_eq!(listed.generations, 1);

    // A failure keeps the validators of the document still current, and
    // whatever validators the failed attempt saw are ignored.
    let failed = SyncState {
        etag: Some("\"from-the-broken-download\"".into()),
        last_modified: None,
        synced_at: Some(1_700_000_060_000),
        error: Some("truncated: 10 of 20 bytes".into()),
    };
    db.record_sync(feed.id, &failed).await.unwrap();
    let listed = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(
        listed.sync,
        SyncState {
            etag: ok.etag.clone(),
            last_modified: ok.last_modified.clone(),
            synced_at: Some(1_700_000_060_000),
            error: Some("truncated: 10 of 20 bytes".into()),
        }
    );
    assert_eq!(listed.current.as_ref().map(|g| g.advisories), Some(1));

    // The next success clears the error and may drop a validator the
    // server no longer sends.
    let again = SyncState {
        etag: Some("\"def\"".into()),
        last_modified: None,
        synced_at: Some(1_700_000_120_000),
        error: None,
    };
    db.record_sync(feed.id, &again).await.unwrap();
    assert_eq!(db.feed("alma").await.unwrap().unwrap().sync, again);
    // Listing all feeds reads the same columns.
    assert_eq!(db.feeds().await.unwrap()[0].sync, again);

    assert!(db.delete_feed("alma").await.unwrap());
    assert!(matches!(
        db.record_sync(feed.id, &again).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn feeds_enable_and_disable(db: Db) {
    let feed = db.add_feed(&new_feed("alma", FeedKind::Osv)).await.unwrap();
    let doc = b"doc".to_vec();
    db.import_generation(feed.id, doc.clone(), &digest(&doc), 1)
        .await
        .unwrap();
    assert_eq!(db.current_documents().await.unwrap().len(), 1);

    assert!(db.set_feed_enabled("alma", false).await.unwrap());
    let listed = db.feed("alma").await.unwrap().unwrap();
    assert!(!listed.enabled);
    assert_eq!(listed.generations, 1, "disabling keeps the generations");
    assert!(
        db.current_documents().await.unwrap().is_empty(),
        "a disabled feed is not assessed"
    );

    assert!(db.set_feed_enabled("alma", true).await.unwrap());
    assert!(db.feed("alma").await.unwrap().unwrap().enabled);
    assert_eq!(db.current_documents().await.unwrap().len(), 1);
    assert!(!db.set_feed_enabled("nope", true).await.unwrap());
}
