#![forbid(unsafe_code)]
//! Pending updates, wired to storage: repository indexes read from files
//! ([`import`]) and stored as encoded snapshots ([`codec`]), the
//! repositories each host uses ([`hostrepos`]), and the candidates per host
//! computed once per distinct (package set, repository set) ([`compute`]).
//! The format rules themselves live in `patchwatch-repos`.

pub mod closes;
pub mod codec;
pub mod compute;
pub mod fleet;
pub mod hostrepos;
pub mod import;
pub mod kept;
pub mod kernel;
pub mod mirrors;
pub mod package_fleet;
pub mod package_view;
pub mod sync;
#[cfg(feature = "testing")]
pub mod testing;

pub use codec::{CodecError, decode, encode};
pub use compute::{Catalogue, HostUpdate, Job};
pub use fleet::{FleetUpdates, HostUpdates, PackageCount, fleet_updates, package_counts};
pub use hostrepos::{
    HostFacts, HostSources, RepositoryUse, host_sources, ignored_preferences, repositories_for_host,
};
pub use import::{ImportError, ImportFilesError, ImportSpec, import_files, read_snapshot};
pub use kept::{FleetHost, KeptUpdates, SwitchStats};
pub use kernel::{KernelPackage, KernelStatus, kernel_candidates, kernel_status};
pub use package_fleet::{PackageFleet, StateCounts, VersionCount, package_fleet, package_rows};
pub use package_view::{InstalledVersion, PackageHost, PackageState, package_view};
pub use sync::{RepoSyncError, RepoSyncOutcome, sync_repository};
