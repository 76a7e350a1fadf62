//! Findings for one host, and for the fleet by CVE.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use patchwatch_assess::{Finding, PackageSet, SetInput, assess};
use patchwatch_reports::Package;
use patchwatch_store::{Database, HostFilter, HostSummary, StoreError};
use serde_json::Value;

use crate::feed::LoadedIndex;

/// A host's findings, most severe first, then by CVE and package.
pub fn host_findings(
    loaded: &LoadedIndex,
    host: &HostSummary,
    packages: &[Package],
) -> Vec<Finding> {
    let set = PackageSet {
        os: &host.os,
        kernel: &host.kernel,
        packages,
    };
    let mut findings = assess(&loaded.index, &set);
    // OVAL feeds: see oval_feeds.rs.
    findings.extend(crate::oval_feeds::oval_set_findings(loaded, &set));
    findings.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then_with(|| a.cve().cmp(b.cve()))
            .then_with(|| a.package().cmp(b.package()))
    });
    findings
}

/// A finding as JSON: the engine's fields, with `feed` naming the
/// configured feed(s) and `feed_kind` the data source.
pub fn finding_json(loaded: &LoadedIndex, f: &Finding) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        let kind = f.feed().as_str();
        // OVAL findings name their own feed (oval_feeds.rs).
        obj.insert("feed".into(), Value::from(loaded.finding_feed(f)));
        obj.insert("feed_kind".into(), Value::from(kind));
    }
    v
}

/// One exposed finding on one host (an index into the host list).
#[derive(Debug, Clone)]
pub struct HostFinding {
    pub host: usize,
    pub finding: Finding,
}

/// Assesses every host of `filter` against the index, each distinct
/// package set once, and returns the hosts and their exposed findings by
/// CVE (kernels installed but not running are left out), only those of
/// `only_cve` when given: a fleet has millions of findings, one CVE's
/// are few. (Fleet-wide counts come from [`crate::FleetAssessment`].)
pub async fn fleet_findings(
    db: &dyn Database,
    loaded: &LoadedIndex,
    filter: &HostFilter,
    only_cve: Option<&str>,
) -> Result<(Vec<HostSummary>, BTreeMap<String, Vec<HostFinding>>), StoreError> {
    let hosts = db.hosts(filter).await?.items;
    let mut sets: HashMap<i64, Vec<Package>> = HashMap::new();
    for h in &hosts {
        if let Entry::Vacant(slot) = sets.entry(h.package_set_id) {
            slot.insert(db.package_set(h.package_set_id).await?);
        }
    }
    let start = Instant::now();
    let inputs: Vec<SetInput<'_, i64>> = hosts
        .iter()
        .map(|h| SetInput {
            set_id: h.package_set_id,
            os: &h.os,
            kernel: &h.kernel,
            packages: sets.get(&h.package_set_id).map_or(&[], Vec::as_slice),
        })
        .collect();
    let results: Mutex<Vec<(Vec<usize>, Vec<Finding>)>> = Mutex::new(Vec::new());
    let stats = patchwatch_assess::assess_many_with(&loaded.index, &inputs, 0, |_, members, f| {
        // OVAL feeds, per distinct set in the same workers: see oval_feeds.rs.
        let parts = crate::oval_feeds::with_oval_findings(loaded, &inputs, members, f);
        let parts = parts.into_iter().map(|(members, mut findings)| {
            if let Some(cve) = only_cve {
                findings.retain(|f| f.cve() == cve);
            }
            (members, findings)
        });
        let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
        r.extend(parts);
    });
    tracing::info!(
        hosts = stats.inputs,
        distinct = stats.distinct,
        findings = stats.findings,
        ms = start.elapsed().as_millis() as u64,
        "fleet assessed"
    );
    let mut by_cve: BTreeMap<String, Vec<HostFinding>> = BTreeMap::new();
    for (members, findings) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        for f in findings.into_iter().filter(Finding::is_exposed) {
            let list = by_cve.entry(f.cve().to_owned()).or_default();
            for &m in &members {
                list.push(HostFinding {
                    host: m,
                    finding: f.clone(),
                });
            }
        }
    }
    Ok((hosts, by_cve))
}
