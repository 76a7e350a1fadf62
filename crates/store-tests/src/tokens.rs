//! Conformance checks for token use and revocation (migration 10).

use patchwatch_store::token::USE_RECORDED_EVERY_MS;
use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{NewToken, NewUser, Revocation, StoreError, TokenKind, TokenRecord};

use crate::Db;

async fn listed(db: &Db, name: &str) -> TokenRecord {
    db.tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("token {name} is not listed"))
}

pub async fn token_use_and_revocation(db: Db) {
    let alice = db
        .add_user(&NewUser {
            name: "alice".into(),
            password_hash: None,
            origin: ORIGIN_LOCAL.into(),
        })
        .await
        .unwrap();
    let site = db.create_site("S").await.unwrap();
    let ingest = NewToken::generate("ci", TokenKind::Ingest, Some(site.id));
    let ingest_id = db.add_token(&ingest).await.unwrap().id;
    let reader = NewToken::generate("reader", TokenKind::Api, None);
    let reader_id = db.add_token(&reader).await.unwrap().id;
    let fresh = listed(&db, "reader").await;
    assert_eq!(
        (fresh.last_used_at, fresh.revoked_at, fresh.revoked_by),
        (None, None, None)
    );

    // Use is recorded at most once a minute per token.
    let t0 = 1_700_000_000_000;
    assert!(db.record_token_use(reader_id, t0).await.unwrap());
    assert!(!db.record_token_use(reader_id, t0 + 30_000).await.unwrap());
    assert!(
        !db.record_token_use(reader_id, t0 + USE_RECORDED_EVERY_MS)
            .await
            .unwrap()
    );
    assert_eq!(listed(&db, "reader").await.last_used_at, Some(t0));
    let t1 = t0 + USE_RECORDED_EVERY_MS + 1;
    assert!(db.record_token_use(reader_id, t1).await.unwrap());
    assert_eq!(listed(&db, "reader").await.last_used_at, Some(t1));
    // A late writer (another process, an older clock) never moves it back.
    assert!(!db.record_token_use(reader_id, t0).await.unwrap());
    assert_eq!(listed(&db, "reader").await.last_used_at, Some(t1));
    // Throttling is per token.
    assert!(db.record_token_use(ingest_id, t1).await.unwrap());
    assert_eq!(listed(&db, "ci").await.last_used_at, Some(t1));

    // Revoking keeps the row, with when and by whom; the hash no longer
    // finds it, so it authenticates nothing.
    assert_eq!(
        db.revoke_token("reader", Some(alice.id)).await.unwrap(),
        Revocation::Revoked
    );
    assert!(db.token_by_hash(&reader.hash).await.unwrap().is_none());
    let revoked = listed(&db, "reader").await;
    let revoked_at = revoked.revoked_at.expect("revoked_at set");
    assert!(revoked.is_revoked());
    assert_eq!(revoked.revoked_by.as_deref(), Some("alice"));
    assert_eq!(revoked.last_used_at, Some(t1));
    // Revoking again changes nothing: the first time and author stay.
    assert_eq!(
        db.revoke_token("reader", None).await.unwrap(),
        Revocation::AlreadyRevoked
    );
    let again = listed(&db, "reader").await;
    assert_eq!(
        (again.revoked_at, again.revoked_by.as_deref()),
        (Some(revoked_at), Some("alice"))
    );
    // A revoked token's use is never recorded.
    assert!(
        !db.record_token_use(reader_id, t1 + 10 * USE_RECORDED_EVERY_MS)
            .await
            .unwrap()
    );
    assert_eq!(listed(&db, "reader").await.last_used_at, Some(t1));
    // Its name stays taken until it is deleted.
    assert!(matches!(
        db.add_token(&NewToken::generate("reader", TokenKind::Api, None))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        db.revoke_token("ghost", None).await.unwrap(),
        Revocation::NotFound
    );

    // An unknown revoking user is refused and revokes nothing.
    assert!(matches!(
        db.revoke_token("ci", Some(9_999)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(db.token_by_hash(&ingest.hash).await.unwrap().is_some());
    // The command line revokes as nobody.
    assert_eq!(
        db.revoke_token("ci", None).await.unwrap(),
        Revocation::Revoked
    );
    let ci = listed(&db, "ci").await;
    assert!(ci.revoked_at.is_some() && ci.revoked_by.is_none());
    assert!(db.token_by_hash(&ingest.hash).await.unwrap().is_none());

    // Deleting the revoking user keeps the revocation, without its author.
    assert!(db.remove_user("alice").await.unwrap());
    let orphan = listed(&db, "reader").await;
    assert_eq!(
        (orphan.revoked_at, orphan.revoked_by),
        (Some(revoked_at), None)
    );

    // Deleting removes the row, revoked or not; then the name is free.
    assert!(db.delete_token("reader").await.unwrap());
    assert!(!db.delete_token("reader").await.unwrap());
    assert!(
        db.tokens()
            .await
            .unwrap()
            .iter()
            .all(|t| t.name != "reader")
    );
    db.add_token(&NewToken::generate("reader", TokenKind::Api, None))
        .await
        .unwrap();
}
