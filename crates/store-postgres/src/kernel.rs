//! The derived kernel flag's background fill (migration 11): hosts whose
//! `kernel_outdated` is unknown, and the verdicts written back.

use deadpool_postgres::ClientWrapper;
use patchwatch_store::{KernelCheck, KernelVerdict, StoreError};

use crate::pg_error;

pub(crate) async fn unchecked(
    c: &ClientWrapper,
    after_id: i64,
    limit: u32,
) -> Result<Vec<KernelCheck>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT id, package_set_id, kernel, arch FROM hosts
             WHERE id > $1 AND kernel_outdated IS NULL ORDER BY id LIMIT $2",
        )
        .await
        .map_err(pg_error)?;
    let rows = c
        .query(&stmt, &[&after_id, &i64::from(limit)])
        .await
        .map_err(pg_error)?;
    rows.iter()
        .map(|r| {
            Ok(KernelCheck {
                host_id: r.try_get(0).map_err(pg_error)?,
                package_set_id: r.try_get(1).map_err(pg_error)?,
                kernel: r.try_get(2).map_err(pg_error)?,
                arch: r.try_get(3).map_err(pg_error)?,
            })
        })
        .collect()
}

pub(crate) async fn store(
    c: &ClientWrapper,
    verdicts: &[KernelVerdict],
) -> Result<u64, StoreError> {
    if verdicts.is_empty() {
        return Ok(0);
    }
    // One statement for the batch: the verdicts as parallel arrays.
    let stmt = c
        .prepare_cached(
            "UPDATE hosts h SET kernel_outdated = v.outdated
             FROM unnest($1::bigint[], $2::boolean[], $3::bigint[], $4::text[])
                  AS v (id, outdated, set_id, kernel)
             WHERE h.id = v.id AND h.kernel_outdated IS NULL
                   AND h.package_set_id = v.set_id AND h.kernel = v.kernel",
        )
        .await
        .map_err(pg_error)?;
    let ids: Vec<i64> = verdicts.iter().map(|v| v.check.host_id).collect();
    let outdated: Vec<bool> = verdicts.iter().map(|v| v.outdated).collect();
    let sets: Vec<i64> = verdicts.iter().map(|v| v.check.package_set_id).collect();
    let kernels: Vec<&str> = verdicts.iter().map(|v| v.check.kernel.as_str()).collect();
    c.execute(&stmt, &[&ids, &outdated, &sets, &kernels])
        .await
        .map_err(pg_error)
}
