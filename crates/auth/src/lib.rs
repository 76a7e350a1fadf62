//! Authorization for Patchwatch: who a caller is ([`Identity`]), what its
//! grants let it do ([`Access`]), and the one place that decides
//! ([`Access::scope`], [`Access::allows`], [`Access::allows_everywhere`]).
//!
//! Access is always a set of sites ([`Scope`]). A role is granted on a
//! site, a site group (an NGI: a group of sites, possibly with child groups
//! one level deep) or everywhere. The API, the CLI and the web UI build an
//! [`Identity`] from whatever authenticated the caller (an API token, a
//! trusted SSO header, a client certificate, later a cookie session) and ask
//! it, never the credential, what the caller may do.
#![forbid(unsafe_code)]

mod access;
mod error;
pub mod password;
mod role;
mod scope;

pub use access::{Access, Action, Directory, Identity, Principal};
pub use error::AuthError;
pub use role::{Grant, Role, Target, TokenAccess, TokenScope};
pub use scope::Scope;
