//! Web UI sessions (migration 7).

use patchwatch_store::sessions::{self, NewSession, SESSION_COLUMNS, Session};
use patchwatch_store::{Millis, StoreError};
use rusqlite::{Connection, params};

use crate::sql_error;
use crate::users::constraint_error;

pub(crate) fn session(c: &Connection, id_hash: &str) -> Result<Option<Session>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!("{SESSION_COLUMNS} WHERE s.id_hash = ?1"))
        .map_err(sql_error)?;
    Ok(crate::collect_rows(&mut stmt, [id_hash], sessions::session)?.pop())
}

pub(crate) fn create(c: &Connection, new: &NewSession, at: Millis) -> Result<Session, StoreError> {
    c.execute(
        "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![new.id_hash, new.user_id, new.csrf_token, at],
    )
    .map_err(constraint_error("user"))?;
    session(c, &new.id_hash)?.ok_or_else(|| StoreError::NotFound("user".into()))
}
