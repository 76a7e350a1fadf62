//! Users, their role grants, and site groups (migration 5 in both
//! backends). What a grant *means* is decided in `patchwatch-auth`; this
//! module stores and validates them, once for both backends.

use patchwatch_auth::{Directory, Grant, Role, Target, TokenAccess, TokenScope};
use serde::{Serialize, Serializer};

use crate::{Millis, StoreError, TokenRecord, format_millis};

fn rfc3339<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*ms))
}

/// How a user came to exist.
pub const ORIGIN_LOCAL: &str = "local";
/// Created on first login through a trusted SSO header or certificate.
pub const ORIGIN_SSO: &str = "sso";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    /// An argon2 PHC string (`patchwatch_auth::password::hash`); `None`
    /// for users who only log in through SSO.
    pub password_hash: Option<String>,
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub origin: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub has_password: bool,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    pub grants: Vec<UserGrant>,
}

impl User {
    pub fn grants(&self) -> Vec<Grant> {
        self.grants.iter().map(UserGrant::grant).collect()
    }
}

/// A role granted to a user, with the names of its site or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserGrant {
    pub role: Role,
    pub site: Option<String>,
    #[serde(skip)]
    pub site_id: Option<i64>,
    pub group: Option<String>,
    #[serde(skip)]
    pub group_id: Option<i64>,
}

impl UserGrant {
    pub fn grant(&self) -> Grant {
        let target = match (self.site_id, self.group_id) {
            (Some(s), _) => Target::Site(s),
            (None, Some(g)) => Target::Group(g),
            (None, None) => Target::Everywhere,
        };
        Grant {
            role: self.role,
            target,
        }
    }
}

/// A grant as asked for: by site or group name, or everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub role: Role,
    pub site: Option<String>,
    pub group: Option<String>,
}

impl NewGrant {
    /// Admin and auditor are everywhere; viewer and triager need a site or
    /// a group (one of them).
    pub fn validate(&self) -> Result<(), StoreError> {
        match (&self.site, &self.group) {
            (Some(_), Some(_)) => Err(StoreError::Invalid(
                "a grant is on a site or on a site group, not both".into(),
            )),
            (None, None) if !self.role.is_global() => Err(StoreError::Invalid(format!(
                "role {} needs a site or a site group",
                self.role
            ))),
            (Some(_), None) | (None, Some(_)) if self.role.is_global() => {
                Err(StoreError::Invalid(format!(
                    "role {} is granted everywhere, not on a site or site group",
                    self.role
                )))
            }
            _ => Ok(()),
        }
    }
}

/// A group of sites (an NGI); a group may have a parent group, which may
/// not have one itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteGroup {
    pub id: i64,
    pub name: String,
    pub parent: Option<String>,
    #[serde(skip)]
    pub parent_id: Option<i64>,
    /// Its own member sites, by name.
    pub sites: Vec<String>,
    #[serde(skip)]
    pub site_ids: Vec<i64>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
}

/// The groups as the authorization decision reads them.
pub fn directory(groups: &[SiteGroup]) -> Directory {
    let mut d = Directory::new();
    for g in groups {
        d.add_group(g.id, g.parent_id, g.site_ids.iter().copied());
    }
    d
}

/// User names are printable text: a login, an e-mail address or a
/// certificate subject DN (`CN=Jane Doe,O=Example`).
pub fn validate_user_name(name: &str) -> Result<(), StoreError> {
    if name.trim() != name || name.is_empty() || name.len() > 256 {
        return Err(StoreError::Invalid(format!(
            "user name {name:?} must be 1 to 256 characters without leading or trailing spaces"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(StoreError::Invalid(format!(
            "user name {name:?} must not contain {c:?}"
        )));
    }
    Ok(())
}

pub fn validate_group_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 64 {
        return Err(StoreError::Invalid(format!(
            "site group name {name:?} must be 1 to 64 characters"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::Invalid(format!(
            "site group name {name:?} must not contain {c:?}"
        )));
    }
    Ok(())
}

/// Builds users from one user query and one grant query (both ordered),
/// the same way in both backends.
pub fn assemble_users(mut users: Vec<User>, grants: Vec<(i64, UserGrant)>) -> Vec<User> {
    for (user_id, grant) in grants {
        if let Some(u) = users.iter_mut().find(|u| u.id == user_id) {
            u.grants.push(grant);
        }
    }
    users
}

/// Builds groups from one group query and one membership query.
pub fn assemble_groups(
    mut groups: Vec<SiteGroup>,
    members: Vec<(i64, i64, String)>,
) -> Vec<SiteGroup> {
    for (group_id, site_id, site) in members {
        if let Some(g) = groups.iter_mut().find(|g| g.id == group_id) {
            g.site_ids.push(site_id);
            g.sites.push(site);
        }
    }
    groups
}

/// The columns of the user query both backends run, in the order
/// [`user`] reads them.
pub const USER_COLUMNS: &str =
    "SELECT u.id, u.name, u.origin, u.password_hash, u.created_at FROM users u";

/// A user (without grants) from [`USER_COLUMNS`].
pub fn user(r: &dyn crate::rows::Columns) -> Result<User, StoreError> {
    let password_hash = r.opt_text(3)?;
    Ok(User {
        id: r.int(0)?,
        name: r.text(1)?,
        origin: r.text(2)?,
        has_password: password_hash.is_some(),
        password_hash,
        created_at: r.int(4)?,
        grants: Vec::new(),
    })
}

/// Grants with their user, site and group; each backend adds a `WHERE`
/// on `u.name` (one user, as every SSO request asks, or all) and
/// [`GRANT_ORDER`].
pub const GRANT_COLUMNS: &str = "SELECT g.user_id, g.role, g.site_id, s.name, g.group_id, sg.name
     FROM role_grants g JOIN users u ON u.id = g.user_id
     LEFT JOIN sites s ON s.id = g.site_id
     LEFT JOIN site_groups sg ON sg.id = g.group_id";

/// The order grants are listed in.
pub const GRANT_ORDER: &str = "ORDER BY g.user_id, g.role, s.name, sg.name";

/// A `(user id, grant)` from [`GRANT_COLUMNS`].
pub fn grant(r: &dyn crate::rows::Columns) -> Result<(i64, UserGrant), StoreError> {
    let role = r.text(1)?;
    Ok((
        r.int(0)?,
        UserGrant {
            role: Role::parse(&role).map_err(|_| StoreError::Corrupt(format!("role {role:?}")))?,
            site_id: r.opt_int(2)?,
            site: r.opt_text(3)?,
            group_id: r.opt_int(4)?,
            group: r.opt_text(5)?,
        },
    ))
}

pub const GROUP_QUERY: &str = "SELECT g.id, g.name, g.parent_id, p.name, g.created_at
     FROM site_groups g LEFT JOIN site_groups p ON p.id = g.parent_id ORDER BY g.name";

pub fn group(r: &dyn crate::rows::Columns) -> Result<SiteGroup, StoreError> {
    Ok(SiteGroup {
        id: r.int(0)?,
        name: r.text(1)?,
        parent_id: r.opt_int(2)?,
        parent: r.opt_text(3)?,
        sites: Vec::new(),
        site_ids: Vec::new(),
        created_at: r.int(4)?,
    })
}

pub const MEMBER_QUERY: &str = "SELECT m.group_id, m.site_id, s.name
     FROM site_group_members m JOIN sites s ON s.id = m.site_id ORDER BY s.name";

impl TokenRecord {
    /// An API token's access and scope; `None` for ingest tokens.
    pub fn api_scope(&self) -> Option<(TokenAccess, TokenScope)> {
        let access = self.access?;
        let scope = match (self.user_id, self.site_id, self.group_id) {
            (Some(u), _, _) => TokenScope::User(u),
            (None, Some(s), _) => TokenScope::Site(s),
            (None, None, Some(g)) => TokenScope::Group(g),
            (None, None, None) => TokenScope::Everywhere,
        };
        Some((access, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_need_the_right_target() {
        let g = |role, site: Option<&str>, group: Option<&str>| NewGrant {
            role,
            site: site.map(Into::into),
            group: group.map(Into::into),
        };
        assert!(g(Role::Admin, None, None).validate().is_ok());
        assert!(g(Role::Viewer, Some("A"), None).validate().is_ok());
        let e = g(Role::Viewer, None, None)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a site"), "{e}");
        assert!(g(Role::Auditor, Some("A"), None).validate().is_err());
        assert!(g(Role::Triager, Some("A"), Some("N")).validate().is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_user_name("CN=Jane Doe,O=Example").is_ok());
        assert!(validate_user_name(" jane").is_err());
        assert!(validate_user_name("ja\u{1b}ne").is_err());
        assert!(validate_group_name("NGI_CZ").is_ok());
        assert!(validate_group_name("NGI CZ").is_err());
    }
}
