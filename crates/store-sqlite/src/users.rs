//! Users, role grants and site groups (migration 5).

use patchwatch_store::users::{
    self, GRANT_COLUMNS, GRANT_ORDER, GROUP_QUERY, MEMBER_QUERY, NewGrant, NewUser, SiteGroup,
    USER_COLUMNS, User, UserGrant,
};
use patchwatch_store::{StoreError, now_millis};
use rusqlite::{Connection, OptionalExtension, params};

use crate::sql_error;

/// Maps a foreign-key failure to `NotFound` naming `what`, for inserts whose
/// references the caller named.
pub(crate) fn constraint_error(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::NotFound(what.to_owned())
        }
        _ => sql_error(e),
    }
}

pub(crate) fn users(c: &Connection, name: Option<&str>) -> Result<Vec<User>, StoreError> {
    let mut stmt = c
        .prepare_cached(&format!(
            "{USER_COLUMNS} WHERE ?1 IS NULL OR u.name = ?1 ORDER BY u.name"
        ))
        .map_err(sql_error)?;
    let list = crate::collect_rows(&mut stmt, [name], users::user)?;
    let mut stmt = c
        .prepare_cached(&format!(
            "{GRANT_COLUMNS} WHERE ?1 IS NULL OR u.name = ?1 {GRANT_ORDER}"
        ))
        .map_err(sql_error)?;
    let grants = crate::collect_rows(&mut stmt, [name], users::grant)?;
    Ok(users::assemble_users(list, grants))
}

pub(crate) fn add_user(c: &Connection, user: &NewUser) -> Result<User, StoreError> {
    c.query_row(
        "INSERT INTO users (name, password_hash, origin, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        params![user.name, user.password_hash, user.origin, now_millis()],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::AlreadyExists(format!("user {:?}", user.name)))?;
    one_user(c, &user.name)
}

fn one_user(c: &Connection, name: &str) -> Result<User, StoreError> {
    users(c, Some(name))?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))
}

fn id_of(c: &Connection, table: &str, what: &str, name: &str) -> Result<i64, StoreError> {
    c.query_row(
        &format!("SELECT id FROM {table} WHERE name = ?1"),
        [name],
        |r| r.get(0),
    )
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::NotFound(format!("{what} {name:?}")))
}

/// The ids a grant names: user, site, group.
fn grant_ids(
    c: &Connection,
    user: &str,
    g: &NewGrant,
) -> Result<(i64, Option<i64>, Option<i64>), StoreError> {
    g.validate()?;
    let user_id = id_of(c, "users", "user", user)?;
    let site_id = match &g.site {
        Some(s) => Some(id_of(c, "sites", "site", s)?),
        None => None,
    };
    let group_id = match &g.group {
        Some(s) => Some(id_of(c, "site_groups", "site group", s)?),
        None => None,
    };
    Ok((user_id, site_id, group_id))
}

pub(crate) fn grant(c: &Connection, user: &str, g: &NewGrant) -> Result<UserGrant, StoreError> {
    let (user_id, site_id, group_id) = grant_ids(c, user, g)?;
    let inserted = c
        .execute(
            "INSERT INTO role_grants (user_id, role, site_id, group_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![user_id, g.role.as_str(), site_id, group_id, now_millis()],
        )
        .map_err(sql_error)?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists(format!(
            "grant of {} to {user:?}",
            g.role
        )));
    }
    Ok(UserGrant {
        role: g.role,
        site: g.site.clone(),
        site_id,
        group: g.group.clone(),
        group_id,
    })
}

pub(crate) fn revoke(c: &Connection, user: &str, g: &NewGrant) -> Result<bool, StoreError> {
    let (user_id, site_id, group_id) = match grant_ids(c, user, g) {
        Ok(ids) => ids,
        Err(StoreError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    c.execute(
        "DELETE FROM role_grants WHERE user_id = ?1 AND role = ?2
             AND coalesce(site_id, 0) = coalesce(?3, 0) AND coalesce(group_id, 0) = coalesce(?4, 0)",
        params![user_id, g.role.as_str(), site_id, group_id],
    )
    .map(|n| n > 0)
    .map_err(sql_error)
}

pub(crate) fn site_groups(c: &Connection) -> Result<Vec<SiteGroup>, StoreError> {
    let mut stmt = c.prepare_cached(GROUP_QUERY).map_err(sql_error)?;
    let groups = crate::collect_rows(&mut stmt, [], users::group)?;
    let mut stmt = c.prepare_cached(MEMBER_QUERY).map_err(sql_error)?;
    let members = crate::collect_rows(&mut stmt, [], |r| Ok((r.int(0)?, r.int(1)?, r.text(2)?)))?;
    Ok(users::assemble_groups(groups, members))
}

pub(crate) fn add_site_group(
    c: &Connection,
    name: &str,
    parent: Option<&str>,
) -> Result<SiteGroup, StoreError> {
    let parent_id = match parent {
        Some(p) => {
            let (id, grandparent): (i64, Option<i64>) = c
                .query_row(
                    "SELECT id, parent_id FROM site_groups WHERE name = ?1",
                    [p],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql_error)?
                .ok_or_else(|| StoreError::NotFound(format!("site group {p:?}")))?;
            if grandparent.is_some() {
                return Err(StoreError::Invalid(format!(
                    "site group {p:?} is itself in a group; groups nest one level only"
                )));
            }
            Some(id)
        }
        None => None,
    };
    c.query_row(
        "INSERT INTO site_groups (name, parent_id, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        params![name, parent_id, now_millis()],
        |r| r.get::<_, i64>(0),
    )
    .optional()
    .map_err(sql_error)?
    .ok_or_else(|| StoreError::AlreadyExists(format!("site group {name:?}")))?;
    site_groups(c)?
        .into_iter()
        .find(|g| g.name == name)
        .ok_or_else(|| StoreError::Backend(format!("site group {name:?} vanished")))
}

pub(crate) fn set_group_member(
    c: &Connection,
    group: &str,
    site: &str,
    member: bool,
) -> Result<(), StoreError> {
    let group_id = id_of(c, "site_groups", "site group", group)?;
    let site_id = id_of(c, "sites", "site", site)?;
    let sql = if member {
        "INSERT INTO site_group_members (group_id, site_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM site_group_members WHERE group_id = ?1 AND site_id = ?2"
    };
    c.execute(sql, [group_id, site_id]).map_err(sql_error)?;
    Ok(())
}
