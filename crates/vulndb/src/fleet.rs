//! The fleet's assessment, kept between requests and brought up to date
//! incrementally.
//!
//! Results are kept per distinct (package set, OS, running kernel), never
//! per host: a thousand identical nodes share one. What is kept of each is
//! what fleet-wide views need (every exposed finding's CVE, package name
//! and severity, interned: 12 bytes a finding); a host's full findings with
//! their explanations are recomputed on request, which takes about 100 µs.
//!
//! * A new report is assessed on arrival: [`FleetAssessment::catch_up`]
//!   assesses every host whose key has no result yet.
//! * A feed update re-assesses only the sets holding a package the changed
//!   advisories name ([`FleetAssessment::invalidate`] with
//!   [`AdvisoryIndex::names_touched`]), then catches up.
//!
//! Sets are loaded from the store in chunks and dropped once assessed, so
//! memory holds the compact results and the name index, not the packages.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{AdvisoryIndex, Finding, SetIndex, SetInput, TouchedNames};
use patchwatch_reports::{OsRelease, Package};
use patchwatch_store::{Database, HostSummary, StoreError};
use serde::Serialize;

use crate::feed::LoadedIndex;

/// How many distinct sets are loaded and assessed at a time: bounds the
/// packages held in memory during a full assessment.
const CHUNK: usize = 2_000;

/// What one assessment is keyed by. The OS and kernel are kept whole (not
/// the index's data scopes) so keys stay valid when the index is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ResultKey {
    set_id: i64,
    os: OsRelease,
    kernel: String,
}

impl ResultKey {
    fn of(host: &HostSummary) -> ResultKey {
        ResultKey {
            set_id: host.package_set_id,
            os: host.os.clone(),
            kernel: host.kernel.clone(),
        }
    }
}

/// One exposed finding, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Exposure {
    cve: u32,
    package: u32,
    severity: SeverityLevel,
}

#[derive(Debug, Default)]
struct Interner {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(Box::from(s));
        self.ids.insert(Box::from(s), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// What an update did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UpdateStats {
    /// Hosts looked at.
    pub hosts: usize,
    /// Distinct (set, OS, kernel) keys assessed.
    pub assessed: usize,
    /// Distinct sets read from the store for it.
    pub sets_loaded: usize,
    /// Exposed findings over the assessed keys.
    pub findings: usize,
    #[serde(serialize_with = "millis")]
    pub load: Duration,
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// One CVE across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CveCount {
    pub cve: String,
    /// The highest severity any finding of it has.
    pub severity: SeverityLevel,
    /// Hosts exposed.
    pub hosts: usize,
    /// Package names through which they are.
    pub packages: Vec<String>,
}

/// The kept assessment of the fleet against one index.
#[derive(Debug, Default)]
pub struct FleetAssessment {
    strings: Interner,
    results: HashMap<ResultKey, Arc<[Exposure]>>,
    /// Package names -> sets, over every set ever assessed, for
    /// invalidation (internal set numbers keep it at 4 bytes an entry).
    names: SetIndex<u32>,
    set_numbers: HashMap<i64, u32>,
    set_ids: Vec<i64>,
}

impl FleetAssessment {
    pub fn new() -> FleetAssessment {
        FleetAssessment::default()
    }

    /// Distinct keys with a result.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// Forgets every result (the index changed in a way names cannot
    /// describe, such as a feed switched off).
    pub fn invalidate_all(&mut self) {
        self.results.clear();
    }

    /// Forgets the results of every set holding a package of one of the
    /// names; returns how many results were dropped.
    pub fn invalidate(&mut self, touched: &TouchedNames) -> usize {
        let sets: HashSet<i64> = self
            .names
            .sets_touching(touched)
            .into_iter()
            .map(|n| self.set_ids[n as usize])
            .collect();
        let before = self.results.len();
        self.results.retain(|k, _| !sets.contains(&k.set_id));
        before - self.results.len()
    }

    /// Assesses every host whose (set, OS, kernel) has no result yet.
    pub async fn catch_up(
        &mut self,
        db: &dyn Database,
        loaded: &Arc<LoadedIndex>,
        hosts: &[HostSummary],
    ) -> Result<UpdateStats, StoreError> {
        let start = Instant::now();
        let mut stats = UpdateStats {
            hosts: hosts.len(),
            ..UpdateStats::default()
        };
        let mut missing: Vec<ResultKey> = Vec::new();
        let mut seen: HashSet<ResultKey> = HashSet::new();
        for h in hosts {
            let key = ResultKey::of(h);
            if !self.results.contains_key(&key) && seen.insert(key.clone()) {
                missing.push(key);
            }
        }
        // Keys of one set together, so each set is read once.
        missing.sort_by_key(|k| k.set_id);
        let mut at = 0;
        while at < missing.len() {
            let mut end = at;
            let mut distinct = 0;
            while end < missing.len()
                && (distinct < CHUNK || missing[end].set_id == missing[end - 1].set_id)
            {
                if end == at || missing[end].set_id != missing[end - 1].set_id {
                    distinct += 1;
                }
                end += 1;
            }
            let chunk = &missing[at..end];
            at = end;
            let load = Instant::now();
            let mut sets: HashMap<i64, Vec<Package>> = HashMap::new();
            for k in chunk {
                if let Entry::Vacant(slot) = sets.entry(k.set_id) {
                    slot.insert(db.package_set(k.set_id).await?);
                }
            }
            stats.load += load.elapsed();
            stats.sets_loaded += sets.len();
            for (&id, packages) in &sets {
                if !self.set_numbers.contains_key(&id) {
                    let n = self.set_ids.len() as u32;
                    self.set_ids.push(id);
                    self.set_numbers.insert(id, n);
                    self.names.insert(n, packages);
                }
            }
            let chunk = chunk.to_vec();
            let index = loaded.clone();
            let results =
                tokio::task::spawn_blocking(move || assess_chunk(&index.index, &chunk, &sets))
                    .await
                    .map_err(|e| StoreError::Backend(format!("assessment task failed: {e}")))?;
            for (key, findings) in results {
                let mut exposures: Vec<Exposure> = findings
                    .iter()
                    .filter(|f| f.is_exposed())
                    .map(|f| Exposure {
                        cve: self.strings.id(f.cve()),
                        package: self.strings.id(f.package()),
                        severity: f.severity(),
                    })
                    .collect();
                exposures.sort_unstable();
                exposures.dedup();
                stats.findings += exposures.len();
                stats.assessed += 1;
                self.results.insert(key, exposures.into());
            }
        }
        stats.elapsed = start.elapsed();
        if stats.assessed > 0 {
            tracing::info!(
                hosts = stats.hosts,
                assessed = stats.assessed,
                sets_loaded = stats.sets_loaded,
                findings = stats.findings,
                load_ms = stats.load.as_millis() as u64,
                ms = stats.elapsed.as_millis() as u64,
                "fleet assessment brought up to date"
            );
        }
        Ok(stats)
    }

    /// Every CVE some of `hosts` is exposed to (hosts without a result are
    /// left out: catch up first), most severe and widespread first.
    pub fn cves(&self, hosts: &[HostSummary]) -> Vec<CveCount> {
        let mut members: HashMap<ResultKey, usize> = HashMap::new();
        for h in hosts {
            *members.entry(ResultKey::of(h)).or_default() += 1;
        }
        struct Acc {
            severity: SeverityLevel,
            hosts: usize,
            packages: BTreeSet<u32>,
        }
        let mut by_cve: BTreeMap<u32, Acc> = BTreeMap::new();
        for (key, count) in members {
            let Some(exposures) = self.results.get(&key) else {
                continue;
            };
            let mut last_cve = None;
            for e in exposures.iter() {
                let acc = by_cve.entry(e.cve).or_insert(Acc {
                    severity: e.severity,
                    hosts: 0,
                    packages: BTreeSet::new(),
                });
                acc.severity = acc.severity.max(e.severity);
                acc.packages.insert(e.package);
                // Sorted by CVE: a host counts once per CVE whatever the
                // number of its packages.
                if last_cve != Some(e.cve) {
                    acc.hosts += count;
                    last_cve = Some(e.cve);
                }
            }
        }
        let mut out: Vec<CveCount> = by_cve
            .into_iter()
            .map(|(cve, acc)| {
                let mut packages: Vec<String> = acc
                    .packages
                    .iter()
                    .map(|&p| self.strings.name(p).to_owned())
                    .collect();
                packages.sort();
                packages.dedup();
                CveCount {
                    cve: self.strings.name(cve).to_owned(),
                    severity: acc.severity,
                    hosts: acc.hosts,
                    packages,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| b.hosts.cmp(&a.hosts))
                .then_with(|| a.cve.cmp(&b.cve))
        });
        out
    }
}

fn assess_chunk(
    index: &AdvisoryIndex,
    keys: &[ResultKey],
    sets: &HashMap<i64, Vec<Package>>,
) -> Vec<(ResultKey, Vec<Finding>)> {
    let inputs: Vec<SetInput<'_, usize>> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| SetInput {
            // Each key is its own job: they are distinct already.
            set_id: i,
            os: &k.os,
            kernel: &k.kernel,
            packages: sets.get(&k.set_id).map_or(&[], Vec::as_slice),
        })
        .collect();
    let out: Mutex<Vec<(ResultKey, Vec<Finding>)>> = Mutex::new(Vec::with_capacity(keys.len()));
    patchwatch_assess::assess_many_with(index, &inputs, 0, |key, _, findings| {
        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
        out.push((keys[key.set_id].clone(), findings));
    });
    out.into_inner().unwrap_or_else(|e| e.into_inner())
}
