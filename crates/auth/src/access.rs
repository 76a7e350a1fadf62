//! The decision: from grants to what a caller may read and change.

use std::collections::{BTreeSet, HashMap};

use crate::{Grant, Role, Scope, Target};

/// The site groups as the decision needs them: each group's own sites and
/// its parent (groups nest one level).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    groups: HashMap<i64, GroupNode>,
}

#[derive(Debug, Clone, Default)]
struct GroupNode {
    parent: Option<i64>,
    sites: BTreeSet<i64>,
}

impl Directory {
    pub fn new() -> Directory {
        Directory::default()
    }

    /// Adds a group with its own member sites.
    pub fn add_group(
        &mut self,
        id: i64,
        parent: Option<i64>,
        sites: impl IntoIterator<Item = i64>,
    ) {
        let node = self.groups.entry(id).or_default();
        node.parent = parent;
        node.sites.extend(sites);
    }

    /// A group's sites and those of its children; nothing for an unknown
    /// group (a grant on a deleted group grants nothing).
    pub fn sites_of(&self, group: i64) -> BTreeSet<i64> {
        let mut sites = BTreeSet::new();
        for (id, node) in &self.groups {
            if *id == group || node.parent == Some(group) {
                sites.extend(node.sites.iter().copied());
            }
        }
        sites
    }
}

/// What a caller wants to do, on a site or everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See hosts, packages, history, findings, CVEs and counts.
    Read,
    /// Manage exceptions (on a site), or tags and OS-group exceptions
    /// (everywhere only: they apply to every site).
    Triage,
    /// Manage users, groups, tokens and sites.
    Administer,
}

/// What one caller may do: a scope per action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    read: Scope,
    triage: Scope,
    admin: bool,
}

impl Access {
    /// No rights at all: anonymous callers and users nobody granted anything.
    pub fn nothing() -> Access {
        Access {
            read: Scope::none(),
            triage: Scope::none(),
            admin: false,
        }
    }

    /// Everything: the local command line, which holds the database itself.
    pub fn local_admin() -> Access {
        Access {
            read: Scope::All,
            triage: Scope::All,
            admin: true,
        }
    }

    /// The union of what the grants allow, groups expanded through
    /// `directory`.
    pub fn from_grants(grants: &[Grant], directory: &Directory) -> Access {
        let mut access = Access::nothing();
        for grant in grants {
            let sites = match grant.target {
                Target::Everywhere => None,
                Target::Site(id) => Some(BTreeSet::from([id])),
                Target::Group(id) => Some(directory.sites_of(id)),
            };
            let widen = |scope: &mut Scope| match &sites {
                None => *scope = Scope::All,
                Some(s) => scope.extend(s.iter().copied()),
            };
            widen(&mut access.read);
            if grant.role.may_triage() {
                widen(&mut access.triage);
            }
            if grant.role == Role::Admin {
                access.admin = true;
            }
        }
        access
    }

    /// The sites the caller may do `action` on. Every read query takes
    /// `scope(Action::Read)`.
    pub fn scope(&self, action: Action) -> Scope {
        match action {
            Action::Read => self.read.clone(),
            Action::Triage => self.triage.clone(),
            Action::Administer if self.admin => Scope::All,
            Action::Administer => Scope::none(),
        }
    }

    /// Whether the caller may do `action` on `site_id`.
    pub fn allows(&self, action: Action, site_id: i64) -> bool {
        match action {
            Action::Read => self.read.contains(site_id),
            Action::Triage => self.triage.contains(site_id),
            Action::Administer => self.admin,
        }
    }

    /// Whether the caller may do `action` on every site, present and
    /// future: what fleet-wide things (tags, OS-group exceptions, the
    /// assessment's totals) need.
    pub fn allows_everywhere(&self, action: Action) -> bool {
        match action {
            Action::Read => self.read.is_all(),
            Action::Triage => self.triage.is_all(),
            Action::Administer => self.admin,
        }
    }

    /// Whether the caller may read anything at all.
    pub fn reads_anything(&self) -> bool {
        !self.read.is_empty()
    }
}

/// Who is calling. A cookie session (the web UI) will resolve to a
/// [`Principal::User`], as a trusted SSO header or a client certificate
/// does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        id: i64,
        name: String,
    },
    Token {
        id: i64,
        name: String,
        /// The user the token acts for, if any.
        user: Option<String>,
    },
    /// The local command line.
    Local,
    Anonymous,
}

/// A caller and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub principal: Principal,
    pub access: Access,
}

impl Identity {
    pub fn anonymous() -> Identity {
        Identity {
            principal: Principal::Anonymous,
            access: Access::nothing(),
        }
    }

    /// Who is recorded as the author of a tag assignment or exception:
    /// always from the identity, never from what the request says.
    pub fn author(&self) -> String {
        match &self.principal {
            Principal::User { name, .. } => format!("user:{name}"),
            Principal::Token {
                name,
                user: Some(user),
                ..
            } => format!("user:{user} (token:{name})"),
            Principal::Token { name, .. } => format!("token:{name}"),
            Principal::Local => "local".to_owned(),
            Principal::Anonymous => "anonymous".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TokenAccess, TokenScope};

    fn directory() -> Directory {
        // NGI 10 holds site 1 and, through its child group 11, site 2;
        // group 20 holds site 3.
        let mut d = Directory::new();
        d.add_group(10, None, [1]);
        d.add_group(11, Some(10), [2]);
        d.add_group(20, None, [3]);
        d
    }

    fn grant(role: Role, target: Target) -> Grant {
        Grant::new(role, target).unwrap()
    }

    #[test]
    fn groups_include_their_children_only() {
        let d = directory();
        assert_eq!(d.sites_of(10), BTreeSet::from([1, 2]));
        assert_eq!(d.sites_of(11), BTreeSet::from([2]));
        assert_eq!(d.sites_of(99), BTreeSet::new());
    }

    #[test]
    fn roles_give_exactly_their_scope() {
        let d = directory();
        let viewer = Access::from_grants(&[grant(Role::Viewer, Target::Group(10))], &d);
        assert!(viewer.allows(Action::Read, 1) && viewer.allows(Action::Read, 2));
        assert!(!viewer.allows(Action::Read, 3));
        assert!(!viewer.allows(Action::Triage, 1));
        assert_eq!(viewer.scope(Action::Read).site_ids(), Some(vec![1, 2]));

        let triager = Access::from_grants(&[grant(Role::Triager, Target::Site(3))], &d);
        assert!(triager.allows(Action::Triage, 3) && !triager.allows(Action::Triage, 1));
        assert!(!triager.allows_everywhere(Action::Triage));

        let auditor = Access::from_grants(&[grant(Role::Auditor, Target::Everywhere)], &d);
        assert!(auditor.allows_everywhere(Action::Read));
        assert!(!auditor.allows(Action::Triage, 1) && !auditor.allows(Action::Administer, 1));

        let admin = Access::from_grants(&[grant(Role::Admin, Target::Everywhere)], &d);
        assert!(admin.allows_everywhere(Action::Triage) && admin.allows(Action::Administer, 7));

        let nobody = Access::from_grants(&[], &d);
        assert!(!nobody.reads_anything());
        assert_eq!(nobody.scope(Action::Read).site_ids(), Some(vec![]));
    }

    #[test]
    fn global_roles_cannot_be_scoped() {
        assert!(Grant::new(Role::Admin, Target::Site(1)).is_err());
        assert!(Grant::new(Role::Auditor, Target::Group(1)).is_err());
        assert!(Grant::new(Role::Viewer, Target::Everywhere).is_ok());
    }

    #[test]
    fn tokens_never_exceed_their_access_or_user() {
        let d = directory();
        let user = [
            grant(Role::Admin, Target::Everywhere),
            grant(Role::Triager, Target::Site(3)),
        ];
        let read = Access::from_grants(&TokenScope::User(5).grants(TokenAccess::Read, &user), &d);
        assert!(read.allows_everywhere(Action::Read));
        assert!(!read.allows(Action::Triage, 3) && !read.allows(Action::Administer, 3));
        let triage =
            Access::from_grants(&TokenScope::User(5).grants(TokenAccess::Triage, &user), &d);
        assert!(triage.allows_everywhere(Action::Triage));
        assert!(!triage.allows(Action::Administer, 3));

        let legacy =
            Access::from_grants(&TokenScope::Everywhere.grants(TokenAccess::Read, &[]), &d);
        assert!(legacy.allows_everywhere(Action::Read) && !legacy.allows(Action::Triage, 1));

        let group =
            Access::from_grants(&TokenScope::Group(20).grants(TokenAccess::Triage, &[]), &d);
        assert!(group.allows(Action::Triage, 3) && !group.allows(Action::Read, 1));
    }

    #[test]
    fn authors_come_from_the_identity() {
        let token = Identity {
            principal: Principal::Token {
                id: 1,
                name: "ci".into(),
                user: Some("alice".into()),
            },
            access: Access::nothing(),
        };
        assert_eq!(token.author(), "user:alice (token:ci)");
    }
}
