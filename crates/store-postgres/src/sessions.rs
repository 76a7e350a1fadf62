//! Web UI sessions (migration 7), as in the SQLite backend.

use deadpool_postgres::GenericClient;
use patchwatch_store::sessions::{self, NewSession, SESSION_COLUMNS, Session};
use patchwatch_store::{Millis, StoreError};

use crate::error::PgColumns;
use crate::pg_error;
use crate::users::constraint_error;

pub(crate) async fn session<C: GenericClient>(
    c: &C,
    id_hash: &str,
) -> Result<Option<Session>, StoreError> {
    let stmt = c
        .prepare_cached(&format!("{SESSION_COLUMNS} WHERE s.id_hash = $1"))
        .await
        .map_err(pg_error)?;
    c.query_opt(&stmt, &[&id_hash])
        .await
        .map_err(pg_error)?
        .map(|r| sessions::session(&PgColumns(&r)))
        .transpose()
}

pub(crate) async fn create<C: GenericClient>(
    c: &C,
    new: &NewSession,
    at: Millis,
) -> Result<Session, StoreError> {
    c.execute(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen)
         VALUES ($1, $2, $3, $4, $4)",
        &[&new.id_hash, &new.user_id, &new.csrf_token, &at],
    )
    .await
    .map_err(constraint_error("user"))?;
    session(c, &new.id_hash)
        .await?
        .ok_or_else(|| StoreError::NotFound("user".into()))
}
