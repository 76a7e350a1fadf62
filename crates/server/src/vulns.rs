//! The advisory index the vulnerability endpoints read, and the fleet's
//! assessment kept against it.
//!
//! The index is loaded from the current feed generations and kept until one
//! of them changes; then only the packages the changed advisories name are
//! matched again, in every kept set. New reports are assessed in
//! the background shortly after they arrive (see [`assess_on_arrival`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, FeedKind, Millis, format_millis, now_millis};
use patchwatch_vulndb::{
    Arrival, CveSummary, FleetAssessment, FleetHosts, LoadedIndex, OpenCves, TagWanted, Triage,
    UpdateStats, load_index_since,
};
use serde::Serialize;
use tokio::sync::{Mutex, Notify};

use crate::error::ApiError;
use crate::kept_views::{Basis, Kept};

/// (feed id, generation id) of every enabled feed's current generation:
/// when it changes, the index is rebuilt.
type Key = Vec<(i64, i64)>;

struct Current {
    /// When the kept assessment was last brought up to date, and how.
    last: Option<(Millis, UpdateStats)>,
    key: Key,
    /// The part of `key` that is OVAL feeds.
    oval_key: Key,
    loaded: Arc<LoadedIndex>,
    fleet: FleetAssessment,
}

/// Reports waiting for the background assessor, at most.
const MAX_PENDING: usize = 100_000;

#[derive(Default)]
pub struct VulnIndex {
    current: Mutex<Option<Current>>,
    arrived: Notify,
    pending: std::sync::Mutex<Vec<Arrival>>,
    overflowed: AtomicBool,
    groups: OsGroups,
    /// What `status` answers, written whenever the assessment changes, so
    /// that asking never waits for an update in progress.
    snapshot: std::sync::Mutex<Status>,
    /// See [`VulnIndex::generation`]: the kept assessment's count of
    /// changes, as last recorded.
    generation: AtomicU64,
    /// The CVE lists asked last, by scope (the site ids in it).
    kept_cves: Kept<Vec<i64>, Vec<CveSummary>>,
    /// The hosts exposed to a CVE or a CVE tag asked last.
    kept_exposed: Kept<ExposedQuestion, Arc<Vec<i64>>>,
    /// The hosts of one CVE asked last, by (scope, CVE).
    kept_cve_hosts: Kept<(Vec<i64>, String), Arc<CveHosts>>,
    /// The fleet's hosts as last read (see [`VulnIndex::fleet_hosts`]).
    /// Held while they are read again, so that concurrent requests after a
    /// change wait for one read instead of each making their own (100,000
    /// hosts are tens of milliseconds a read).
    kept_hosts: Mutex<Option<KeptHosts>>,
    /// Reads of the hosts started, counted: see [`KeptHosts::read_number`].
    host_reads: AtomicU64,
}

/// The fleet's hosts as read, and which read it was.
struct KeptHosts {
    /// The value of [`VulnIndex::host_reads`] this read set as it began
    /// (after every report that had committed by then). A request that
    /// noted a smaller value before asking the store's version may use
    /// these hosts even if the version has moved since: they were read
    /// after the request began.
    read_number: u64,
    hosts: Arc<FleetHosts>,
}

/// Which hosts' exposure a hosts filter asks for (see
/// [`VulnIndex::hosts_exposed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ExposedQuestion {
    /// The site ids in scope.
    scope: Vec<i64>,
    cve: Option<String>,
    tag: Option<WantedTag>,
}

/// An owned [`TagWanted`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum WantedTag {
    Any,
    Named(String),
}

impl From<TagWanted<'_>> for WantedTag {
    fn from(t: TagWanted<'_>) -> WantedTag {
        match t {
            TagWanted::Any => WantedTag::Any,
            TagWanted::Named(name) => WantedTag::Named(name.to_owned()),
        }
    }
}

impl VulnIndex {
    /// An index whose OS mapping the admin's groups override.
    pub fn new(groups: OsGroups) -> VulnIndex {
        VulnIndex {
            groups,
            ..VulnIndex::default()
        }
    }

    /// The index for the current generations. Asking the store which
    /// generations are current is one small query; rebuilding (a fraction
    /// of a second for a whole vendor database) happens only after an
    /// import, and concurrent requests wait for the one rebuild.
    pub async fn current(&self, db: &dyn Database) -> Result<Arc<LoadedIndex>, ApiError> {
        let mut current = self.current.lock().await;
        refresh(&mut current, db, &self.groups).await?;
        let current = current.as_ref().expect("refreshed");
        self.record(current);
        Ok(current.loaded.clone())
    }

    /// Every CVE the hosts of the sites `keep` accepts (the caller's
    /// scope, a site) are exposed to, with its tags and the findings an
    /// exception covers counted apart, from the kept assessment (brought
    /// up to date first). Only those hosts are summarised, so no CVE, count
    /// or package of another host appears.
    pub async fn fleet_cves(
        &self,
        db: &dyn Database,
        keep: impl Fn(i64) -> bool,
        triage: &Triage,
    ) -> Result<Vec<CveSummary>, ApiError> {
        // Checked per request, before waiting for the assessment: a report
        // stored or a host deleted just before shows at once.
        let hosts = self.fleet_hosts(db).await?;
        let scope = scope_of(&hosts, keep);
        let mut guard = self.current.lock().await;
        let current = self.caught_up(&mut guard, db, &hosts).await?;
        let basis = basis(current, &hosts, triage);
        if let Some(kept) = self.kept_cves.get(&basis, &scope) {
            return Ok(kept);
        }
        let summaries = current.fleet.summaries(
            &hosts,
            |id| scope.binary_search(&id).is_ok(),
            triage,
            &self.groups,
        );
        self.kept_cves.put(basis, scope, summaries.clone());
        Ok(summaries)
    }

    /// For each (package set, OS, kernel) and site: the CVEs a host of
    /// that site running it is exposed to, exceptions applied (see
    /// [`FleetAssessment::open_cves`]). Keys the kept assessment has not
    /// seen (older reports, for trends) are assessed once, through the
    /// same code, and kept with the rest until a feed change. Without
    /// feeds, every list is empty.
    pub async fn open_cves(
        &self,
        db: &dyn Database,
        keys: &[(Arrival, String)],
        triage: &Triage,
    ) -> Result<OpenCves, ApiError> {
        Ok(self.open_cves_with_generation(db, keys, triage).await?.0)
    }

    /// [`VulnIndex::open_cves`] and the generation of the kept assessment
    /// the answer comes from, read together: an answer stays valid for
    /// as long as [`VulnIndex::generation`] returns that number (and the
    /// triage is the same).
    pub async fn open_cves_with_generation(
        &self,
        db: &dyn Database,
        keys: &[(Arrival, String)],
        triage: &Triage,
    ) -> Result<(OpenCves, u64), ApiError> {
        let mut guard = self.current.lock().await;
        refresh(&mut guard, db, &self.groups).await?;
        let current = guard.as_mut().expect("refreshed");
        if !has_feeds(current) {
            self.record(current);
            let none = OpenCves {
                names: Vec::new(),
                per_key: vec![Vec::new(); keys.len()],
            };
            return Ok((none, current.fleet.changes()));
        }
        current
            .fleet
            .assess_arrivals(db, &current.loaded, keys.iter().map(|(a, _)| a.clone()))
            .await?;
        self.record(current);
        let open = current.fleet.open_cves(keys, triage, &self.groups);
        Ok((open, current.fleet.changes()))
    }

    /// A number that changes whenever the kept assessment does: a feed
    /// change (re-assessed or invalidated), new keys assessed (reports
    /// arriving, catching up, historic sets). Anything derived from the
    /// assessment may be kept while it stays the same. As of the last
    /// call that brought the index up to date ([`VulnIndex::current`]
    /// does); never waits for an update in progress.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// [`VulnIndex::generation`] after noticing a feed change (one small
    /// query), unless an update is under way: then the generation from
    /// before it, without waiting (the update bumps it when it ends).
    pub async fn refreshed_generation(&self, db: &dyn Database) -> Result<u64, ApiError> {
        let Ok(mut guard) = self.current.try_lock() else {
            return Ok(self.generation());
        };
        refresh(&mut guard, db, &self.groups).await?;
        let current = guard.as_ref().expect("refreshed");
        self.record(current);
        Ok(current.fleet.changes())
    }

    /// The admin's OS groups, as the index applies them.
    pub fn groups(&self) -> &OsGroups {
        &self.groups
    }

    /// The ids (ascending) of the hosts of the sites `keep` accepts with
    /// an open finding of `cve` and/or of a CVE tagged `tag` (the web UI's
    /// hosts filters), from the kept assessment brought up to date first.
    pub async fn hosts_exposed(
        &self,
        db: &dyn Database,
        keep: impl Fn(i64) -> bool,
        cve: Option<&str>,
        tag: Option<TagWanted<'_>>,
        triage: &Triage,
    ) -> Result<Arc<Vec<i64>>, ApiError> {
        let hosts = self.fleet_hosts(db).await?;
        let question = ExposedQuestion {
            scope: scope_of(&hosts, keep),
            cve: cve.map(str::to_owned),
            tag: tag.map(WantedTag::from),
        };
        let mut guard = self.current.lock().await;
        let current = self.caught_up(&mut guard, db, &hosts).await?;
        let basis = basis(current, &hosts, triage);
        if let Some(kept) = self.kept_exposed.get(&basis, &question) {
            return Ok(kept);
        }
        let scope = &question.scope;
        let exposed = Arc::new(current.fleet.hosts_exposed(
            &hosts,
            |id| scope.binary_search(&id).is_ok(),
            cve,
            tag,
            triage,
            &self.groups,
        ));
        self.kept_exposed.put(basis, question, exposed.clone());
        Ok(exposed)
    }

    /// The hosts of the sites `keep` accepts with a kept finding of
    /// `cve`: those with an open one (no exception covers it), and those
    /// whose findings are all excepted, each by id (a page orders them in
    /// SQL). From the kept assessment brought up to date first, so a CVE
    /// page assesses only the hosts it shows.
    pub async fn cve_hosts(
        &self,
        db: &dyn Database,
        keep: impl Fn(i64) -> bool,
        cve: &str,
        triage: &Triage,
    ) -> Result<Arc<CveHosts>, ApiError> {
        let hosts = self.fleet_hosts(db).await?;
        let question = (scope_of(&hosts, keep), cve.to_owned());
        let mut guard = self.current.lock().await;
        let current = self.caught_up(&mut guard, db, &hosts).await?;
        let basis = basis(current, &hosts, triage);
        if let Some(kept) = self.kept_cve_hosts.get(&basis, &question) {
            return Ok(kept);
        }
        let scope = &question.0;
        let keep = |id: i64| scope.binary_search(&id).is_ok();
        let exposed =
            current
                .fleet
                .hosts_exposed(&hosts, keep, Some(cve), None, triage, &self.groups);
        let open: HashSet<i64> = exposed.iter().copied().collect();
        let excepted = current
            .fleet
            .hosts_with_cve(&hosts, keep, cve)
            .into_iter()
            .filter(|id| !open.contains(id))
            .collect();
        let found = Arc::new(CveHosts { exposed, excepted });
        self.kept_cve_hosts.put(basis, question, found.clone());
        Ok(found)
    }

    /// Every host's keys as the store has them now: the kept ones while
    /// the store's host keys version is the one they were read at (one
    /// single-row query), else read again and kept. Callers that find the
    /// hosts being read wait for that read, and use it: it began after
    /// they did, so it holds every report stored before their request.
    pub async fn fleet_hosts(&self, db: &dyn Database) -> Result<Arc<FleetHosts>, ApiError> {
        // Noted before asking the version: see [`KeptHosts::read_number`].
        let asked = self.host_reads.load(Ordering::Acquire);
        let version = db.host_keys_version().await?;
        let mut kept = self.kept_hosts.lock().await;
        if let Some(k) = kept.as_ref()
            && (k.hosts.version() == version || k.read_number > asked)
        {
            return Ok(k.hosts.clone());
        }
        let read_number = self.host_reads.fetch_add(1, Ordering::AcqRel) + 1;
        let hosts = Arc::new(FleetHosts::read(db).await?);
        *kept = Some(KeptHosts {
            read_number,
            hosts: hosts.clone(),
        });
        Ok(hosts)
    }

    /// The kept assessment brought up to date (index and `hosts`), and
    /// recorded.
    async fn caught_up<'a>(
        &self,
        guard: &'a mut Option<Current>,
        db: &dyn Database,
        hosts: &FleetHosts,
    ) -> Result<&'a mut Current, ApiError> {
        refresh(guard, db, &self.groups).await?;
        let current = guard.as_mut().expect("refreshed");
        let caught = catch_up(current, db, hosts).await;
        self.record(current);
        caught?;
        Ok(current)
    }

    /// Brings the kept assessment up to date: index and every host.
    pub async fn update(&self, db: &dyn Database) -> Result<UpdateStats, ApiError> {
        let mut guard = self.current.lock().await;
        refresh(&mut guard, db, &self.groups).await?;
        let current = guard.as_mut().expect("refreshed");
        // Without feeds there is nothing to assess: no host listing.
        let stats = if has_feeds(current) {
            match self.fleet_hosts(db).await {
                Ok(hosts) => catch_up(current, db, &hosts).await,
                Err(e) => Err(e),
            }
        } else {
            Ok(UpdateStats::default())
        };
        self.record(current);
        stats
    }

    /// The kept assessment as it stands, without updating it and without
    /// waiting for an update in progress (`updating` says one runs).
    pub fn status(&self) -> Status {
        let mut status = self
            .snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        status.updating = self.current.try_lock().is_err();
        status
    }

    fn record(&self, current: &Current) {
        let changes = current.fleet.changes();
        // Views of the assessment as it was are dropped by the next lookup.
        self.generation.store(changes, Ordering::Release);
        let (package_sets, packages) = current.fleet.kept();
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = Status {
            updating: false,
            feeds: current.loaded.feeds,
            advisories: current.loaded.advisories,
            assessments: current.fleet.len(),
            package_sets,
            packages,
            updated_at: current.last.map(|(at, _)| format_millis(at)),
            last_update: current.last.map(|(_, s)| s),
        };
    }

    /// Tells the background assessor a report was stored.
    pub fn report_arrived(&self, arrival: Arrival) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: past this many the assessor lists every host instead.
        if pending.len() < MAX_PENDING {
            pending.push(arrival);
        } else {
            self.overflowed.store(true, Ordering::Relaxed);
        }
        drop(pending);
        self.arrived.notify_one();
    }

    /// Assesses the reports stored since the last call, by their keys
    /// alone (no host listing); after an overflow, every host.
    pub async fn assess_pending(&self, db: &dyn Database) -> Result<UpdateStats, ApiError> {
        let arrivals = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if self.overflowed.swap(false, Ordering::Relaxed) {
            return self.update(db).await;
        }
        let mut guard = self.current.lock().await;
        refresh(&mut guard, db, &self.groups).await?;
        let current = guard.as_mut().expect("refreshed");
        if arrivals.is_empty() || !has_feeds(current) {
            self.record(current);
            return Ok(UpdateStats::default());
        }
        let stats = current
            .fleet
            .assess_arrivals(db, &current.loaded, arrivals)
            .await?;
        current.last = Some((now_millis(), stats));
        self.record(current);
        Ok(stats)
    }
}

/// The site ids of `hosts` that `keep` accepts, ascending: a view's scope.
fn scope_of(hosts: &FleetHosts, keep: impl Fn(i64) -> bool) -> Vec<i64> {
    hosts
        .site_ids()
        .into_iter()
        .filter(|&id| keep(id))
        .collect()
}

/// What a view computed now from the kept assessment and `hosts` is
/// computed from.
fn basis(current: &Current, hosts: &FleetHosts, triage: &Triage) -> Basis {
    Basis {
        assessment: current.fleet.changes(),
        hosts: hosts.version(),
        triage: triage.clone(),
    }
}

async fn catch_up(
    current: &mut Current,
    db: &dyn Database,
    hosts: &FleetHosts,
) -> Result<UpdateStats, ApiError> {
    if !has_feeds(current) {
        return Ok(UpdateStats::default());
    }
    let stats = current.fleet.catch_up(db, &current.loaded, hosts).await?;
    current.last = Some((now_millis(), stats));
    Ok(stats)
}

/// No feeds: nothing to assess against.
fn has_feeds(current: &Current) -> bool {
    current.loaded.advisories > 0 || !current.loaded.oval.is_empty()
}

/// The hosts with a kept finding of one CVE (see [`VulnIndex::cve_hosts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CveHosts {
    /// The ids of those with an open finding, ascending.
    pub exposed: Vec<i64>,
    /// The ids of those whose findings are all excepted, ascending.
    pub excepted: Vec<i64>,
}

/// What `GET /api/v1/assessment` reports: how far the kept assessment is.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    /// An update is running now (the numbers are from before it).
    pub updating: bool,
    pub feeds: usize,
    pub advisories: usize,
    /// Distinct (package set, OS, running kernel) assessments kept.
    pub assessments: usize,
    pub package_sets: usize,
    pub packages: usize,
    /// When the last update ended (RFC 3339), and what it did.
    pub updated_at: Option<String>,
    pub last_update: Option<UpdateStats>,
}

async fn refresh(
    current: &mut Option<Current>,
    db: &dyn Database,
    groups: &OsGroups,
) -> Result<(), ApiError> {
    let feeds = db.feeds().await?;
    let generations = |oval_only: bool| -> Key {
        feeds
            .iter()
            .filter(|f| f.enabled && (!oval_only || f.kind == FeedKind::Oval))
            .filter_map(|f| f.current.as_ref().map(|g| (f.id, g.id)))
            .collect()
    };
    let (key, oval_key) = (generations(false), generations(true));
    if let Some(c) = current.as_ref()
        && c.key == key
    {
        return Ok(());
    }
    // OVAL definitions are evaluated on whole hosts, not looked up by
    // package name: a changed OVAL feed re-assesses everything.
    let oval_changed = current.as_ref().is_none_or(|c| c.oval_key != oval_key);
    let previous = current.as_ref().map(|c| c.loaded.clone());
    let (loaded, changes) = load_index_since(db, previous.clone()).await.map_err(|e| {
        tracing::error!(error = %e, "loading the advisory index failed");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("loading the advisory index failed: {e}"),
        )
    })?;
    let mut loaded = loaded;
    loaded.index.set_os_groups(groups.clone());
    let loaded = Arc::new(loaded);
    let (mut fleet, mut last) = current
        .take()
        .map_or_else(Default::default, |c| (c.fleet, c.last));
    if let (Some(previous), Some(changed), false) = (previous, changes, oval_changed) {
        // Names the changed advisories give now, and (looked up by id in
        // the previous index) gave before: only those packages are matched
        // again, in every kept set.
        let touched = previous.index.names_touched(&changed);
        let index = loaded.clone();
        let (kept, stats) = tokio::task::spawn_blocking(move || {
            let stats = fleet.reassess_touched(&index, &touched);
            (fleet, stats)
        })
        .await
        .map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("re-assessing after a feed change failed: {e}"),
            )
        })?;
        fleet = kept;
        last = Some((now_millis(), stats));
        tracing::info!(
            advisories = changed.len(),
            assessed = stats.assessed,
            packages_matched = stats.packages_matched,
            ms = stats.elapsed.as_millis() as u64,
            "feeds changed: re-assessed only the packages they name"
        );
    } else {
        fleet.invalidate_all();
    }
    *current = Some(Current {
        last,
        key,
        oval_key,
        loaded,
        fleet,
    });
    Ok(())
}

/// Assesses new reports shortly after they arrive, in batches: a burst of
/// reports wakes it once. Also notices feed changes made by another
/// process (`patchwatch feeds import`, another server) within `poll`.
pub async fn assess_on_arrival(db: Arc<dyn Database>, vulns: Arc<VulnIndex>, poll: Duration) {
    // Lets a burst of reports gather before the batch is assessed.
    const SETTLE: Duration = Duration::from_millis(500);
    let mut full = true;
    loop {
        // At start, and every `poll`, the whole fleet (reports another
        // server process stored, feeds another process imported); in
        // between, the reports this process stored.
        let result = if full {
            vulns.update(db.as_ref()).await
        } else {
            vulns.assess_pending(db.as_ref()).await
        };
        if let Err(e) = result {
            tracing::warn!(error = %e.message, "assessing new reports failed; will retry");
        }
        full = tokio::time::timeout(poll, vulns.arrived.notified())
            .await
            .is_err();
        tokio::time::sleep(SETTLE).await;
    }
}
