use std::sync::Arc;

use patchwatch_store_sqlite::SqliteStore;
use patchwatch_store_tests::{Db, conformance_tests};

async fn open() -> Option<Db> {
    // Leaked on purpose: the directory must outlive the store's threads.
    let dir = tempfile::tempdir().unwrap().keep();
    Some(Arc::new(
        SqliteStore::open(dir.join("test.sqlite")).unwrap(),
    ))
}

conformance_tests!(open);
