//! The shared conformance suite against a real PostgreSQL: each test in a
//! fresh schema (see `common`).

mod common;

use std::sync::Arc;

use patchwatch_store_postgres::PostgresOptions;
use patchwatch_store_tests::{Db, conformance_tests};

async fn open() -> Option<Db> {
    let db = common::open(PostgresOptions::default()).await?;
    Some(Arc::new(db))
}

conformance_tests!(open);
