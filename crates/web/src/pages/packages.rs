//! `GET /packages/{name}`: one package across the user's hosts (which
//! version each runs, whether a repository of the host offers a newer one,
//! which hosts lack it), as `patchwatch packages show` computes it
//! (`patchwatch_updates::package_fleet` for every host's state, the
//! counts and the versions, `package_rows` for the page's hosts, through
//! the server's kept updates), 100 hosts a page. `GET /packages?name=` is the form that
//! leads there. A package none of the user's hosts has answers "not
//! found", whether other sites' hosts have it or not.

use askama::Template;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use patchwatch_server::AppState;
use patchwatch_store::HostFilter;
use patchwatch_updates::{PackageHost, PackageState};
use serde::Deserialize;

use crate::page::{Chrome, WebError, render};
use crate::pages::cves::parse_page;
use crate::pages::hosts::encode;
use crate::session::WebUser;

/// Hosts listed per page (the counts are complete).
const HOSTS_PER_PAGE: usize = 100;
/// Longer than any package name a package manager allows.
const MAX_NAME: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    name: Option<String>,
}

#[derive(Template)]
#[template(path = "packages.html")]
struct SearchPage {
    chrome: Chrome,
}

/// A package name as typed: trimmed, bounded, no control or space
/// characters (no package manager allows them).
pub fn check_name(raw: &str) -> Result<String, WebError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(WebError::bad_request("a package name is needed"));
    }
    if name.len() > MAX_NAME {
        return Err(WebError::bad_request(format!(
            "a package name is at most {MAX_NAME} bytes"
        )));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(WebError::bad_request(format!(
            "{:?} is not a package name (spaces or control characters)",
            name.escape_default().to_string()
        )));
    }
    Ok(name.to_owned())
}

/// `GET /packages?name=`
pub async fn search(
    user: WebUser,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Query(q) =
        q.map_err(|e| WebError::bad_request(format!("invalid parameter: {}", e.body_text())))?;
    match q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(raw) => {
            let name = check_name(raw)?;
            Ok(Redirect::to(&format!("/packages/{}", encode(&name))).into_response())
        }
        None => Ok(render(&SearchPage {
            chrome: user.chrome("packages"),
        })),
    }
}

pub struct VersionRow {
    pub version: String,
    pub hosts: usize,
}

pub struct StateGroup {
    pub state: &'static str,
    pub total: usize,
    pub rows: Vec<PackageHost>,
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage {
    chrome: Chrome,
    name: String,
    versions: Vec<VersionRow>,
    groups: Vec<StateGroup>,
    missing: usize,
    /// Hosts with the package, and the ones shown on this page
    /// (1-based, inclusive).
    hosts: usize,
    first: usize,
    last: usize,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageQuery {
    page: Option<String>,
}

/// `GET /packages/{name}?page=`: the hosts with the package, outdated
/// (security first), current, unknown, a page at a time; the hosts
/// without it only counted.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<PackageQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    user.caller.reader()?;
    let Path(raw) = name.map_err(|e| WebError::bad_request(e.body_text()))?;
    let name = check_name(&raw)?;
    let Query(q) =
        q.map_err(|e| WebError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let page = parse_page(q.page.as_deref())?;
    let filter = user.caller.host_filter(HostFilter::default());
    let skip = (page as usize - 1) * HOSTS_PER_PAGE;
    let (fleet, shown) = state
        .repos
        .package_page(state.db.as_ref(), &filter, &name, skip, HOSTS_PER_PAGE)
        .await?;
    let counts = fleet.counts();
    let installed = counts.installed();
    if installed == 0 {
        return Err(WebError::not_found(format!(
            "none of your hosts has a package called {name:?}"
        )));
    }
    if skip >= installed {
        return Err(WebError::not_found(format!(
            "{name} is on {installed} of your hosts: there is no page {page}"
        )));
    }
    let versions = fleet
        .versions()
        .iter()
        .map(|v| VersionRow {
            version: v.version.clone(),
            hosts: v.hosts,
        })
        .collect();
    // Outdated (security first), current, unknown; missing only counted.
    let mut groups: Vec<StateGroup> = [
        PackageState::Outdated,
        PackageState::Current,
        PackageState::Unknown,
    ]
    .into_iter()
    .filter(|&s| counts.of(s) > 0)
    .map(|s| StateGroup {
        state: s.as_str(),
        total: counts.of(s),
        rows: Vec::new(),
    })
    .collect();
    let shown_count = shown.len();
    for h in shown {
        if let Some(g) = groups.iter_mut().find(|g| g.state == h.state.as_str()) {
            g.rows.push(h);
        }
    }
    let link = |p: u32| format!("/packages/{}?page={p}", encode(&name));
    Ok(render(&PackagePage {
        chrome: user.chrome("packages"),
        versions,
        groups,
        missing: counts.missing,
        hosts: installed,
        first: skip + 1,
        last: skip + shown_count,
        previous: (page > 1).then(|| link(page - 1)),
        next: (skip + HOSTS_PER_PAGE < installed).then(|| link(page + 1)),
        name,
    }))
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn package_names_are_checked() {
        assert_eq!(check_name(" openssl ").unwrap(), "openssl");
        assert_eq!(check_name("libstdc++6").unwrap(), "libstdc++6");
        for bad in ["", "a b", "x\u{1b}[31m", &"a".repeat(300)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
