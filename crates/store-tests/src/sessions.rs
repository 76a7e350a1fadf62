//! Conformance checks for web UI sessions (migration 7).

use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{NewSession, NewUser, StoreError, token};

use crate::Db;

fn new_session(secret: &str, user_id: i64) -> NewSession {
    NewSession {
        id_hash: token::hash(secret),
        user_id,
        csrf_token: format!("csrf{}", "x".repeat(40)),
    }
}

pub async fn web_sessions(db: Db) {
    let alice = db
        .add_user(&NewUser {
            name: "alice".into(),
            password_hash: None,
            origin: ORIGIN_LOCAL.into(),
        })
        .await
        .unwrap();
    let one = new_session("secret-one", alice.id);
    let stored = db.create_session(&one, 1_000).await.unwrap();
    assert_eq!(stored.user_name, "alice");
    assert_eq!(stored.user_id, alice.id);
    assert_eq!((stored.created_at, stored.last_seen), (1_000, 1_000));
    assert_eq!(stored.csrf_token, one.csrf_token);
    assert_eq!(db.session(&one.id_hash).await.unwrap(), Some(stored));
    // Only the hash is a key: the secret itself finds nothing.
    assert_eq!(db.session("secret-one").await.unwrap(), None);

    // Malformed hashes and unknown users are refused, nothing stored.
    let mut bad = new_session("x", alice.id);
    bad.id_hash = "not-a-hash".into();
    assert!(matches!(
        db.create_session(&bad, 1).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        db.create_session(&new_session("ghost", alice.id + 1000), 1)
            .await,
        Err(StoreError::NotFound(_))
    ));
    // A session id is never reused.
    assert!(db.create_session(&one, 2).await.is_err());

    // Touching moves last_seen forward only.
    assert!(db.touch_session(&one.id_hash, 5_000).await.unwrap());
    assert!(db.touch_session(&one.id_hash, 4_000).await.unwrap());
    let touched = db.session(&one.id_hash).await.unwrap().unwrap();
    assert_eq!((touched.created_at, touched.last_seen), (1_000, 5_000));
    assert!(!db.touch_session(&token::hash("nope"), 1).await.unwrap());

    // Expiry: absolute (created before) or idle (last seen before).
    let two = new_session("secret-two", alice.id);
    db.create_session(&two, 10_000).await.unwrap();
    assert_eq!(db.expire_sessions(0, 5_000).await.unwrap(), 0);
    assert_eq!(db.expire_sessions(0, 6_000).await.unwrap(), 1);
    assert_eq!(db.session(&one.id_hash).await.unwrap(), None);
    assert!(db.session(&two.id_hash).await.unwrap().is_some());

    // Logout deletes; a removed user's sessions go with it.
    let three = new_session("secret-three", alice.id);
    db.create_session(&three, 20_000).await.unwrap();
    assert!(db.delete_session(&two.id_hash).await.unwrap());
    assert!(!db.delete_session(&two.id_hash).await.unwrap());
    assert!(db.remove_user("alice").await.unwrap());
    assert_eq!(db.session(&three.id_hash).await.unwrap(), None);
}
