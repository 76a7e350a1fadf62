//! Errors of the matching engine. Matching itself never fails (a version
//! string nobody can parse still orders the way its package manager orders
//! it); only configuration can be wrong.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AssessError {
    /// A data scope is not `distro release`.
    #[error("data scope must be `distro release`: {0:?}")]
    BadScope(String),
    /// An OS group is malformed.
    #[error("OS group {group:?}: {reason}")]
    BadGroup { group: String, reason: String },
}
