//! Every client format Patchwatch accepts, parsed into one [`Report`].
//!
//! - [`native`]: Patchwatch's own JSON (`POST /api/v1/reports`).
//! - [`os`]: OS strings and os-release fields normalised to distro + release.
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod native;
pub mod os;
pub mod validate;

pub use error::ReportError;
pub use model::{
    ClientInfo, ClientUpdate, Kernel, OsInfo, OsRelease, Package, PackageType, Protocol,
    RebootHint, Report, Repository,
};
