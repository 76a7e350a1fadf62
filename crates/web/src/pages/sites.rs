//! `GET /sites` (the sites the user may read), `GET /sites/{name}` (one
//! site's hosts by state), `GET /groups` (site groups and their sites, cut
//! to the user's sites) and `GET /os` (the OS releases of the user's hosts,
//! the OS group each falls in and the feed data it is assessed with). A
//! site the user may not read answers exactly as an unknown one.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use patchwatch_auth::Action;
use patchwatch_server::AppState;
use patchwatch_store::{format_millis, now_millis};
use patchwatch_vulndb::Triage;

use crate::fleet::{SnapshotCache, host_states};
use crate::page::{Chrome, WebError, render};
use crate::pages::dashboard::{StateRow, state_rows};
use crate::session::WebUser;

pub struct SiteRow {
    pub name: String,
    pub hosts: i64,
    pub created: String,
    pub groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    chrome: Chrome,
    sites: Vec<SiteRow>,
}

/// Group names by member site id.
async fn groups_by_site(state: &AppState) -> Result<BTreeMap<i64, Vec<String>>, WebError> {
    let mut by_site: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for g in state.db.site_groups().await? {
        for id in g.site_ids {
            by_site.entry(id).or_default().push(g.name.clone());
        }
    }
    Ok(by_site)
}

/// `GET /sites`
pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.caller.reader()?;
    let access = user.caller.access();
    let mut groups = groups_by_site(&state).await?;
    let sites = state
        .db
        .sites()
        .await?
        .into_iter()
        .filter(|s| access.allows(Action::Read, s.id))
        .map(|s| SiteRow {
            groups: groups.remove(&s.id).unwrap_or_default(),
            created: format_millis(s.created_at),
            hosts: s.hosts,
            name: s.name,
        })
        .collect();
    Ok(render(&SitesPage {
        chrome: user.chrome("sites"),
        sites,
    }))
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    chrome: Chrome,
    name: String,
    created: String,
    groups: Vec<String>,
    states: Vec<StateRow>,
}

/// `GET /sites/{name}`
pub async fn show(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<SnapshotCache>>,
    user: WebUser,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Path(name) = name.map_err(|e| WebError::bad_request(e.body_text()))?;
    let site = state
        .db
        .site(&name)
        .await?
        .filter(|s| user.caller.access().allows(Action::Read, s.id))
        .ok_or_else(|| WebError::not_found(format!("site {name:?} not found")))?;
    let snapshot = cache.get(&state).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let exposure = cache.exposure(&state, &snapshot, &triage).await?;
    let states = host_states(&state, &snapshot, &exposure, |s| s == site.id).await?;
    Ok(render(&SitePage {
        chrome: user.chrome("sites"),
        groups: groups_by_site(&state)
            .await?
            .remove(&site.id)
            .unwrap_or_default(),
        created: format_millis(site.created_at),
        states: state_rows(&states, Some(&site.name)),
        name: site.name,
    }))
}

pub struct GroupRow {
    pub name: String,
    pub parent: String,
    pub sites: Vec<String>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    chrome: Chrome,
    groups: Vec<GroupRow>,
}

/// `GET /groups`: a group none of whose sites the user may read is left
/// out (unless the user reads everything, empty groups included).
pub async fn groups(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.caller.reader()?;
    let access = user.caller.access();
    let everywhere = access.allows_everywhere(Action::Read);
    let groups = state
        .db
        .site_groups()
        .await?
        .into_iter()
        .filter_map(|g| {
            let sites: Vec<String> = g
                .sites
                .iter()
                .zip(&g.site_ids)
                .filter(|(_, id)| access.allows(Action::Read, **id))
                .map(|(name, _)| name.clone())
                .collect();
            (everywhere || !sites.is_empty()).then(|| GroupRow {
                name: g.name,
                parent: g.parent.unwrap_or_default(),
                sites,
            })
        })
        .collect();
    Ok(render(&GroupsPage {
        chrome: user.chrome("groups"),
        groups,
    }))
}

pub struct OsRow {
    pub os: String,
    pub hosts: usize,
    pub group: String,
    pub data: String,
    pub feed_data: bool,
}

pub struct OsGroupRow {
    pub name: String,
    pub data: String,
}

#[derive(Template)]
#[template(path = "os.html")]
struct OsPage {
    chrome: Chrome,
    rows: Vec<OsRow>,
    groups: Vec<OsGroupRow>,
}

fn scopes_text(scopes: &[patchwatch_assess::OsScope]) -> String {
    scopes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /os`
pub async fn os(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<SnapshotCache>>,
    user: WebUser,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let access = user.caller.access();
    let snapshot = cache.get(&state).await?;
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let groups = state.vulns.groups();
    let mut counts: BTreeMap<String, (usize, &patchwatch_reports::OsRelease)> = BTreeMap::new();
    for h in snapshot
        .hosts
        .iter()
        .filter(|h| access.allows(Action::Read, h.site_id))
    {
        counts.entry(h.os.to_string()).or_insert((0, &h.os)).0 += 1;
    }
    let rows = counts
        .into_iter()
        .map(|(text, (hosts, os))| OsRow {
            os: text,
            hosts,
            group: groups
                .group_of(os)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| "(automatic)".into()),
            data: scopes_text(&groups.scopes_for(os)),
            feed_data: !loaded.index.scopes_for(os).is_empty(),
        })
        .collect();
    Ok(render(&OsPage {
        chrome: user.chrome("os"),
        rows,
        groups: groups
            .groups()
            .iter()
            .map(|g| OsGroupRow {
                name: g.name.clone(),
                data: scopes_text(&g.data),
            })
            .collect(),
    }))
}
