//! The decoded repository snapshots and the fleet's pending updates the
//! updates endpoints read, kept between requests. When a repository's
//! current snapshot changes (an import or sync) or a repository is added,
//! enabled, disabled or removed, only the changed snapshot is decoded and
//! only the (package set, repository set, arch) groups using that
//! repository are computed again (`patchwatch_updates::KeptUpdates`).

use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, HostDetail, HostFilter};
use patchwatch_updates::{
    Catalogue, FleetUpdates, HostUpdate, KeptUpdates, PackageFleet, PackageHost, SwitchStats,
    package_fleet, package_rows, package_view,
};
use tokio::sync::Mutex;

use crate::error::ApiError;

/// (repository id, current snapshot id) of every enabled repository.
type Key = Vec<(i64, i64)>;

pub struct RepoCatalogue {
    current: Mutex<(Key, KeptUpdates)>,
    groups: OsGroups,
    /// What the last catalogue change recomputed (for logs and tests).
    last_switch: std::sync::Mutex<Option<SwitchStats>>,
}

impl Default for RepoCatalogue {
    fn default() -> RepoCatalogue {
        RepoCatalogue::new(OsGroups::default())
    }
}

impl RepoCatalogue {
    pub fn new(groups: OsGroups) -> RepoCatalogue {
        RepoCatalogue {
            current: Mutex::new((Key::new(), KeptUpdates::new(Arc::new(Catalogue::empty())))),
            groups,
            last_switch: std::sync::Mutex::new(None),
        }
    }

    pub fn groups(&self) -> &OsGroups {
        &self.groups
    }

    /// What the last change of repositories recomputed.
    pub fn last_switch(&self) -> Option<SwitchStats> {
        *self.last_switch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The catalogue of the current snapshots, decoded again only when
    /// they changed.
    pub async fn current(&self, db: &dyn Database) -> Result<Arc<Catalogue>, ApiError> {
        let mut current = self.current.lock().await;
        self.refresh(&mut current, db).await?;
        Ok(current.1.catalogue().clone())
    }

    /// Every host `filter` selects with its updates, from the kept results.
    pub async fn fleet(
        &self,
        db: &dyn Database,
        filter: &HostFilter,
    ) -> Result<FleetUpdates, ApiError> {
        let mut current = self.current.lock().await;
        self.refresh(&mut current, db).await?;
        let fleet =
            patchwatch_updates::fleet_updates(db, filter, &mut current.1, &self.groups).await?;
        if *filter == HostFilter::default() {
            // Every host was listed: sets none of them has any more are
            // forgotten.
            current
                .1
                .retain_sets(&fleet.hosts.iter().map(|h| h.package_set_id).collect());
        }
        Ok(fleet)
    }

    /// The fleet view of package `name` over the hosts `filter` selects.
    pub async fn package(
        &self,
        db: &dyn Database,
        filter: &HostFilter,
        name: &str,
        installed_only: bool,
    ) -> Result<Vec<PackageHost>, ApiError> {
        let mut current = self.current.lock().await;
        self.refresh(&mut current, db).await?;
        Ok(package_view(
            db,
            filter,
            &mut current.1,
            &self.groups,
            name,
            installed_only,
        )
        .await?)
    }

    /// Where every host `filter` selects stands with package `name`, and
    /// the rows of its hosts with the package from the `skip`th, at most
    /// `limit` of them (in page order; none past the end). The rows need
    /// nothing kept: they are read after the lock is released.
    pub async fn package_page(
        &self,
        db: &dyn Database,
        filter: &HostFilter,
        name: &str,
        skip: usize,
        limit: usize,
    ) -> Result<(PackageFleet, Vec<PackageHost>), ApiError> {
        let fleet = {
            let mut current = self.current.lock().await;
            self.refresh(&mut current, db).await?;
            package_fleet(db, filter, &mut current.1, &self.groups, name).await?
        };
        let shown: Vec<i64> = fleet
            .installed()
            .iter()
            .skip(skip)
            .take(limit)
            .copied()
            .collect();
        let rows = package_rows(db, filter, &fleet, &shown).await?;
        Ok((fleet, rows))
    }

    /// One host's repositories (indexes into the returned catalogue) and
    /// updates, from the kept results.
    pub async fn host(
        &self,
        db: &dyn Database,
        host: &HostDetail,
    ) -> Result<(Arc<Catalogue>, Vec<usize>, Arc<Vec<HostUpdate>>), ApiError> {
        let mut current = self.current.lock().await;
        self.refresh(&mut current, db).await?;
        let (repos, updates) = current.1.host(db, host, &self.groups).await?;
        Ok((current.1.catalogue().clone(), repos, updates))
    }

    async fn refresh(
        &self,
        current: &mut (Key, KeptUpdates),
        db: &dyn Database,
    ) -> Result<(), ApiError> {
        let key = |repos: &mut dyn Iterator<Item = &patchwatch_store::Repository>| -> Key {
            repos
                .filter(|r| r.enabled)
                .filter_map(|r| r.current.as_ref().map(|s| (r.id, s.id)))
                .collect()
        };
        let wanted = key(&mut db.repositories().await?.iter());
        if current.0 == wanted {
            return Ok(());
        }
        let stored = db.current_repo_snapshots().await?;
        let loaded_key = key(&mut stored.iter().map(|(r, _)| r));
        let previous = current.1.catalogue().clone();
        let catalogue = tokio::task::spawn_blocking(move || previous.reload(stored))
            .await
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("decoding repository snapshots: {e}"),
                )
            })?
            .map_err(|e| {
                tracing::error!(error = %e, "stored repository snapshot unreadable");
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "a stored repository snapshot is unreadable",
                )
            })?;
        let stats = current.1.switch(Arc::new(catalogue));
        tracing::info!(
            ?stats,
            "repositories changed; pending updates brought up to date"
        );
        *self.last_switch.lock().unwrap_or_else(|e| e.into_inner()) = Some(stats);
        current.0 = loaded_key;
        Ok(())
    }
}

/// The periodic sync of repositories, run with the feeds' (`[server]
/// feed_sync_interval`): every enabled repository with an http(s) source
/// whose last sync is older than `interval` is synced; a failure keeps
/// its current snapshot. Returns how many were attempted.
pub async fn sync_due(
    db: &dyn Database,
    syncer: &patchwatch_vulndb::Syncer,
    interval: std::time::Duration,
) -> usize {
    let repos = match db.repositories().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "listing repositories for the periodic sync failed; will retry");
            return 0;
        }
    };
    let due_before = patchwatch_store::now_millis() - interval.as_millis() as i64;
    let mut attempted = 0;
    for repo in repos.iter().filter(|r| {
        r.enabled
            && (r.source.starts_with("http://") || r.source.starts_with("https://"))
            && r.sync.synced_at.is_none_or(|at| at <= due_before)
    }) {
        attempted += 1;
        match patchwatch_updates::sync_repository(syncer, db, repo, &|_| {}).await {
            Ok(outcome) => tracing::info!(repository = %repo.name, ?outcome, "repository synced"),
            Err(e) => tracing::warn!(
                repository = %repo.name,
                error = %e,
                "repository sync failed; the current snapshot stays"
            ),
        }
    }
    attempted
}

/// The security updates of a stored host as report-back lines (Patchman's
/// `report=true` reply): `name installed -> candidate (repository)`. Empty
/// when no imported repository applies to the host.
pub async fn security_update_lines(
    state: &crate::state::AppState,
    host_id: i64,
) -> Result<Vec<String>, ApiError> {
    let Some(host) = state.db.host(host_id).await? else {
        return Ok(Vec::new());
    };
    let (_, _, updates) = state.repos.host(state.db.as_ref(), &host).await?;
    Ok(updates
        .iter()
        .filter(|u| u.security)
        .map(|u| {
            format!(
                "{} {} -> {} ({})",
                u.name, u.installed, u.candidate, u.repository
            )
        })
        .collect())
}

/// The ids of the hosts of `filter` (the caller's scope in it) with at
/// least one pending security update: the web UI's hosts filter. None
/// when no repository snapshot is imported.
pub async fn hosts_with_security_updates(
    state: &crate::state::AppState,
    filter: &patchwatch_store::HostFilter,
) -> Result<Vec<i64>, ApiError> {
    let catalogue = state.repos.current(state.db.as_ref()).await?;
    if catalogue.is_empty() {
        return Ok(Vec::new());
    }
    let all = patchwatch_store::HostFilter {
        limit: None,
        offset: 0,
        ..filter.clone()
    };
    let fleet = state.repos.fleet(state.db.as_ref(), &all).await?;
    Ok(fleet
        .hosts
        .iter()
        .filter(|h| h.security() > 0)
        .map(|h| h.host_id)
        .collect())
}
