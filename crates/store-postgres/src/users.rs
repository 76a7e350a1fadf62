//! Users, role grants and site groups (migration 5), as in the SQLite
//! backend. Each write is one statement, or lookups and a statement whose
//! constraints make a race harmless.

use deadpool_postgres::GenericClient;
use patchwatch_store::users::{
    self, GRANT_COLUMNS, GRANT_ORDER, GROUP_QUERY, MEMBER_QUERY, NewGrant, NewUser, SiteGroup,
    USER_COLUMNS, User, UserGrant,
};
use patchwatch_store::{StoreError, now_millis};
use tokio_postgres::error::SqlState;

use crate::error::PgColumns;
use crate::pg_error;

/// A foreign-key failure on an insert whose references the caller named
/// (deleted meanwhile): `NotFound` naming `what`.
pub(crate) fn constraint_error(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| {
        if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
            StoreError::NotFound(what.to_owned())
        } else {
            pg_error(e)
        }
    }
}

pub(crate) async fn users<C: GenericClient>(
    c: &C,
    name: Option<&str>,
) -> Result<Vec<User>, StoreError> {
    let stmt = c
        .prepare_cached(&format!(
            "{USER_COLUMNS} WHERE $1::text IS NULL OR u.name = $1 ORDER BY u.name"
        ))
        .await
        .map_err(pg_error)?;
    let list = c
        .query(&stmt, &[&name])
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| users::user(&PgColumns(r)))
        .collect::<Result<Vec<_>, _>>()?;
    let stmt = c
        .prepare_cached(&format!(
            "{GRANT_COLUMNS} WHERE $1::text IS NULL OR u.name = $1 {GRANT_ORDER}"
        ))
        .await
        .map_err(pg_error)?;
    let grants = c
        .query(&stmt, &[&name])
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| users::grant(&PgColumns(r)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(users::assemble_users(list, grants))
}

pub(crate) async fn add_user<C: GenericClient>(c: &C, user: &NewUser) -> Result<User, StoreError> {
    c.query_opt(
        "INSERT INTO users (name, password_hash, origin, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        &[&user.name, &user.password_hash, &user.origin, &now_millis()],
    )
    .await
    .map_err(pg_error)?
    .ok_or_else(|| StoreError::AlreadyExists(format!("user {:?}", user.name)))?;
    users(c, Some(&user.name))
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("user {:?}", user.name)))
}

async fn id_of<C: GenericClient>(
    c: &C,
    table: &str,
    what: &str,
    name: &str,
) -> Result<i64, StoreError> {
    c.query_opt(&format!("SELECT id FROM {table} WHERE name = $1"), &[&name])
        .await
        .map_err(pg_error)?
        .ok_or_else(|| StoreError::NotFound(format!("{what} {name:?}")))?
        .try_get(0)
        .map_err(pg_error)
}

async fn grant_ids<C: GenericClient>(
    c: &C,
    user: &str,
    g: &NewGrant,
) -> Result<(i64, Option<i64>, Option<i64>), StoreError> {
    g.validate()?;
    let user_id = id_of(c, "users", "user", user).await?;
    let site_id = match &g.site {
        Some(s) => Some(id_of(c, "sites", "site", s).await?),
        None => None,
    };
    let group_id = match &g.group {
        Some(s) => Some(id_of(c, "site_groups", "site group", s).await?),
        None => None,
    };
    Ok((user_id, site_id, group_id))
}

pub(crate) async fn grant<C: GenericClient>(
    c: &C,
    user: &str,
    g: &NewGrant,
) -> Result<UserGrant, StoreError> {
    let (user_id, site_id, group_id) = grant_ids(c, user, g).await?;
    let inserted = c
        .execute(
            "INSERT INTO role_grants (user_id, role, site_id, group_id, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &user_id,
                &g.role.as_str(),
                &site_id,
                &group_id,
                &now_millis(),
            ],
        )
        .await
        .map_err(constraint_error("the grant's user, site or group"))?;
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

pub(crate) async fn revoke<C: GenericClient>(
    c: &C,
    user: &str,
    g: &NewGrant,
) -> Result<bool, StoreError> {
    let (user_id, site_id, group_id) = match grant_ids(c, user, g).await {
        Ok(ids) => ids,
        Err(StoreError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    let n = c
        .execute(
            "DELETE FROM role_grants WHERE user_id = $1 AND role = $2
                 AND coalesce(site_id, 0) = coalesce($3::bigint, 0)
                 AND coalesce(group_id, 0) = coalesce($4::bigint, 0)",
            &[&user_id, &g.role.as_str(), &site_id, &group_id],
        )
        .await
        .map_err(pg_error)?;
    Ok(n > 0)
}

pub(crate) async fn site_groups<C: GenericClient>(c: &C) -> Result<Vec<SiteGroup>, StoreError> {
    let groups = c
        .query(GROUP_QUERY, &[])
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| users::group(&PgColumns(r)))
        .collect::<Result<Vec<_>, _>>()?;
    let members = c
        .query(MEMBER_QUERY, &[])
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| {
            let r = PgColumns(r);
            use patchwatch_store::rows::Columns;
            Ok((r.int(0)?, r.int(1)?, r.text(2)?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(users::assemble_groups(groups, members))
}

pub(crate) async fn add_site_group<C: GenericClient>(
    c: &C,
    name: &str,
    parent: Option<&str>,
) -> Result<SiteGroup, StoreError> {
    let parent_id = match parent {
        Some(p) => {
            let row = c
                .query_opt(
                    "SELECT id, parent_id FROM site_groups WHERE name = $1",
                    &[&p],
                )
                .await
                .map_err(pg_error)?
                .ok_or_else(|| StoreError::NotFound(format!("site group {p:?}")))?;
            let grandparent: Option<i64> = row.try_get(1).map_err(pg_error)?;
            if grandparent.is_some() {
                return Err(StoreError::Invalid(format!(
                    "site group {p:?} is itself in a group; groups nest one level only"
                )));
            }
            Some(row.try_get::<_, i64>(0).map_err(pg_error)?)
        }
        None => None,
    };
    c.query_opt(
        "INSERT INTO site_groups (name, parent_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        &[&name, &parent_id, &now_millis()],
    )
    .await
    .map_err(constraint_error("the parent site group"))?
    .ok_or_else(|| StoreError::AlreadyExists(format!("site group {name:?}")))?;
    site_groups(c)
        .await?
        .into_iter()
        .find(|g| g.name == name)
        .ok_or_else(|| StoreError::Backend(format!("site group {name:?} vanished")))
}

pub(crate) async fn set_group_member<C: GenericClient>(
    c: &C,
    group: &str,
    site: &str,
    member: bool,
) -> Result<(), StoreError> {
    let group_id = id_of(c, "site_groups", "site group", group).await?;
    let site_id = id_of(c, "sites", "site", site).await?;
    let sql = if member {
        "INSERT INTO site_group_members (group_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM site_group_members WHERE group_id = $1 AND site_id = $2"
    };
    c.execute(sql, &[&group_id, &site_id])
        .await
        .map_err(constraint_error("the site group or site"))?;
    Ok(())
}
