//! Interning: the id of an OS release, package or package set, storing it
//! first if it is new. Runs inside the ingest transaction.
//!
//! Every insert is `ON CONFLICT DO NOTHING` followed by a select, so two
//! processes storing the same content at once both end up with the one row:
//! PostgreSQL makes the second insert wait for the first transaction and
//! then skip the row, which the following statement (a new snapshot, in
//! READ COMMITTED) sees. Packages are looked up before they are inserted
//! because a conflicting insert still uses up a sequence number, and sparse
//! ids make the delta-encoded sets bigger.

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use patchwatch_reports::OsRelease;
use patchwatch_store::package_set::encode_ids;
use patchwatch_store::{CanonicalSet, PackageKey, StoreError};

use crate::cache::{Pending, View};
use crate::error::WriteError;

pub(crate) async fn os_release_id(
    tx: &Transaction<'_>,
    cache: &View<'_>,
    pending: &mut Pending,
    os: &OsRelease,
) -> Result<i64, WriteError> {
    let key = (os.distro.clone(), os.release.clone());
    if let Some(id) = cache.os_release(&key) {
        return Ok(id);
    }
    let select = tx
        .prepare_cached("SELECT id FROM os_releases WHERE distro = $1 AND release = $2")
        .await?;
    let mut found = tx.query_opt(&select, &[&os.distro, &os.release]).await?;
    if found.is_none() {
        let insert = tx
            .prepare_cached(
                "INSERT INTO os_releases (distro, release) VALUES ($1, $2)
                 ON CONFLICT (distro, release) DO NOTHING RETURNING id",
            )
            .await?;
        found = tx.query_opt(&insert, &[&os.distro, &os.release]).await?;
    }
    if found.is_none() {
        // Inserted by a transaction that committed after our snapshot.
        found = tx.query_opt(&select, &[&os.distro, &os.release]).await?;
    }
    let id: i64 = found
        .ok_or(WriteError::Race("os release vanished"))?
        .try_get(0)?;
    pending.os_releases.push((key, id));
    Ok(id)
}

/// The id and size of the stored set with this content, storing it (and any
/// package not seen before) if it is new.
pub(crate) async fn package_set(
    tx: &Transaction<'_>,
    cache: &View<'_>,
    pending: &mut Pending,
    set: &CanonicalSet,
    now: i64,
) -> Result<(i64, i64), WriteError> {
    if let Some(found) = cache.set(&set.hash) {
        return Ok(found);
    }
    let select = tx
        .prepare_cached("SELECT id, package_count FROM package_sets WHERE hash = $1")
        .await?;
    let hash: &[u8] = &set.hash.0;
    if let Some(row) = tx.query_opt(&select, &[&hash]).await? {
        let found = (row.try_get(0)?, row.try_get(1)?);
        pending.sets.push((set.hash, found));
        return Ok(found);
    }

    let mut ids = package_ids(tx, cache, pending, set).await?;
    let count = ids.len() as i64;
    let blob = encode_ids(&mut ids);
    let insert = tx
        .prepare_cached(
            "INSERT INTO package_sets (hash, package_count, package_ids, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING RETURNING id",
        )
        .await?;
    let id: i64 = match tx.query_opt(&insert, &[&hash, &count, &blob, &now]).await? {
        Some(row) => row.try_get(0)?,
        // Another transaction stored the same content meanwhile.
        None => tx
            .query_opt(&select, &[&hash])
            .await?
            .ok_or(WriteError::Race("package set vanished"))?
            .try_get(0)?,
    };
    pending.sets.push((set.hash, (id, count)));
    Ok((id, count))
}

/// The ids of the set's packages, in the set's order, storing the new ones.
async fn package_ids(
    tx: &Transaction<'_>,
    cache: &View<'_>,
    pending: &mut Pending,
    set: &CanonicalSet,
) -> Result<Vec<i64>, WriteError> {
    let keys: Vec<PackageKey> = set.entries.iter().map(|(k, _)| *k).collect();
    let mut ids: Vec<Option<i64>> = vec![None; keys.len()];
    cache.packages(&keys, &mut ids);

    // Known to the database but not to this process.
    let missing = unresolved(&ids);
    if !missing.is_empty() {
        lookup(tx, pending, &keys, &missing, &mut ids).await?;
    }

    // New: insert in key order (the set's order), so concurrent
    // transactions take the unique-index locks in the same order and can't
    // deadlock.
    let new = unresolved(&ids);
    if !new.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO packages (key, name, epoch, version, release, arch, type,
                     source_name, source_version)
                 SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[],
                     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                 ORDER BY 1
                 ON CONFLICT (key) DO NOTHING RETURNING id, key",
            )
            .await?;
        let packages = || new.iter().map(|&i| &set.entries[i].1);
        let key_col: Vec<&[u8]> = new.iter().map(|&i| &keys[i].0[..]).collect();
        let text = |f: fn(&patchwatch_reports::Package) -> &str| -> Vec<&str> {
            packages().map(f).collect()
        };
        let rows = tx
            .query(
                &stmt,
                &[
                    &key_col,
                    &text(|p| p.name.as_str()),
                    &text(|p| p.epoch.as_str()),
                    &text(|p| p.version.as_str()),
                    &text(|p| p.release.as_str()),
                    &text(|p| p.arch.as_str()),
                    &text(|p| p.kind.as_str()),
                    &text(|p| p.source_name.as_str()),
                    &text(|p| p.source_version.as_str()),
                ],
            )
            .await?;
        resolve(pending, &keys, &new, &mut ids, rows)?;
        // Rows another transaction inserted first are now committed.
        let raced = unresolved(&ids);
        if !raced.is_empty() {
            lookup(tx, pending, &keys, &raced, &mut ids).await?;
        }
    }
    ids.into_iter()
        .map(|id| id.ok_or(WriteError::Race("package vanished")))
        .collect()
}

fn unresolved(ids: &[Option<i64>]) -> Vec<usize> {
    ids.iter()
        .enumerate()
        .filter_map(|(i, id)| id.is_none().then_some(i))
        .collect()
}

async fn lookup(
    tx: &Transaction<'_>,
    pending: &mut Pending,
    keys: &[PackageKey],
    wanted: &[usize],
    ids: &mut [Option<i64>],
) -> Result<(), WriteError> {
    let stmt = tx
        .prepare_cached("SELECT id, key FROM packages WHERE key = ANY($1::bytea[])")
        .await?;
    let key_col: Vec<&[u8]> = wanted.iter().map(|&i| &keys[i].0[..]).collect();
    let rows = tx.query(&stmt, &[&key_col]).await?;
    resolve(pending, keys, wanted, ids, rows)
}

/// Records the `(id, key)` rows against the `wanted` positions.
fn resolve(
    pending: &mut Pending,
    keys: &[PackageKey],
    wanted: &[usize],
    ids: &mut [Option<i64>],
    rows: Vec<tokio_postgres::Row>,
) -> Result<(), WriteError> {
    let position: HashMap<PackageKey, usize> = wanted.iter().map(|&i| (keys[i], i)).collect();
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let raw: &[u8] = row.try_get(1)?;
        let key = PackageKey(raw.try_into().map_err(|_| {
            StoreError::Corrupt(format!("package {id} has a {}-byte key", raw.len()))
        })?);
        if let Some(&i) = position.get(&key) {
            ids[i] = Some(id);
            pending.packages.push((key, id));
        }
    }
    Ok(())
}
