//! Roles and where they are granted.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::AuthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, everywhere.
    Admin,
    /// Reads everything, changes nothing (the central CSIRT's reader).
    Auditor,
    /// Reads the hosts, packages and findings of a site or site group.
    Viewer,
    /// A viewer who may also manage exceptions within that scope (and tags,
    /// when the scope is everywhere: tags apply fleet-wide).
    Triager,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Auditor, Role::Viewer, Role::Triager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
            Role::Triager => "triager",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AuthError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| AuthError::UnknownRole(s.to_owned()))
    }

    /// Admin and auditor are fleet-wide by definition.
    pub fn is_global(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    pub fn may_triage(self) -> bool {
        matches!(self, Role::Admin | Role::Triager)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Everywhere,
    Site(i64),
    /// A site group: its sites and those of its child groups.
    Group(i64),
}

/// One role on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub role: Role,
    pub target: Target,
}

impl Grant {
    /// Checks that a global role is not granted on a site or group.
    pub fn new(role: Role, target: Target) -> Result<Grant, AuthError> {
        if role.is_global() && target != Target::Everywhere {
            return Err(AuthError::RoleIsGlobal { role });
        }
        Ok(Grant { role, target })
    }
}

/// What an API token may do within its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenAccess {
    Read,
    /// Read, and manage exceptions (and tags, when everywhere).
    Triage,
}

impl TokenAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAccess::Read => "read",
            TokenAccess::Triage => "triage",
        }
    }

    pub fn parse(s: &str) -> Result<TokenAccess, AuthError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(TokenAccess::Read),
            "triage" => Ok(TokenAccess::Triage),
            _ => Err(AuthError::UnknownAccess(s.to_owned())),
        }
    }

    /// The role a token of this access has on its own site or group.
    fn role(self) -> Role {
        match self {
            TokenAccess::Read => Role::Viewer,
            TokenAccess::Triage => Role::Triager,
        }
    }

    /// A user's grant as seen through a token of this access: a token
    /// never does more than its access says, nor more than its user may.
    fn cap(self, grant: Grant) -> Grant {
        let role = match (self, grant.role) {
            (TokenAccess::Read, Role::Admin | Role::Auditor) => Role::Auditor,
            (TokenAccess::Read, Role::Viewer | Role::Triager) => Role::Viewer,
            (TokenAccess::Triage, Role::Admin) => Role::Triager,
            (TokenAccess::Triage, r) => r,
        };
        Grant {
            role,
            target: grant.target,
        }
    }
}

impl fmt::Display for TokenAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose sites an API token covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Every site: what API tokens made before scopes existed became
    /// (read-only, as an auditor).
    Everywhere,
    /// Whatever its user may do, now and later.
    User(i64),
    Site(i64),
    Group(i64),
}

impl TokenScope {
    /// The token's grants, given its user's (only read for `User`).
    pub fn grants(self, access: TokenAccess, user_grants: &[Grant]) -> Vec<Grant> {
        let on = |target| Grant {
            role: access.role(),
            target,
        };
        match self {
            TokenScope::Everywhere => vec![match access {
                TokenAccess::Read => Grant {
                    role: Role::Auditor,
                    target: Target::Everywhere,
                },
                TokenAccess::Triage => on(Target::Everywhere),
            }],
            TokenScope::User(_) => user_grants.iter().map(|g| access.cap(*g)).collect(),
            TokenScope::Site(id) => vec![on(Target::Site(id))],
            TokenScope::Group(id) => vec![on(Target::Group(id))],
        }
    }
}
