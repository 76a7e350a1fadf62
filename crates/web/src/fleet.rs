//! What the dashboard and the site pages count: hosts by state, and the
//! trends over the report history, always over the hosts of the sites a
//! predicate (the caller's scope, a site) keeps.
//!
//! The store is read in bulk and kept in a [`FleetSnapshot`] (every host,
//! the report changes of the last [`MAX_DAYS`] days, pending security
//! updates), shared by every user: a page never runs a query per host.
//! Once the snapshot is older than [`SNAPSHOT_TTL`] (so a new report
//! counts within about a minute) the next request still gets it, and one
//! background task reads the next one; only a repository snapshot change
//! (or the very first request) makes a request wait for a fresh read.
//! Exposure comes from the server's kept assessment per distinct
//! (package set, OS, kernel, site) key of the snapshot, looked up once
//! and kept ([`crate::exposure`]) until the assessment or the triage
//! changes, so a feed change or an exception counts at the next request.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use patchwatch_advisories::SeverityLevel;
use patchwatch_auth::Action;
use patchwatch_reports::OsRelease;
use patchwatch_server::AppState;
use patchwatch_server::caller::Caller;
use patchwatch_store::{HostFilter, HostSummary, Millis, ReportChange, format_millis, now_millis};
use patchwatch_updates::Catalogue;
use patchwatch_vulndb::{Arrival, LoadedIndex, Triage, covered};
use tokio::sync::Mutex;

use crate::exposure::{Exposure, ExposureCache};
use crate::page::WebError;

/// The longest trend the dashboard draws, in days.
pub const MAX_DAYS: u32 = 90;
/// How long a snapshot of the store is served before a newer one is read
/// (in the background: the request that notices still gets this one).
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(60);
const DAY: Millis = 86_400_000;

/// The fleet as read from the store at one moment.
pub struct FleetSnapshot {
    taken: Instant,
    /// When the read began: a host whose `last_seen` is at or after this
    /// may have reported something `hosts` does not hold.
    pub read_from: Millis,
    /// The store's host keys version, read before the hosts: while it is
    /// the same, every host's site, set, OS and kernel are as read.
    pub hosts_version: i64,
    /// The repository snapshots the security updates were computed from.
    catalogue: Arc<Catalogue>,
    pub hosts: Vec<HostSummary>,
    pub site_names: HashMap<i64, String>,
    /// Report changes since `MAX_DAYS` days before today (see
    /// `Database::report_changes_since`).
    pub changes: Vec<ReportChange>,
    /// Security updates pending per host id; `None` when no repository
    /// snapshot is imported (nobody knows).
    pub security_updates: Option<HashMap<i64, usize>>,
    /// Every distinct (package set, OS, kernel, site) key of `hosts` and
    /// `changes`: what exposure is looked up by.
    pub keys: Vec<(Arrival, String)>,
    /// Each host's and each change's number in `keys`.
    pub host_keys: Vec<usize>,
    pub change_keys: Vec<usize>,
    /// Every site id of `site_names`, `hosts` and `changes`, ascending.
    pub site_ids: Vec<i64>,
}

impl FleetSnapshot {
    /// The site ids `keep_site` accepts, ascending: the scope counts are
    /// kept by.
    pub fn scope(&self, keep_site: impl Fn(i64) -> bool) -> Vec<i64> {
        self.site_ids
            .iter()
            .copied()
            .filter(|&s| keep_site(s))
            .collect()
    }
}

/// The shared snapshot and what is derived from it (an `Extension` of the
/// web routes).
#[derive(Default)]
pub struct SnapshotCache {
    kept: std::sync::Mutex<Option<Arc<FleetSnapshot>>>,
    /// Held while the store is read: one read at a time.
    reading: Mutex<()>,
    /// A background read is under way.
    revalidating: AtomicBool,
    pub(crate) exposure: ExposureCache,
    coverage: std::sync::Mutex<Option<KeptCoverage>>,
}

/// Whether a feed covers each OS, for one loaded index.
type KeptCoverage = (Arc<LoadedIndex>, HashMap<OsRelease, bool>);

/// Midnight UTC of the day `at` falls in.
pub fn day_start(at: Millis) -> Millis {
    at.div_euclid(DAY) * DAY
}

impl SnapshotCache {
    fn kept(&self) -> Option<Arc<FleetSnapshot>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn keep(&self, snapshot: Arc<FleetSnapshot>) {
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot);
    }

    /// The current snapshot. One older than [`SNAPSHOT_TTL`] is answered
    /// at once while one background task reads the next; only the first
    /// request, and the first after a repository snapshot changed, wait
    /// for a read (one read for all of them).
    pub async fn get(self: &Arc<Self>, state: &AppState) -> Result<Arc<FleetSnapshot>, WebError> {
        let catalogue = state.repos.current(state.db.as_ref()).await?;
        if let Some(s) = self.kept()
            && Arc::ptr_eq(&s.catalogue, &catalogue)
        {
            if s.taken.elapsed() >= SNAPSHOT_TTL {
                self.revalidate(state);
            }
            return Ok(s);
        }
        let _reading = self.reading.lock().await;
        // Read by the request (or background task) this one waited for.
        if let Some(s) = self.kept()
            && Arc::ptr_eq(&s.catalogue, &catalogue)
        {
            return Ok(s);
        }
        let snapshot = Arc::new(read(state, catalogue).await?);
        self.keep(snapshot.clone());
        Ok(snapshot)
    }

    /// Reads the next snapshot in the background, unless that is under
    /// way, and looks its exposure up before it is served.
    fn revalidate(self: &Arc<Self>, state: &AppState) {
        if self.revalidating.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let read_next = async {
                let _reading = cache.reading.lock().await;
                let catalogue = state.repos.current(state.db.as_ref()).await?;
                let snapshot = Arc::new(read(&state, catalogue).await?);
                let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
                let exposure = cache.exposure(&state, &snapshot, &triage).await?;
                exposure.scope_counts(&snapshot, &snapshot.site_ids);
                cache.keep(snapshot);
                Ok::<(), WebError>(())
            };
            if let Err(e) = read_next.await {
                tracing::warn!(error = ?e, "reading the fleet snapshot failed; serving the previous one");
            }
            cache.revalidating.store(false, Ordering::Release);
        });
    }

    /// The exposure of `snapshot`'s keys under `triage`, kept between
    /// requests until the kept assessment or the triage changes.
    pub async fn exposure(
        &self,
        state: &AppState,
        snapshot: &Arc<FleetSnapshot>,
        triage: &Triage,
    ) -> Result<Arc<Exposure>, WebError> {
        self.exposure.get(self, state, snapshot, triage).await
    }

    /// Whether any imported feed covers each OS of `hosts` (see
    /// `patchwatch_vulndb::covered`): one host's set stands for its OS,
    /// and is read only when OVAL feeds (which look at packages) are
    /// imported. Kept per OS until the loaded index changes.
    pub async fn coverage(
        &self,
        state: &AppState,
        hosts: &[&HostSummary],
    ) -> Result<HashMap<OsRelease, bool>, WebError> {
        let loaded = state.vulns.current(state.db.as_ref()).await?;
        let mut known = {
            let mut kept = self.coverage.lock().unwrap_or_else(|e| e.into_inner());
            match kept.as_ref() {
                Some((index, known)) if Arc::ptr_eq(index, &loaded) => known.clone(),
                _ => {
                    *kept = None;
                    HashMap::new()
                }
            }
        };
        let mut added = false;
        for &h in hosts {
            if known.contains_key(&h.os) {
                continue;
            }
            let packages = if loaded.oval.is_empty() {
                Vec::new()
            } else {
                state.db.package_set(h.package_set_id).await?
            };
            known.insert(h.os.clone(), covered(&loaded, h, &packages));
            added = true;
        }
        if added {
            let mut kept = self.coverage.lock().unwrap_or_else(|e| e.into_inner());
            match kept.as_mut() {
                Some((index, all)) if Arc::ptr_eq(index, &loaded) => {
                    all.extend(known.iter().map(|(os, c)| (os.clone(), *c)));
                }
                _ => *kept = Some((loaded, known.clone())),
            }
        }
        Ok(known)
    }
}

/// Reads every host, the report history of [`MAX_DAYS`] days and the
/// pending security updates.
async fn read(state: &AppState, catalogue: Arc<Catalogue>) -> Result<FleetSnapshot, WebError> {
    let db = state.db.as_ref();
    let read_from = now_millis();
    let taken = Instant::now();
    let hosts_version = db.host_keys_version().await?;
    let hosts = db.hosts(&HostFilter::default()).await?.items;
    let site_names: HashMap<i64, String> = db
        .sites()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let since = day_start(now_millis()) - i64::from(MAX_DAYS - 1) * DAY;
    let changes = db.report_changes_since(since).await?;
    let security_updates = if catalogue.is_empty() {
        None
    } else {
        let fleet = state.repos.fleet(db, &HostFilter::default()).await?;
        Some(
            fleet
                .hosts
                .iter()
                .map(|h| (h.host_id, h.security()))
                .collect(),
        )
    };
    let mut distinct = Distinct::default();
    let host_keys = hosts
        .iter()
        .map(|h| distinct.number(h.package_set_id, &h.os, &h.kernel, &h.site))
        .collect();
    let change_keys = changes
        .iter()
        .map(|c| {
            let site = site_names.get(&c.site_id).map_or("", String::as_str);
            distinct.number(c.package_set_id, &c.os, &c.kernel, site)
        })
        .collect();
    let keys = distinct.keys;
    let site_ids: BTreeSet<i64> = site_names
        .keys()
        .copied()
        .chain(hosts.iter().map(|h| h.site_id))
        .chain(changes.iter().map(|c| c.site_id))
        .collect();
    Ok(FleetSnapshot {
        taken,
        read_from,
        hosts_version,
        catalogue,
        hosts,
        site_names,
        changes,
        security_updates,
        keys,
        host_keys,
        change_keys,
        site_ids: site_ids.into_iter().collect(),
    })
}

/// Hosts by state; each state may overlap the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostStates {
    pub total: usize,
    /// Exposed to a CVE some tag names (not excepted).
    pub vulnerable_tagged: usize,
    /// Exposed to any CVE (not excepted).
    pub vulnerable: usize,
    /// `None`: no repository snapshot imported.
    pub security_updates: Option<usize>,
    /// The client says so or the server derived it (the hosts list's
    /// `reboot=yes`).
    pub reboot_required: usize,
    /// No report for `stale_days` days.
    pub stale: usize,
    pub stale_days: u32,
    /// No imported feed has data for the host's OS.
    pub not_covered: usize,
    /// The CVEs the hosts are exposed to (not excepted), most widespread
    /// first, then most severe.
    pub cves: Vec<CveCount>,
}

/// Distinct (package set, OS, kernel, site) keys, numbered in the order
/// first seen: what exposure is looked up by.
#[derive(Default)]
struct Distinct<'a> {
    numbers: HashMap<(i64, &'a OsRelease, &'a str, &'a str), usize>,
    keys: Vec<(Arrival, String)>,
}

impl<'a> Distinct<'a> {
    fn number(&mut self, set_id: i64, os: &'a OsRelease, kernel: &'a str, site: &'a str) -> usize {
        let next = self.keys.len();
        let n = *self
            .numbers
            .entry((set_id, os, kernel, site))
            .or_insert(next);
        if n == next {
            self.keys.push((
                Arrival {
                    set_id,
                    os: os.clone(),
                    kernel: kernel.to_owned(),
                },
                site.to_owned(),
            ));
        }
        n
    }
}

/// A CVE and how many of the counted hosts are exposed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CveCount {
    pub cve: String,
    pub severity: SeverityLevel,
    pub hosts: usize,
}

/// Counts the states of the hosts of the sites `keep_site` accepts, with
/// `exposure` (of this snapshot) for what depends on findings.
pub async fn host_states(
    state: &AppState,
    snapshot: &FleetSnapshot,
    exposure: &Exposure,
    keep_site: impl Fn(i64) -> bool,
) -> Result<HostStates, WebError> {
    let scope = snapshot.scope(keep_site);
    let in_scope = |site_id: i64| scope.binary_search(&site_id).is_ok();
    let stale_days = state.config.stale_after_days;
    let stale_before = now_millis() - i64::from(stale_days) * DAY;
    let exposed = exposure.scope_counts(snapshot, &scope);
    let mut states = HostStates {
        stale_days,
        security_updates: snapshot.security_updates.as_ref().map(|_| 0),
        vulnerable: exposed.vulnerable,
        vulnerable_tagged: exposed.vulnerable_tagged,
        not_covered: exposed.not_covered,
        cves: exposed.cves.clone(),
        ..HostStates::default()
    };
    for h in snapshot.hosts.iter().filter(|h| in_scope(h.site_id)) {
        states.total += 1;
        if let (Some(n), Some(by_host)) =
            (states.security_updates.as_mut(), &snapshot.security_updates)
            && by_host.get(&h.id).is_some_and(|&s| s > 0)
        {
            *n += 1;
        }
        if h.must_reboot() {
            states.reboot_required += 1;
        }
        if h.last_seen < stale_before {
            states.stale += 1;
        }
    }
    Ok(states)
}

/// One day of the trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Hosts that had reported by the end of the day.
    pub hosts: usize,
    /// Of those, hosts exposed to some CVE (not excepted) as of their
    /// latest report that day.
    pub exposed_hosts: usize,
    /// Distinct tagged CVEs some of them were exposed to.
    pub open_tagged_cves: usize,
}

/// The last `days` days (today included) from the report history of the
/// sites `keep_site` accepts: each host counts with what its latest
/// report by the end of a day said; hosts deleted since are gone. Kept
/// with `exposure` per scope, length and day.
pub fn trends(
    snapshot: &FleetSnapshot,
    exposure: &Exposure,
    keep_site: impl Fn(i64) -> bool,
    days: u32,
) -> Arc<Vec<TrendDay>> {
    let days = days.clamp(1, MAX_DAYS);
    let scope = snapshot.scope(keep_site);
    let today = day_start(now_millis());
    exposure.trend(scope, days, today, |scope| {
        count_trend(snapshot, exposure, scope, days, today)
    })
}

fn count_trend(
    snapshot: &FleetSnapshot,
    exposure: &Exposure,
    scope: &[i64],
    days: u32,
    today: Millis,
) -> Vec<TrendDay> {
    let changes: Vec<(&ReportChange, usize)> = snapshot
        .changes
        .iter()
        .zip(snapshot.change_keys.iter().copied())
        .filter(|(c, _)| scope.binary_search(&c.site_id).is_ok())
        .collect();
    let first = today - i64::from(days - 1) * DAY;
    let mut current: HashMap<i64, usize> = HashMap::new();
    let mut count = vec![0usize; snapshot.keys.len()];
    let mut next = 0;
    let mut out = Vec::with_capacity(days as usize);
    for d in 0..i64::from(days) {
        let end = first + (d + 1) * DAY;
        while next < changes.len() && changes[next].0.received_at < end {
            let (change, k) = changes[next];
            if let Some(old) = current.insert(change.host_id, k) {
                count[old] -= 1;
            }
            count[k] += 1;
            next += 1;
        }
        let mut cves: HashSet<u32> = HashSet::new();
        let mut exposed = 0;
        for (k, &n) in count.iter().enumerate().filter(|(_, n)| **n > 0) {
            if exposure.exposed(k) {
                exposed += n;
            }
            cves.extend(exposure.tagged(k));
        }
        out.push(TrendDay {
            day: format_millis(first + d * DAY)[..10].to_owned(),
            hosts: current.len(),
            exposed_hosts: exposed,
            open_tagged_cves: cves.len(),
        });
    }
    out
}

/// Whether the caller may read a site, by id.
pub fn reads(caller: &Caller) -> impl Fn(i64) -> bool + '_ {
    move |site_id| caller.access().allows(Action::Read, site_id)
}
