//! Every client format Patchwatch accepts, parsed into one [`Report`].
//!
//! - [`native`]: Patchwatch's own JSON (`POST /api/v1/reports`).
//! - [`os`]: OS strings and os-release fields normalised to distro + release.
//! - [`pakiti`]: `pakiti-client` 3.x (protocol 5) and `pakiti2-client`
//!   (protocol 4) reports, and their plain-text reply.
//! - [`patchman`]: `patchman-client` protocol 1 (form) and 2 (JSON) reports.
//! - [`envelope`]: decryption of Pakiti's CMS-encrypted reports.
//! - [`validate`]: the bounds and checks every format's report passes, and
//!   [`hostname`]: the one normal form of a hostname.
#![forbid(unsafe_code)]

pub mod envelope;
pub mod error;
mod form;
pub mod hostname;
pub mod model;
pub mod native;
pub mod os;
pub mod pakiti;
pub mod patchman;
pub mod release;
pub mod validate;

pub use envelope::{Decryptor, EnvelopeError};
pub use pakiti::{Mode, SecurityUpdate, TaggedFinding};

pub use error::ReportError;
pub use model::{
    ApkPin, AptPreferences, ClientInfo, ClientUpdate, Kernel, ModuleStream, OsInfo, OsRelease,
    Package, PackageType, Protocol, RebootHint, Report, Repository,
};
