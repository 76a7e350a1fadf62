//! `GET /tags`: CVE tags and the CVEs attached to them by hand, and the
//! forms that change them. The rules are the API's
//! (`patchwatch_server::api::v1::triage`): anyone who reads sees the tags,
//! with only the assignments of CVEs present on their hosts; changing a
//! tag changes every site's findings, so it needs triage rights on every
//! site (`tag_manager`).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use patchwatch_server::AppState;
use patchwatch_server::api::v1::triage::{cves_in_scope, tag_manager};
use patchwatch_store::{NewAssignment, format_millis};
use serde::Deserialize;

use crate::page::{
    CheckedForm, Chrome, CsrfOnly, CsrfProtected, NoPath, TagManager, WebError, render,
};
use crate::pages::hosts::encode;
use crate::session::WebUser;

pub struct TagRow {
    pub name: String,
    /// The name as a URL path segment.
    pub segment: String,
    pub reason: String,
    pub enabled: bool,
    pub cves: usize,
    pub created: String,
}

pub struct AssignmentRow {
    pub cve: String,
    pub tag: String,
    pub tag_segment: String,
    pub reason: String,
    pub author: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "tags.html")]
struct TagsPage {
    chrome: Chrome,
    tags: Vec<TagRow>,
    assignments: Vec<AssignmentRow>,
    may_manage: bool,
}

/// `GET /tags`
pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.caller.reader()?;
    let tags = state.db.tags().await?;
    let mut assignments = state.db.tag_assignments().await?;
    if let Some(present) = cves_in_scope(&state, &user.caller).await? {
        assignments.retain(|a| present.contains(&a.cve));
    }
    let tags = tags
        .into_iter()
        .map(|t| TagRow {
            cves: assignments.iter().filter(|a| a.tag == t.name).count(),
            segment: encode(&t.name),
            reason: t.reason,
            enabled: t.enabled,
            created: format_millis(t.created_at),
            name: t.name,
        })
        .collect();
    let assignments = assignments
        .into_iter()
        .map(|a| AssignmentRow {
            tag_segment: encode(&a.tag),
            created: format_millis(a.created_at),
            cve: a.cve,
            tag: a.tag,
            reason: a.reason,
            author: a.author,
        })
        .collect();
    Ok(render(&TagsPage {
        chrome: user.chrome("tags"),
        tags,
        assignments,
        may_manage: tag_manager(&user.caller).is_ok(),
    }))
}

/// A form only those who may change every site's tags may send.
type TagForm<F, P = NoPath> = CheckedForm<TagManager, F, P>;

fn back() -> Response {
    Redirect::to("/tags").into_response()
}

#[derive(Debug, Deserialize)]
pub struct NewTagForm {
    csrf: String,
    name: String,
    #[serde(default)]
    reason: String,
}

impl CsrfProtected for NewTagForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /tags`
pub async fn create(
    State(state): State<AppState>,
    TagForm { user, form: f, .. }: TagForm<NewTagForm>,
) -> Result<Response, WebError> {
    let tag = state.db.add_tag(f.name.trim(), f.reason.trim()).await?;
    tracing::info!(actor = %user.caller.author(), tag = %tag.name, "web: CVE tag created");
    Ok(back())
}

/// `POST /tags/{name}/enable` and `/disable`
pub async fn set_enabled(
    State(state): State<AppState>,
    TagForm {
        user,
        path: (name, action),
        ..
    }: TagForm<CsrfOnly, (String, String)>,
) -> Result<Response, WebError> {
    let enabled = match action.as_str() {
        "enable" => true,
        "disable" => false,
        other => return Err(WebError::not_found(format!("no tag action {other:?}"))),
    };
    state.db.set_tag_enabled(&name, enabled).await?;
    tracing::info!(actor = %user.caller.author(), tag = %name, enabled, "web: CVE tag switched");
    Ok(back())
}

/// `POST /tags/{name}/remove`: the tag and its assignments.
pub async fn remove(
    State(state): State<AppState>,
    TagForm {
        user, path: name, ..
    }: TagForm<CsrfOnly, String>,
) -> Result<Response, WebError> {
    state.db.remove_tag(&name).await?;
    tracing::info!(actor = %user.caller.author(), tag = %name, "web: CVE tag removed");
    Ok(back())
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    csrf: String,
    tag: String,
    cve: String,
    #[serde(default)]
    reason: String,
}

impl CsrfProtected for AssignForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /tags/assign`: attach a CVE to a tag.
pub async fn assign(
    State(state): State<AppState>,
    TagForm { user, form: f, .. }: TagForm<AssignForm>,
) -> Result<Response, WebError> {
    let a = state
        .db
        .assign_tag(&NewAssignment {
            cve: f.cve.trim().to_owned(),
            tag: f.tag.trim().to_owned(),
            reason: f.reason.trim().to_owned(),
            author: user.caller.author(),
        })
        .await?;
    tracing::info!(actor = %a.author, tag = %a.tag, cve = %a.cve, "web: CVE tagged");
    Ok(back())
}

/// `POST /tags/{name}/cves/{cve}/remove`: detach a CVE.
pub async fn unassign(
    State(state): State<AppState>,
    TagForm {
        user,
        path: (tag, cve),
        ..
    }: TagForm<CsrfOnly, (String, String)>,
) -> Result<Response, WebError> {
    state.db.unassign_tag(&cve, &tag).await?;
    tracing::info!(actor = %user.caller.author(), tag = %tag, cve = %cve, "web: CVE untagged");
    Ok(back())
}
