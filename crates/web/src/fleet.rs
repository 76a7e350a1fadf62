//! What the dashboard and the site pages count: hosts by state, and the
//! trends over the report history, always over the hosts a predicate (the
//! caller's scope, a site) keeps.
//!
//! The store is read in bulk and kept in a [`FleetSnapshot`] for a short
//! while (every host, the report changes of the last [`MAX_DAYS`] days,
//! pending security updates), shared by every user: a page never runs a
//! query per host. The snapshot is read again after [`SNAPSHOT_TTL`] (so a
//! new report counts within a minute), or sooner when a repository
//! snapshot changes. Exposure is not in it: it comes from the server's kept
//! assessment at each request (so a feed change or an exception counts at
//! once), per distinct (package set, OS, kernel) and site; historic sets
//! are assessed once through the same code and kept with the rest.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchwatch_advisories::SeverityLevel;
use patchwatch_auth::Action;
use patchwatch_reports::OsRelease;
use patchwatch_server::AppState;
use patchwatch_server::caller::Caller;
use patchwatch_store::{HostFilter, HostSummary, Millis, ReportChange, format_millis, now_millis};
use patchwatch_updates::Catalogue;
use patchwatch_vulndb::{Arrival, Triage, covered};
use tokio::sync::Mutex;

use crate::page::WebError;

/// The longest trend the dashboard draws, in days.
pub const MAX_DAYS: u32 = 90;
/// How long a snapshot of the store is used at most.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(60);
const DAY: Millis = 86_400_000;

/// The fleet as read from the store at one moment.
pub struct FleetSnapshot {
    taken: Instant,
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
}

/// The shared snapshot (an `Extension` of the web routes).
#[derive(Default)]
pub struct SnapshotCache(Mutex<Option<Arc<FleetSnapshot>>>);

/// Midnight UTC of the day `at` falls in.
pub fn day_start(at: Millis) -> Millis {
    at.div_euclid(DAY) * DAY
}

impl SnapshotCache {
    /// The current snapshot; requests arriving while one is read wait for
    /// it rather than reading again.
    pub async fn get(&self, state: &AppState) -> Result<Arc<FleetSnapshot>, WebError> {
        let mut kept = self.0.lock().await;
        let db = state.db.as_ref();
        let catalogue = state.repos.current(db).await?;
        if let Some(s) = kept.as_ref()
            && s.taken.elapsed() < SNAPSHOT_TTL
            && Arc::ptr_eq(&s.catalogue, &catalogue)
        {
            return Ok(s.clone());
        }
        let hosts = db.hosts(&HostFilter::default()).await?.items;
        let site_names = db
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
        let snapshot = Arc::new(FleetSnapshot {
            taken: Instant::now(),
            catalogue,
            hosts,
            site_names,
            changes,
            security_updates,
        });
        *kept = Some(snapshot.clone());
        Ok(snapshot)
    }
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

/// Counts the states of the hosts `keep` accepts.
pub async fn host_states(
    state: &AppState,
    snapshot: &FleetSnapshot,
    keep: impl Fn(&HostSummary) -> bool,
    triage: &Triage,
) -> Result<HostStates, WebError> {
    let hosts: Vec<&HostSummary> = snapshot.hosts.iter().filter(|h| keep(h)).collect();
    let stale_days = state.config.stale_after_days;
    let stale_before = now_millis() - i64::from(stale_days) * DAY;
    // Exposure per distinct (set, OS, kernel, site).
    let mut distinct = Distinct::default();
    let of_host: Vec<usize> = hosts
        .iter()
        .map(|h| distinct.number(h.package_set_id, &h.os, &h.kernel, &h.site))
        .collect();
    let open = state
        .vulns
        .open_cves(state.db.as_ref(), &distinct.keys, triage)
        .await?;
    let covered_os = coverage(state, &hosts).await?;
    let mut states = HostStates {
        total: hosts.len(),
        stale_days,
        security_updates: snapshot.security_updates.as_ref().map(|_| 0),
        ..HostStates::default()
    };
    let mut per_key = vec![0usize; distinct.keys.len()];
    for (h, &k) in hosts.iter().zip(&of_host) {
        per_key[k] += 1;
        if !open.per_key[k].is_empty() {
            states.vulnerable += 1;
        }
        if open.per_key[k].iter().any(|c| c.tagged) {
            states.vulnerable_tagged += 1;
        }
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
        if !covered_os.get(&h.os).copied().unwrap_or(false) {
            states.not_covered += 1;
        }
    }
    let mut cves: HashMap<u32, CveCount> = HashMap::new();
    for (list, &n) in open.per_key.iter().zip(&per_key) {
        for c in list {
            let count = cves.entry(c.cve).or_insert_with(|| CveCount {
                cve: open.name(c).to_owned(),
                severity: c.severity,
                hosts: 0,
            });
            count.hosts += n;
            count.severity = count.severity.max(c.severity);
        }
    }
    states.cves = cves.into_values().collect();
    states.cves.sort_by(|a, b| {
        (b.hosts, b.severity)
            .cmp(&(a.hosts, a.severity))
            .then_with(|| a.cve.cmp(&b.cve))
    });
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
/// report by the end of a day said; hosts deleted since are gone.
pub async fn trends(
    state: &AppState,
    snapshot: &FleetSnapshot,
    keep_site: impl Fn(i64) -> bool,
    days: u32,
    triage: &Triage,
) -> Result<Vec<TrendDay>, WebError> {
    let days = days.clamp(1, MAX_DAYS);
    let changes: Vec<&ReportChange> = snapshot
        .changes
        .iter()
        .filter(|c| keep_site(c.site_id))
        .collect();
    let mut distinct = Distinct::default();
    let of_change: Vec<usize> = changes
        .iter()
        .map(|c| {
            let site = snapshot
                .site_names
                .get(&c.site_id)
                .map_or("", String::as_str);
            distinct.number(c.package_set_id, &c.os, &c.kernel, site)
        })
        .collect();
    let open = state
        .vulns
        .open_cves(state.db.as_ref(), &distinct.keys, triage)
        .await?;
    // Tagged CVEs (as numbers), per key.
    let tagged: Vec<Vec<u32>> = open
        .per_key
        .iter()
        .map(|list| list.iter().filter(|c| c.tagged).map(|c| c.cve).collect())
        .collect();
    let today = day_start(now_millis());
    let first = today - i64::from(days - 1) * DAY;
    let mut current: HashMap<i64, usize> = HashMap::new();
    let mut count = vec![0usize; distinct.keys.len()];
    let mut next = 0;
    let mut out = Vec::with_capacity(days as usize);
    for d in 0..i64::from(days) {
        let end = first + (d + 1) * DAY;
        while next < changes.len() && changes[next].received_at < end {
            let k = of_change[next];
            if let Some(old) = current.insert(changes[next].host_id, k) {
                count[old] -= 1;
            }
            count[k] += 1;
            next += 1;
        }
        let mut cves: HashSet<u32> = HashSet::new();
        let mut exposed = 0;
        for (k, &n) in count.iter().enumerate().filter(|(_, n)| **n > 0) {
            if !open.per_key[k].is_empty() {
                exposed += n;
            }
            cves.extend(&tagged[k]);
        }
        out.push(TrendDay {
            day: format_millis(first + d * DAY)[..10].to_owned(),
            hosts: current.len(),
            exposed_hosts: exposed,
            open_tagged_cves: cves.len(),
        });
    }
    Ok(out)
}

/// Whether the caller may read a site, by id.
pub fn reads(caller: &Caller) -> impl Fn(i64) -> bool + '_ {
    move |site_id| caller.access().allows(Action::Read, site_id)
}

/// Whether any imported feed covers each OS among `hosts` (see
/// `patchwatch_vulndb::covered`): one host's set stands for its OS, and is
/// read only when OVAL feeds (which look at packages) are imported.
pub async fn coverage<'h>(
    state: &AppState,
    hosts: &[&'h HostSummary],
) -> Result<HashMap<&'h OsRelease, bool>, WebError> {
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let mut covered_os = HashMap::new();
    for &h in hosts {
        if covered_os.contains_key(&h.os) {
            continue;
        }
        let packages = if loaded.oval.is_empty() {
            Vec::new()
        } else {
            state.db.package_set(h.package_set_id).await?
        };
        covered_os.insert(&h.os, covered(&loaded, h, &packages));
    }
    Ok(covered_os)
}
