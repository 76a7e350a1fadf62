#![forbid(unsafe_code)]
//! Package repositories: the indexes hosts install from, and the updates
//! each host would get from them.
//!
//! A repository index is parsed whole into a [`RepoSnapshot`] (what the
//! repository offered at one moment); a host's pending updates are computed
//! from its installed packages and the snapshots of the repositories it
//! uses, with the rules of its own package manager:
//!
//! * [`apt`][]: `Release`/`InRelease` (checksums, suite, pin-relevant flags)
//!   and `Packages` indexes; candidates by apt's pin priorities.
//! * [`rpmmd`][]: `repomd.xml`, `primary.xml`, `updateinfo.xml`,
//!   `modules.yaml`; candidates as dnf chooses them (repo priority, arch,
//!   module streams, installonly packages).
//! * [`apk`][]: `APKINDEX.tar.gz`; candidates as apk chooses them.
//!
//! Every candidate is an [`Update`]: what is installed, what would be
//! installed instead, from which repository, whether it is a security
//! update and which CVEs it closes.

pub mod apk;
pub mod apt;
pub mod closes;
pub mod error;
pub mod model;
pub mod rpmmd;

pub use error::RepoError;
pub use model::{
    AvailablePackage, IndexFile, ModuleStream, RepoAdvisory, RepoKind, RepoMeta, RepoSnapshot,
    Update, UpdateKind,
};
