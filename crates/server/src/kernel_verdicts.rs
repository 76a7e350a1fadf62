//! The server's own "reboot required": the running kernel is older than
//! the newest installed kernel package (`patchwatch_updates::kernel_status`
//! without available packages). Derived from each report as it is stored
//! (see `ingest::store`), and, for hosts that have no verdict (stored
//! before migration 11, or whose report said its packages were unchanged
//! while the kernel changed), by a background pass in batches: at start,
//! then whenever an ingest leaves a host without one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use patchwatch_reports::{Package, Report};
use patchwatch_store::{Database, KernelCheck, KernelVerdict, StoreError};
use patchwatch_updates::{kernel_candidates, kernel_status};
use tokio::sync::Notify;

/// Hosts per batch of the background pass.
pub const BATCH: u32 = 500;
/// The pause between two batches, so a large fleet's pass leaves the store
/// to the reports arriving meanwhile.
const PAUSE: Duration = Duration::from_millis(20);

/// Whether `installed` running `running` on `arch` must reboot, judged
/// from the packages alone.
pub fn kernel_outdated(installed: &[Package], running: &str, arch: &str) -> bool {
    kernel_status(installed, running, arch, std::iter::empty(), None).reboot_required_derived
}

/// The verdict to store with `report`; `None` when it lists no packages
/// (they are unchanged: the store keeps the host's verdict while the
/// kernel is the same, else the background pass derives it).
pub fn for_report(report: &Report) -> Option<bool> {
    let packages = report.packages.as_deref()?;
    Some(kernel_outdated(
        packages,
        &report.kernel.release,
        &report.arch,
    ))
}

/// Wakes the background pass.
#[derive(Debug, Default)]
pub struct KernelBackfill {
    wake: Notify,
}

impl KernelBackfill {
    /// Tells the pass a host was left without a verdict.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillStats {
    pub hosts: u64,
    pub updated: u64,
    /// Distinct package sets read (each once per pass).
    pub sets_read: u64,
}

/// Derives the verdict of every host without one, `batch` hosts at a
/// time, reading each distinct package set once (only its possible kernel
/// packages are kept between batches).
pub async fn fill_unknown(db: &dyn Database, batch: u32) -> Result<BackfillStats, StoreError> {
    let mut stats = BackfillStats::default();
    let mut kernels_of_set: HashMap<i64, Vec<Package>> = HashMap::new();
    let mut after_id = 0;
    loop {
        let checks = db.hosts_without_kernel_verdict(after_id, batch).await?;
        let Some(last) = checks.last() else {
            return Ok(stats);
        };
        after_id = last.host_id;
        let more = checks.len() >= batch as usize;
        stats.hosts += checks.len() as u64;
        stats.sets_read += read_new_sets(db, &checks, &mut kernels_of_set).await?;
        let verdicts: Vec<KernelVerdict> = checks
            .into_iter()
            .filter_map(|check| {
                // A set pruned meanwhile: its host has a newer one, and a
                // verdict with it.
                let installed = kernels_of_set.get(&check.package_set_id)?;
                let outdated = kernel_outdated(installed, &check.kernel, &check.arch);
                Some(KernelVerdict { check, outdated })
            })
            .collect();
        stats.updated += db.set_kernel_verdicts(&verdicts).await?;
        if more {
            tokio::time::sleep(PAUSE).await;
        }
    }
}

/// Reads the sets of `checks` not read yet, in bulk; returns how many.
async fn read_new_sets(
    db: &dyn Database,
    checks: &[KernelCheck],
    kernels_of_set: &mut HashMap<i64, Vec<Package>>,
) -> Result<u64, StoreError> {
    let mut wanted: Vec<i64> = checks
        .iter()
        .map(|c| c.package_set_id)
        .filter(|id| !kernels_of_set.contains_key(id))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(0);
    }
    let members = db.package_set_members(&wanted).await?;
    let mut ids: Vec<i64> = members
        .iter()
        .flat_map(|(_, m)| m.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let packages: HashMap<i64, Package> = db.packages_by_id(&ids).await?.into_iter().collect();
    for (set_id, member_ids) in &members {
        let mut installed: Vec<Package> = member_ids
            .iter()
            .filter_map(|id| packages.get(id).cloned())
            .collect();
        patchwatch_store::sort_packages(&mut installed);
        kernels_of_set.insert(*set_id, kernel_candidates(&installed));
    }
    Ok(members.len() as u64)
}

/// Runs [`fill_unknown`] now, then each time `backfill` is woken; a
/// failed pass is retried after a minute.
pub async fn fill_forever(db: Arc<dyn Database>, backfill: Arc<KernelBackfill>) {
    loop {
        match fill_unknown(db.as_ref(), BATCH).await {
            Ok(stats) if stats.hosts > 0 => tracing::info!(
                hosts = stats.hosts,
                updated = stats.updated,
                sets = stats.sets_read,
                "derived the kernel verdict of hosts that had none"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "deriving kernel verdicts failed; retrying in a minute");
                tokio::time::sleep(Duration::from_secs(60)).await;
                continue;
            }
        }
        backfill.wake.notified().await;
    }
}
