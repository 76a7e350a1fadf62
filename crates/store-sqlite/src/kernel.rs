//! The derived kernel flag's background fill (migration 11): hosts whose
//! `kernel_outdated` is unknown, and the verdicts written back.

use patchwatch_store::{KernelCheck, KernelVerdict, StoreError};
use rusqlite::{Connection, params};

use crate::sql_error;

pub(crate) fn unchecked(
    c: &Connection,
    after_id: i64,
    limit: u32,
) -> Result<Vec<KernelCheck>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT id, package_set_id, kernel, arch FROM hosts
             WHERE id > ?1 AND kernel_outdated IS NULL ORDER BY id LIMIT ?2",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map(params![after_id, limit], |r| {
            Ok(KernelCheck {
                host_id: r.get(0)?,
                package_set_id: r.get(1)?,
                kernel: r.get(2)?,
                arch: r.get(3)?,
            })
        })
        .map_err(sql_error)?;
    rows.collect::<Result<_, _>>().map_err(sql_error)
}

pub(crate) fn store(c: &Connection, verdicts: &[KernelVerdict]) -> Result<u64, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "UPDATE hosts SET kernel_outdated = ?2
             WHERE id = ?1 AND kernel_outdated IS NULL AND package_set_id = ?3 AND kernel = ?4",
        )
        .map_err(sql_error)?;
    let mut updated = 0;
    for v in verdicts {
        let check = &v.check;
        updated += stmt
            .execute(params![
                check.host_id,
                v.outdated,
                check.package_set_id,
                check.kernel
            ])
            .map_err(sql_error)? as u64;
    }
    Ok(updated)
}
