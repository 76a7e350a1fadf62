//! The fleet view of one package (Pakiti v2's Outdated/Missing page;
//! `packages show`, `GET /api/v1/packages/{name}`): which hosts run which
//! version from which repository, who is outdated, who lacks it.

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, HostFilter, StoreError};
use serde::Serialize;

use crate::kept::KeptUpdates;
use crate::package_fleet::{package_fleet, package_rows};

/// Where a host stands with the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageState {
    /// Installed, and its repositories offer a newer version.
    Outdated,
    /// Installed, and no repository of the host offers a newer version.
    Current,
    /// Not installed.
    Missing,
    /// Installed, but no repository applies to the host.
    Unknown,
}

impl PackageState {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Outdated => "outdated",
            PackageState::Current => "current",
            PackageState::Missing => "missing",
            PackageState::Unknown => "unknown",
        }
    }
}

/// One installed instance (several for multi-arch or installonly
/// packages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledVersion {
    pub version: String,
    pub arch: String,
    /// The host's repositories offering exactly this version; empty when
    /// none does (a local build, or a version no longer published).
    pub from: Vec<String>,
}

/// One host's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageHost {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub installed: Vec<InstalledVersion>,
    pub state: PackageState,
    pub candidate: Option<String>,
    pub repository: Option<String>,
    pub security: bool,
}

/// The view of package `name` over every host `filter` selects (the
/// caller's scope included), in the list's order (site, hostname, id);
/// `installed_only` leaves out the hosts that lack it. Where each host
/// stands comes from [`package_fleet`], the rows from [`package_rows`].
pub async fn package_view(
    db: &dyn Database,
    filter: &HostFilter,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
    name: &str,
    installed_only: bool,
) -> Result<Vec<PackageHost>, StoreError> {
    let fleet = package_fleet(db, filter, kept, groups, name).await?;
    let shown: Vec<i64> = fleet
        .listed()
        .iter()
        .copied()
        .filter(|&id| !installed_only || fleet.state(id) != PackageState::Missing)
        .collect();
    package_rows(db, filter, &fleet, &shown).await
}
