//! Repositories and their snapshots (migration 8).

use patchwatch_store::{
    NewRepository, RepoImportOutcome, RepositoryKind, StoreError, SyncState, now_millis,
};

use crate::Db;

fn bookworm_security() -> NewRepository {
    NewRepository {
        name: "bookworm-security".into(),
        kind: RepositoryKind::Apt,
        source: "http://deb.debian.org/debian-security".into(),
        suite: "bookworm-security".into(),
        components: vec!["main".into(), "contrib".into()],
        architectures: vec!["amd64".into()],
        priority: 0,
        cost: 1000,
        default_for: vec!["debian 12".into(), "debian 12.5".into()],
    }
}

/// The SHA-256 of a test document (ASCII), as the token hash computes it.
fn sha(doc: &[u8]) -> String {
    patchwatch_store::token::hash(std::str::from_utf8(doc).expect("ASCII"))
}

pub async fn repositories_add_list_enable_remove(db: Db) {
    let added = db.add_repository(&bookworm_security()).await.unwrap();
    assert!(added.enabled && added.current.is_none() && added.snapshots == 0);
    let again = db.add_repository(&bookworm_security()).await;
    assert!(
        matches!(again, Err(StoreError::AlreadyExists(_))),
        "{again:?}"
    );
    let mut bad = bookworm_security();
    bad.name = "two words".into();
    assert!(matches!(
        db.add_repository(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    let mut bad = bookworm_security();
    bad.name = "other".into();
    bad.default_for = vec!["a,b".into()];
    assert!(matches!(
        db.add_repository(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    let rpm = NewRepository {
        name: "appstream".into(),
        kind: RepositoryKind::RpmMd,
        source: "/srv/mirror/appstream".into(),
        suite: String::new(),
        components: vec![],
        architectures: vec!["x86_64".into()],
        priority: 10,
        cost: 500,
        default_for: vec![],
    };
    db.add_repository(&rpm).await.unwrap();

    let all = db.repositories().await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["appstream", "bookworm-security"]
    );
    let read = db.repository("bookworm-security").await.unwrap().unwrap();
    assert_eq!(read, added, "read back exactly as created");
    assert_eq!(read.components, ["main", "contrib"]);
    assert_eq!(read.default_for, ["debian 12", "debian 12.5"]);
    let appstream = &all[0];
    assert_eq!(
        (appstream.kind, appstream.priority, appstream.cost),
        (RepositoryKind::RpmMd, 10, 500)
    );

    assert!(db.set_repository_enabled("appstream", false).await.unwrap());
    assert!(!db.repository("appstream").await.unwrap().unwrap().enabled);
    assert!(!db.set_repository_enabled("nothing", false).await.unwrap());
    assert!(db.remove_repository("appstream").await.unwrap());
    assert!(!db.remove_repository("appstream").await.unwrap());
    assert!(db.repository("appstream").await.unwrap().is_none());
}

pub async fn repo_snapshots_switch_atomically(db: Db) {
    let repo = db.add_repository(&bookworm_security()).await.unwrap();
    let first = b"snapshot one".to_vec();
    let outcome = db
        .import_repo_snapshot(repo.id, first.clone(), &sha(&first), 10)
        .await
        .unwrap();
    let RepoImportOutcome::Imported { snapshot, previous } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (snapshot.number, snapshot.packages, previous),
        (1, 10, None)
    );
    let again = db
        .import_repo_snapshot(repo.id, first.clone(), &sha(&first), 10)
        .await
        .unwrap();
    assert!(
        matches!(again, RepoImportOutcome::Unchanged { ref snapshot } if snapshot.number == 1),
        "{again:?}"
    );
    let current = db.current_repo_snapshots().await.unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].1, first);

    // Three more imports: two kept, numbered per repository.
    let mut last_id = snapshot.id;
    for (i, doc) in [b"two".to_vec(), b"three".to_vec(), b"four".to_vec()]
        .into_iter()
        .enumerate()
    {
        let RepoImportOutcome::Imported { snapshot, previous } = db
            .import_repo_snapshot(repo.id, doc.clone(), &sha(&doc), 20 + i as i64)
            .await
            .unwrap()
        else {
            panic!("not imported")
        };
        assert_eq!(previous, Some(last_id));
        assert_eq!(snapshot.number, 2 + i as i64);
        last_id = snapshot.id;
    }
    let read = db.repository("bookworm-security").await.unwrap().unwrap();
    assert_eq!(read.snapshots, 2);
    let current = read.current.unwrap();
    assert_eq!((current.number, current.packages, current.size), (4, 22, 4));
    assert_eq!(
        db.current_repo_snapshots().await.unwrap()[0].1,
        b"four".to_vec()
    );

    // A bad digest and an unknown repository change nothing.
    assert!(matches!(
        db.import_repo_snapshot(repo.id, b"x".to_vec(), "not hex", 1)
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        db.import_repo_snapshot(repo.id + 1000, b"x".to_vec(), &sha(b"x"), 1)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        db.repository("bookworm-security")
            .await
            .unwrap()
            .unwrap()
            .current
            .unwrap()
            .number,
        4
    );

    // Disabled repositories are left out of what updates read.
    db.set_repository_enabled("bookworm-security", false)
        .await
        .unwrap();
    assert!(db.current_repo_snapshots().await.unwrap().is_empty());

    // Sync state: a failure keeps the validators of the last success.
    let ok = SyncState {
        etag: Some("\"abc\"".into()),
        last_modified: Some("Thu, 03 Dec 2026 05:00:00 GMT".into()),
        synced_at: Some(now_millis()),
        error: None,
    };
    db.record_repo_sync(repo.id, &ok).await.unwrap();
    let failed = SyncState {
        etag: None,
        last_modified: None,
        synced_at: Some(now_millis()),
        error: Some("connection refused".into()),
    };
    db.record_repo_sync(repo.id, &failed).await.unwrap();
    let sync = db
        .repository("bookworm-security")
        .await
        .unwrap()
        .unwrap()
        .sync;
    assert_eq!(sync.etag, ok.etag);
    assert_eq!(sync.error.as_deref(), Some("connection refused"));
    assert!(matches!(
        db.record_repo_sync(repo.id + 1000, &ok).await,
        Err(StoreError::NotFound(_))
    ));

    // Removing the repository removes its snapshots.
    assert!(db.remove_repository("bookworm-security").await.unwrap());
    db.set_repository_enabled("bookworm-security", true)
        .await
        .unwrap();
    assert!(db.current_repo_snapshots().await.unwrap().is_empty());
}
