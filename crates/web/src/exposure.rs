//! Exposure of a fleet snapshot's keys, kept between requests: each
//! distinct (package set, OS, kernel, site) key is looked up in the
//! server's kept assessment once, for the host counts and the trends
//! together, and the answer (with the counts finished per scope) is kept
//! until the kept assessment changes (`VulnIndex::generation`) or the
//! triage does (compared whole, as loaded, at every request: an exception
//! or a tag counts at the next request).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use patchwatch_reports::OsRelease;
use patchwatch_server::AppState;
use patchwatch_store::{HostSummary, Millis};
use patchwatch_vulndb::{OpenCves, Triage};

use crate::fleet::{CveCount, FleetSnapshot, SnapshotCache, TrendDay};
use crate::page::WebError;

/// Finished counts kept per exposure, at most (one per scope and trend
/// length): past this they are counted again.
const MAX_KEPT_COUNTS: usize = 256;
/// Exposures kept: the served snapshot's, and the next one's while a
/// background read prepares it.
const MAX_KEPT: usize = 2;

/// What the hosts of one scope (a set of sites) are exposed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeCounts {
    pub vulnerable: usize,
    pub vulnerable_tagged: usize,
    /// Hosts whose OS no imported feed covers.
    pub not_covered: usize,
    /// Most widespread first, then most severe.
    pub cves: Vec<CveCount>,
}

/// The open CVEs of every key of one snapshot, for one generation of the
/// kept assessment and one triage.
pub struct Exposure {
    snapshot: Weak<FleetSnapshot>,
    generation: u64,
    triage: Triage,
    open: OpenCves,
    /// Per key: the numbers of its open tagged CVEs.
    tagged: Vec<Vec<u32>>,
    /// Whether a feed covers each OS of the snapshot's hosts (a feed
    /// change is a new generation).
    coverage: HashMap<OsRelease, bool>,
    scopes: std::sync::Mutex<HashMap<Vec<i64>, Arc<ScopeCounts>>>,
    trends: std::sync::Mutex<HashMap<TrendKey, Arc<Vec<TrendDay>>>>,
}

/// Sites, days, the first moment of today.
type TrendKey = (Vec<i64>, u32, Millis);

fn memo<K: std::hash::Hash + Eq, V>(
    kept: &std::sync::Mutex<HashMap<K, Arc<V>>>,
    key: K,
    count: impl FnOnce() -> V,
) -> Arc<V> {
    if let Some(v) = kept.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return v.clone();
    }
    let v = Arc::new(count());
    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() >= MAX_KEPT_COUNTS {
        kept.clear();
    }
    kept.insert(key, v.clone());
    v
}

impl Exposure {
    fn fits(&self, snapshot: &Arc<FleetSnapshot>, generation: u64, triage: &Triage) -> bool {
        std::ptr::eq(self.snapshot.as_ptr(), Arc::as_ptr(snapshot))
            && self.generation == generation
            && self.triage == *triage
    }

    /// Whether hosts with key `key` have an open CVE.
    pub fn exposed(&self, key: usize) -> bool {
        !self.open.per_key[key].is_empty()
    }

    /// The open tagged CVEs (as numbers) of key `key`.
    pub fn tagged(&self, key: usize) -> &[u32] {
        &self.tagged[key]
    }

    /// The counts of the hosts of the sites `scope` (ascending) holds,
    /// counted once per scope.
    pub fn scope_counts(&self, snapshot: &FleetSnapshot, scope: &[i64]) -> Arc<ScopeCounts> {
        memo(&self.scopes, scope.to_vec(), || self.count(snapshot, scope))
    }

    /// The trend of `days` days ending `today` over the sites of `scope`,
    /// drawn by `count` once per scope, length and day.
    pub fn trend(
        &self,
        scope: Vec<i64>,
        days: u32,
        today: Millis,
        count: impl FnOnce(&[i64]) -> Vec<TrendDay>,
    ) -> Arc<Vec<TrendDay>> {
        let key = (scope, days, today);
        let sites = key.0.clone();
        memo(&self.trends, key, || count(&sites))
    }

    fn count(&self, snapshot: &FleetSnapshot, scope: &[i64]) -> ScopeCounts {
        let mut counts = ScopeCounts::default();
        let mut per_key = vec![0usize; snapshot.keys.len()];
        for (h, &k) in snapshot.hosts.iter().zip(&snapshot.host_keys) {
            if scope.binary_search(&h.site_id).is_err() {
                continue;
            }
            per_key[k] += 1;
            if self.exposed(k) {
                counts.vulnerable += 1;
            }
            if !self.tagged[k].is_empty() {
                counts.vulnerable_tagged += 1;
            }
            if !self.coverage.get(&h.os).copied().unwrap_or(false) {
                counts.not_covered += 1;
            }
        }
        let mut cves: HashMap<u32, CveCount> = HashMap::new();
        for (list, &n) in self.open.per_key.iter().zip(&per_key) {
            if n == 0 {
                continue;
            }
            for c in list {
                let count = cves.entry(c.cve).or_insert_with(|| CveCount {
                    cve: self.open.name(c).to_owned(),
                    severity: c.severity,
                    hosts: 0,
                });
                count.hosts += n;
                count.severity = count.severity.max(c.severity);
            }
        }
        counts.cves = cves.into_values().collect();
        counts.cves.sort_by(|a, b| {
            (b.hosts, b.severity)
                .cmp(&(a.hosts, a.severity))
                .then_with(|| a.cve.cmp(&b.cve))
        });
        counts
    }
}

/// The exposures kept (see [`MAX_KEPT`]).
#[derive(Default)]
pub struct ExposureCache {
    kept: std::sync::Mutex<Vec<Arc<Exposure>>>,
    /// Held while one is looked up: requests that need the same one wait
    /// for it rather than look it up again.
    looking_up: tokio::sync::Mutex<()>,
}

impl ExposureCache {
    fn find(
        &self,
        snapshot: &Arc<FleetSnapshot>,
        generation: u64,
        triage: &Triage,
    ) -> Option<Arc<Exposure>> {
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|e| e.fits(snapshot, generation, triage))
            .cloned()
    }

    pub(crate) async fn get(
        &self,
        cache: &SnapshotCache,
        state: &AppState,
        snapshot: &Arc<FleetSnapshot>,
        triage: &Triage,
    ) -> Result<Arc<Exposure>, WebError> {
        let db = state.db.as_ref();
        // A feed imported since counts now.
        let generation = state.vulns.refreshed_generation(db).await?;
        if let Some(e) = self.find(snapshot, generation, triage) {
            return Ok(e);
        }
        let _looking_up = self.looking_up.lock().await;
        if let Some(e) = self.find(snapshot, state.vulns.generation(), triage) {
            return Ok(e);
        }
        let (open, generation) = state
            .vulns
            .open_cves_with_generation(db, &snapshot.keys, triage)
            .await?;
        let hosts: Vec<&HostSummary> = snapshot.hosts.iter().collect();
        let coverage = cache.coverage(state, &hosts).await?;
        let tagged = open
            .per_key
            .iter()
            .map(|list| list.iter().filter(|c| c.tagged).map(|c| c.cve).collect())
            .collect();
        let exposure = Arc::new(Exposure {
            snapshot: Arc::downgrade(snapshot),
            generation,
            triage: triage.clone(),
            open,
            tagged,
            coverage,
            scopes: Default::default(),
            trends: Default::default(),
        });
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        // One per snapshot still served; the newest first.
        kept.retain(|e| {
            e.snapshot.strong_count() > 0
                && !std::ptr::eq(e.snapshot.as_ptr(), Arc::as_ptr(snapshot))
        });
        kept.insert(0, exposure.clone());
        kept.truncate(MAX_KEPT);
        Ok(exposure)
    }
}
