//! Token revocation and use, as in the SQLite backend.

use deadpool_postgres::GenericClient;
use patchwatch_store::token::{Revocation, USE_RECORDED_EVERY_MS};
use patchwatch_store::{Millis, StoreError, now_millis};

use crate::pg_error;
use crate::users::constraint_error;

pub(crate) async fn revoke<C: GenericClient>(
    c: &C,
    name: &str,
    revoked_by: Option<i64>,
) -> Result<Revocation, StoreError> {
    let stmt = c
        .prepare_cached(
            "UPDATE tokens SET revoked_at = $2, revoked_by = $3
             WHERE name = $1 AND revoked_at IS NULL",
        )
        .await
        .map_err(pg_error)?;
    let changed = c
        .execute(&stmt, &[&name, &now_millis(), &revoked_by])
        .await
        .map_err(constraint_error("the revoking user"))?;
    if changed > 0 {
        return Ok(Revocation::Revoked);
    }
    let stmt = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM tokens WHERE name = $1)")
        .await
        .map_err(pg_error)?;
    let exists: bool = c
        .query_one(&stmt, &[&name])
        .await
        .map_err(pg_error)?
        .try_get(0)
        .map_err(pg_error)?;
    Ok(if exists {
        Revocation::AlreadyRevoked
    } else {
        Revocation::NotFound
    })
}

pub(crate) async fn delete<C: GenericClient>(c: &C, name: &str) -> Result<bool, StoreError> {
    let stmt = c
        .prepare_cached("DELETE FROM tokens WHERE name = $1")
        .await
        .map_err(pg_error)?;
    Ok(c.execute(&stmt, &[&name]).await.map_err(pg_error)? > 0)
}

pub(crate) async fn record_use<C: GenericClient>(
    c: &C,
    id: i64,
    at: Millis,
) -> Result<bool, StoreError> {
    let stmt = c
        .prepare_cached(
            "UPDATE tokens SET last_used_at = $2
             WHERE id = $1 AND revoked_at IS NULL
               AND (last_used_at IS NULL OR last_used_at < $2::bigint - $3::bigint)",
        )
        .await
        .map_err(pg_error)?;
    Ok(c.execute(&stmt, &[&id, &at, &USE_RECORDED_EVERY_MS])
        .await
        .map_err(pg_error)?
        > 0)
}
