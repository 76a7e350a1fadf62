//! `GET /exceptions` (the exceptions the user may see),
//! `POST /exceptions` (one for a finding, from the host page) and
//! `POST /exceptions/{id}/remove`: within the user's triage scope, with the
//! same checks as the API.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use patchwatch_auth::Action;
use patchwatch_server::AppState;
use patchwatch_server::api::v1::triage::visible_exceptions;
use patchwatch_store::{NewException, StoreError, format_millis, parse_expiry};
use serde::Deserialize;

use crate::page::{
    CheckedForm, Chrome, CsrfOnly, CsrfProtected, FormPath, NoPath, Reader, WebError, render,
};
use crate::session::WebUser;

pub struct ExceptionRow {
    pub id: i64,
    pub cve: String,
    pub package: String,
    pub version: String,
    pub applies_to: String,
    pub reason: String,
    pub author: String,
    pub created: String,
    pub expires: String,
    pub may_remove: bool,
}

#[derive(Template)]
#[template(path = "exceptions.html")]
struct ExceptionsPage {
    chrome: Chrome,
    rows: Vec<ExceptionRow>,
}

/// `GET /exceptions`
pub async fn list(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.caller.reader()?;
    let sites = state.db.sites().await?;
    let access = user.caller.access();
    let rows = visible_exceptions(&state, &user.caller)
        .await?
        .into_iter()
        .map(|e| {
            let may_remove = match &e.site {
                Some(name) => sites
                    .iter()
                    .any(|s| s.name == *name && access.allows(Action::Triage, s.id)),
                None => access.allows_everywhere(Action::Triage),
            };
            ExceptionRow {
                id: e.id,
                applies_to: match (&e.site, &e.os_group) {
                    (Some(site), _) => format!("site {site}"),
                    (None, Some(group)) => format!("OS group {group}"),
                    (None, None) => String::new(),
                },
                cve: e.cve,
                package: e.package,
                version: e.version,
                reason: e.reason,
                author: e.author,
                created: format_millis(e.created_at),
                expires: e
                    .expires_at
                    .map(format_millis)
                    .unwrap_or_else(|| "never".into()),
                may_remove,
            }
        })
        .collect();
    Ok(render(&ExceptionsPage {
        chrome: user.chrome("exceptions"),
        rows,
    }))
}

#[derive(Debug, Deserialize)]
pub struct NewExceptionForm {
    csrf: String,
    /// The host page to go back to.
    host_id: i64,
    cve: String,
    package: String,
    version: String,
    site: String,
    reason: String,
    expires: Option<String>,
}

impl CsrfProtected for NewExceptionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A form about exceptions: the sender needs a role somewhere; the triage
/// right is checked on the site the exception applies to.
type ExceptionForm<F, P = NoPath> = CheckedForm<Reader, F, P>;

/// `POST /exceptions`: an exception on the finding's site, then back to
/// the host, where the finding is now listed apart.
pub async fn create(
    State(state): State<AppState>,
    ExceptionForm { user, form: f, .. }: ExceptionForm<NewExceptionForm>,
) -> Result<Response, WebError> {
    user.caller.triage_site(&state, &f.site).await?;
    let expires_at = f
        .expires
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(parse_expiry)
        .transpose()?;
    state
        .db
        .add_exception(&NewException {
            cve: f.cve,
            package: f.package,
            version: f.version,
            os_group: None,
            site: Some(f.site),
            reason: f.reason,
            author: user.caller.author(),
            expires_at,
        })
        .await?;
    Ok(Redirect::to(&format!("/hosts/{}#excepted", f.host_id)).into_response())
}

/// The exception a remove button names.
pub struct ExceptionId(i64);

impl FormPath for ExceptionId {
    async fn from_parts(parts: &mut Parts) -> Result<ExceptionId, WebError> {
        let Path(id) = Path::from_request_parts(parts, &())
            .await
            .map_err(|_| WebError::bad_request("an exception id is a whole number"))?;
        Ok(ExceptionId(id))
    }
}

/// `POST /exceptions/{id}/remove`: one the user can't see is "not found",
/// exactly like a missing one.
pub async fn remove(
    State(state): State<AppState>,
    ExceptionForm {
        user,
        path: ExceptionId(id),
        ..
    }: ExceptionForm<CsrfOnly, ExceptionId>,
) -> Result<Response, WebError> {
    let exception = visible_exceptions(&state, &user.caller)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| WebError::from(StoreError::NotFound(format!("exception {id}"))))?;
    match &exception.site {
        Some(site) => {
            user.caller.triage_site(&state, site).await?;
        }
        None => user.caller.require_everywhere(
            Action::Triage,
            "removing an exception on an OS group (it applies to every site)",
        )?,
    }
    state.db.remove_exception(id).await?;
    Ok(Redirect::to("/exceptions").into_response())
}
