use thiserror::Error;

#[derive(Debug, Error)]
pub enum AuthError {
    #[error("unknown role {0:?}: expected admin, auditor, viewer or triager")]
    UnknownRole(String),
    #[error("unknown token access {0:?}: expected read or triage")]
    UnknownAccess(String),
    #[error("role {role} is granted everywhere, not on a site or site group")]
    RoleIsGlobal { role: crate::Role },
    #[error("{0}")]
    WeakPassword(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("stored password hash is malformed: {0}")]
    MalformedHash(String),
}
