//! Token revocation and use, run inside the writer thread's transaction.

use patchwatch_store::token::{Revocation, USE_RECORDED_EVERY_MS};
use patchwatch_store::{Millis, StoreError, now_millis};
use rusqlite::{Connection, params};

use crate::sql_error;

pub(crate) fn revoke(
    c: &Connection,
    name: &str,
    revoked_by: Option<i64>,
) -> Result<Revocation, StoreError> {
    let changed = c
        .execute(
            "UPDATE tokens SET revoked_at = ?2, revoked_by = ?3
             WHERE name = ?1 AND revoked_at IS NULL",
            params![name, now_millis(), revoked_by],
        )
        .map_err(crate::users::constraint_error("the revoking user"))?;
    if changed > 0 {
        return Ok(Revocation::Revoked);
    }
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM tokens WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    Ok(if exists {
        Revocation::AlreadyRevoked
    } else {
        Revocation::NotFound
    })
}

pub(crate) fn delete(c: &Connection, name: &str) -> Result<bool, StoreError> {
    c.execute("DELETE FROM tokens WHERE name = ?1", [name])
        .map(|n| n > 0)
        .map_err(sql_error)
}

pub(crate) fn record_use(c: &Connection, id: i64, at: Millis) -> Result<bool, StoreError> {
    c.execute(
        "UPDATE tokens SET last_used_at = ?2
         WHERE id = ?1 AND revoked_at IS NULL
           AND (last_used_at IS NULL OR last_used_at < ?2 - ?3)",
        params![id, at, USE_RECORDED_EVERY_MS],
    )
    .map(|n| n > 0)
    .map_err(sql_error)
}
