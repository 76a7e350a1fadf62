//! Migration 5 on a database made before it: API tokens that could read
//! everything keep exactly that, read-only (as an auditor); ingest tokens
//! stay ingest tokens.

mod common;

use patchwatch_auth::{TokenAccess, TokenScope};
use patchwatch_store::{Database, TokenKind, token};
use patchwatch_store_sqlite::SqliteStore;

#[tokio::test]
async fn existing_tokens_keep_working_with_a_sensible_scope() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    common::database_at(
        &path,
        4,
        &format!(
            "INSERT INTO sites (id, name, created_at) VALUES (1, 'CESNET', 0);
             INSERT INTO tokens (name, kind, site_id, hash, created_at) VALUES
                 ('reader', 'api', NULL, '{}', 0),
                 ('cesnet-ingest', 'ingest', 1, '{}', 0);",
            token::hash("pwa_old"),
            token::hash("pwi_old")
        ),
    );
    let db = SqliteStore::open(&path).unwrap();
    let reader = db
        .token_by_hash(&token::hash("pwa_old"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reader.kind, TokenKind::Api);
    assert_eq!(
        reader.api_scope(),
        Some((TokenAccess::Read, TokenScope::Everywhere))
    );
    let ingest = db
        .token_by_hash(&token::hash("pwi_old"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ingest.kind, ingest.site_id, ingest.api_scope()),
        (TokenKind::Ingest, Some(1), None)
    );
    assert!(db.users().await.unwrap().is_empty());
    assert!(db.site_groups().await.unwrap().is_empty());
}
