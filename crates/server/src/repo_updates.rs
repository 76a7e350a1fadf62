//! The decoded repository snapshots the updates endpoints read, kept until
//! a repository's current snapshot changes (an import or sync) or a
//! repository is enabled, disabled or removed.

use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_store::Database;
use patchwatch_updates::Catalogue;
use tokio::sync::Mutex;

use crate::error::ApiError;

/// (repository id, current snapshot id) of every enabled repository.
type Key = Vec<(i64, i64)>;

#[derive(Default)]
pub struct RepoCatalogue {
    current: Mutex<Option<(Key, Arc<Catalogue>)>>,
    groups: OsGroups,
}

impl RepoCatalogue {
    pub fn new(groups: OsGroups) -> RepoCatalogue {
        RepoCatalogue {
            groups,
            ..RepoCatalogue::default()
        }
    }

    pub fn groups(&self) -> &OsGroups {
        &self.groups
    }

    /// The catalogue of the current snapshots, decoded again only when
    /// they changed.
    pub async fn current(&self, db: &dyn Database) -> Result<Arc<Catalogue>, ApiError> {
        let key = |repos: &mut dyn Iterator<Item = &patchwatch_store::Repository>| -> Key {
            repos
                .filter(|r| r.enabled)
                .filter_map(|r| r.current.as_ref().map(|s| (r.id, s.id)))
                .collect()
        };
        let wanted = key(&mut db.repositories().await?.iter());
        let mut current = self.current.lock().await;
        if let Some((k, catalogue)) = current.as_ref()
            && *k == wanted
        {
            return Ok(catalogue.clone());
        }
        let stored = db.current_repo_snapshots().await?;
        let loaded_key = key(&mut stored.iter().map(|(r, _)| r));
        let catalogue = tokio::task::spawn_blocking(move || Catalogue::new(stored))
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
        let catalogue = Arc::new(catalogue);
        *current = Some((loaded_key, catalogue.clone()));
        Ok(catalogue)
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
    let catalogue = state.repos.current(state.db.as_ref()).await?;
    let repos = catalogue.for_host(&host.repositories, &host.summary.os, state.repos.groups());
    if repos.is_empty() {
        return Ok(Vec::new());
    }
    let packages = state.db.package_set(host.summary.package_set_id).await?;
    let updates = catalogue.updates(&patchwatch_updates::Job {
        repositories: repos,
        installed: &packages,
        arch: host.summary.arch.clone(),
    });
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
    let fleet = patchwatch_updates::fleet_updates(
        state.db.as_ref(),
        &all,
        &catalogue,
        state.repos.groups(),
    )
    .await?;
    Ok(fleet
        .hosts
        .iter()
        .filter(|h| h.security() > 0)
        .map(|h| h.host_id)
        .collect())
}
