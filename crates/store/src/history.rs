//! A host's history: its reports, each with what changed since the one
//! before. Shared by `hosts history` and `GET /api/v1/hosts/{id}/reports`.

use patchwatch_reports::Package;
use serde::Serialize;

use crate::{Database, PackageDiff, ReportRecord, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub report: ReportRecord,
    /// Package changes since the previous report; empty when unchanged,
    /// absent for the oldest report shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<PackageDiff>,
}

/// The newest `limit` reports of a host (after `offset`), newest first.
pub async fn host_history(
    db: &dyn Database,
    host_id: i64,
    limit: u32,
    offset: u32,
) -> Result<Vec<HistoryEntry>, StoreError> {
    // One more than shown, so the oldest shown has something to compare to.
    let reports = db.reports(host_id, limit.saturating_add(1), offset).await?;
    let mut sets: std::collections::HashMap<i64, Vec<Package>> = Default::default();
    for r in &reports {
        if let std::collections::hash_map::Entry::Vacant(slot) = sets.entry(r.package_set_id) {
            slot.insert(db.package_set(r.package_set_id).await?);
        }
    }
    let mut out = Vec::with_capacity(reports.len());
    for (i, report) in reports.iter().enumerate().take(limit as usize) {
        let changes = reports.get(i + 1).map(|older| {
            if older.package_set_id == report.package_set_id {
                PackageDiff::default()
            } else {
                PackageDiff::between(&sets[&older.package_set_id], &sets[&report.package_set_id])
            }
        });
        out.push(HistoryEntry {
            report: report.clone(),
            changes,
        });
    }
    Ok(out)
}
