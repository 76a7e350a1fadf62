//! CVE tags and exceptions. Tags and OS-group exceptions apply to every
//! site, so managing them needs triage rights everywhere; a site's
//! exceptions can be managed by its triagers, and are seen only by those
//! who may read the site. The author is always the caller's identity.
//!
//! * `GET /tags`, `POST /tags` `{name, reason?}`, `DELETE /tags/{name}`,
//!   `POST /tags/{name}/enable`, `POST /tags/{name}/disable`
//! * `GET /tags/assignments`, `POST /tags/{name}/cves` `{cve, reason?}`, `DELETE /tags/{name}/cves/{cve}`
//! * `GET /exceptions`, `POST /exceptions` `{cve, package, version,
//!   os_group | site, reason, expires?}`, `DELETE /exceptions/{id}`

use std::collections::HashSet;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use patchwatch_auth::Action;
use patchwatch_store::{
    Exception, NewAssignment, NewException, StoreError, now_millis, parse_expiry,
};
use patchwatch_vulndb::Triage;
use serde::Deserialize;
use serde_json::{Value, json};

use utoipa::ToSchema;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::openapi::schemas;
use crate::state::AppState;

type Created = (StatusCode, Json<Value>);

/// Tags are fleet-wide: changing one changes every site's findings.
pub fn tag_manager(caller: &Caller) -> Result<(), ApiError> {
    caller.require_everywhere(Action::Triage, "managing CVE tags")
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {}", e.body_text())))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(p)| p)
        .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))
}

/// `GET /api/v1/tags`
#[utoipa::path(
    get,
    path = "/tags",
    operation_id = "list_tags",
    tag = "triage",
    summary = "CVE tags",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Every tag, with the number of CVEs assigned (of the caller's hosts' CVEs)", body = schemas::TagList),
    )
)]
pub async fn tags(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let mut tags = state.db.tags().await?;
    if let Some(present) = cves_in_scope(&state, &caller).await? {
        let assignments = state.db.tag_assignments().await?;
        for tag in &mut tags {
            tag.cves = assignments
                .iter()
                .filter(|a| a.tag == tag.name && present.contains(&a.cve))
                .count() as i64;
        }
    }
    Ok(Json(json!({ "count": tags.len(), "tags": tags })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTagBody {
    /// 1 to 64 bytes, no white space or control characters.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$"
    )]
    name: String,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/tags`
#[utoipa::path(
    post,
    path = "/tags",
    operation_id = "add_tag",
    tag = "triage",
    summary = "Create a CVE tag (triage rights on every site)",
    request_body = NewTagBody,
    security(("api_token" = [])),
    responses(
        (status = 201, description = "The new tag", body = schemas::Tag),
        (status = 400, description = "The body is not the JSON expected, or the name is invalid", body = schemas::Error),
        (status = 409, description = "A tag of that name exists", body = schemas::Error),
    )
)]
pub async fn add_tag(
    State(state): State<AppState>,
    caller: Caller,
    b: Result<Json<NewTagBody>, JsonRejection>,
) -> Result<Created, ApiError> {
    tag_manager(&caller)?;
    let b = body(b)?;
    let tag = state.db.add_tag(&b.name, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!(tag))))
}

/// `DELETE /api/v1/tags/{name}`
#[utoipa::path(
    delete,
    path = "/tags/{name}",
    operation_id = "remove_tag",
    tag = "triage",
    summary = "Delete a CVE tag and its assignments (triage rights on every site)",
    params(("name" = String, Path, description = "The tag's name", min_length = 1, max_length = 64, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Deleted", body = schemas::TagRemoved),
        (status = 400, description = "The tag can't be deleted, or the path is not valid UTF-8", body = schemas::Error),
        (status = 404, description = "No such tag", body = schemas::Error),
    )
)]
pub async fn remove_tag(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    tag_manager(&caller)?;
    let name = path(name)?;
    state.db.remove_tag(&name).await?;
    Ok(Json(json!({ "removed": name })))
}

/// `POST /api/v1/tags/{name}/enable`
#[utoipa::path(
    post,
    path = "/tags/{name}/enable",
    operation_id = "enable_tag",
    tag = "triage",
    summary = "Enable a CVE tag (triage rights on every site)",
    params(("name" = String, Path, description = "The tag's name", min_length = 1, max_length = 64, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The tag", body = schemas::Tag),
        (status = 400, description = "The path is not valid UTF-8", body = schemas::Error),
        (status = 404, description = "No such tag", body = schemas::Error),
    )
)]
pub async fn enable_tag(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    tag_manager(&caller)?;
    let tag = state.db.set_tag_enabled(&path(name)?, true).await?;
    Ok(Json(json!(tag)))
}

/// `POST /api/v1/tags/{name}/disable`
#[utoipa::path(
    post,
    path = "/tags/{name}/disable",
    operation_id = "disable_tag",
    tag = "triage",
    summary = "Disable a CVE tag (triage rights on every site)",
    params(("name" = String, Path, description = "The tag's name", min_length = 1, max_length = 64, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The tag", body = schemas::Tag),
        (status = 400, description = "The path is not valid UTF-8", body = schemas::Error),
        (status = 404, description = "No such tag", body = schemas::Error),
    )
)]
pub async fn disable_tag(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    tag_manager(&caller)?;
    let tag = state.db.set_tag_enabled(&path(name)?, false).await?;
    Ok(Json(json!(tag)))
}

/// `GET /api/v1/tags/assignments`
#[utoipa::path(
    get,
    path = "/tags/assignments",
    operation_id = "list_tag_assignments",
    tag = "triage",
    summary = "CVEs attached to tags",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The assignments (for a caller who may not read every site, only of CVEs on its hosts)", body = schemas::AssignmentList),
    )
)]
pub async fn assignments(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let mut list = state.db.tag_assignments().await?;
    if let Some(present) = cves_in_scope(&state, &caller).await? {
        list.retain(|a| present.contains(&a.cve));
    }
    Ok(Json(json!({ "count": list.len(), "assignments": list })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// `CVE-YYYY-NNNN` (any case).
    #[schema(pattern = r"^\s*[Cc][Vv][Ee]-[0-9]{4}-[0-9]{4,}\s*$")]
    cve: String,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/tags/{name}/cves`
#[utoipa::path(
    post,
    path = "/tags/{name}/cves",
    operation_id = "assign_cve",
    tag = "triage",
    summary = "Attach a CVE to a tag (triage rights on every site)",
    params(("name" = String, Path, description = "The tag's name", min_length = 1, max_length = 64, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$")),
    request_body = AssignBody,
    security(("api_token" = [])),
    responses(
        (status = 201, description = "The assignment", body = schemas::TagAssignment),
        (status = 400, description = "The body is not the JSON expected, or the CVE id is malformed", body = schemas::Error),
        (status = 404, description = "No such tag", body = schemas::Error),
        (status = 409, description = "The CVE is already attached to the tag", body = schemas::Error),
    )
)]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
    b: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Created, ApiError> {
    tag_manager(&caller)?;
    let tag = path(name)?;
    let b = body(b)?;
    let a = state
        .db
        .assign_tag(&NewAssignment {
            cve: b.cve,
            tag,
            reason: b.reason,
            author: caller.author(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

/// `DELETE /api/v1/tags/{name}/cves/{cve}`
#[utoipa::path(
    delete,
    path = "/tags/{name}/cves/{cve}",
    operation_id = "unassign_cve",
    tag = "triage",
    summary = "Detach a CVE from a tag (triage rights on every site)",
    params(
        ("name" = String, Path, description = "The tag's name", min_length = 1, max_length = 64, pattern = r"^[^\s\x00-\x1f\x7f-\x9f]+$"),
        ("cve" = String, Path, description = "The CVE id", pattern = r"^\s*[Cc][Vv][Ee]-[0-9]{4}-[0-9]{4,}\s*$"),
    ),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Detached", body = schemas::AssignmentRemoved),
        (status = 400, description = "The path is not valid UTF-8", body = schemas::Error),
        (status = 404, description = "The CVE is not attached to that tag", body = schemas::Error),
    )
)]
pub async fn unassign(
    State(state): State<AppState>,
    caller: Caller,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    tag_manager(&caller)?;
    let (tag, cve) = path(p)?;
    state.db.unassign_tag(&cve, &tag).await?;
    Ok(Json(json!({ "tag": tag, "cve": cve, "removed": true })))
}

/// `GET /api/v1/exceptions`
#[utoipa::path(
    get,
    path = "/exceptions",
    operation_id = "list_exceptions",
    tag = "triage",
    summary = "Exceptions: OS-group ones and those of the caller's sites",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "The exceptions the caller may see", body = schemas::ExceptionList),
    )
)]
pub async fn exceptions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let list = visible_exceptions(&state, &caller).await?;
    Ok(Json(json!({ "count": list.len(), "exceptions": list })))
}

/// Exactly one of `os_group` and `site`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    /// `CVE-YYYY-NNNN` (any case).
    #[schema(pattern = r"^\s*[Cc][Vv][Ee]-[0-9]{4}-[0-9]{4,}\s*$")]
    cve: String,
    /// The installed package's name.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    package: String,
    /// The installed version string, epoch included when not zero.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    version: String,
    /// An OS group (`debian 12`): triage rights on every site.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    os_group: Option<String>,
    /// A site: triage rights on it.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    site: Option<String>,
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    reason: String,
    /// `2027-01-31` (through that day, UTC) or an RFC 3339 time, in the
    /// future.
    #[schema(schema_with = crate::openapi::expiry_schema)]
    expires: Option<String>,
}

/// `POST /api/v1/exceptions`
#[utoipa::path(
    post,
    path = "/exceptions",
    operation_id = "add_exception",
    tag = "triage",
    summary = "Except a CVE for one installed package version on an OS group or a site",
    request_body = ExceptionBody,
    security(("api_token" = [])),
    responses(
        (status = 201, description = "The exception; its author is the caller", body = schemas::Exception),
        (status = 400, description = "The body is not the JSON expected, or a field is invalid", body = schemas::Error),
        (status = 404, description = "No such site (or not one the caller may read)", body = schemas::Error),
        (status = 409, description = "The same exception exists", body = schemas::Error),
    )
)]
pub async fn add_exception(
    State(state): State<AppState>,
    caller: Caller,
    b: Result<Json<ExceptionBody>, JsonRejection>,
) -> Result<Created, ApiError> {
    caller.reader()?;
    let b = body(b)?;
    match &b.site {
        Some(site) => {
            caller.triage_site(&state, site).await?;
        }
        None => caller.require_everywhere(
            Action::Triage,
            "an exception on an OS group (it applies to every site)",
        )?,
    }
    let expires_at = b.expires.as_deref().map(parse_expiry).transpose()?;
    let e = state
        .db
        .add_exception(&NewException {
            cve: b.cve,
            package: b.package,
            version: b.version,
            os_group: b.os_group,
            site: b.site,
            reason: b.reason,
            author: caller.author(),
            expires_at,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

/// `DELETE /api/v1/exceptions/{id}`
#[utoipa::path(
    delete,
    path = "/exceptions/{id}",
    operation_id = "remove_exception",
    tag = "triage",
    summary = "Delete an exception",
    params(("id" = i64, Path, description = "The exception's id")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Deleted", body = schemas::ExceptionRemoved),
        (status = 400, description = "The id is not an integer", body = schemas::Error),
        (status = 404, description = "No such exception (or not one the caller may see)", body = schemas::Error),
    )
)]
pub async fn remove_exception(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.reader()?;
    let id = id
        .map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("the exception id in the path must be an integer"))?;
    // One lookup whatever the answer: an exception of a site the caller
    // can't read is "not found", exactly like a missing one.
    let unknown = || ApiError::from(StoreError::NotFound(format!("exception {id}")));
    let exception = visible_exceptions(&state, &caller)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(unknown)?;
    match &exception.site {
        Some(site) => {
            caller.triage_site(&state, site).await?;
        }
        None => caller.require_everywhere(
            Action::Triage,
            "removing an exception on an OS group (it applies to every site)",
        )?,
    }
    state.db.remove_exception(id).await?;
    Ok(Json(json!({ "removed": id })))
}

/// The exceptions the caller may see (the web UI lists the same): OS-group ones (they apply to its
/// sites too) and those of sites it may read.
pub async fn visible_exceptions(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<Exception>, ApiError> {
    let all = state.db.exceptions().await?;
    if caller.access().allows_everywhere(Action::Read) {
        return Ok(all);
    }
    let sites = state.db.sites().await?;
    let readable = |name: &str| {
        sites
            .iter()
            .any(|s| s.name == name && caller.access().allows(Action::Read, s.id))
    };
    Ok(all
        .into_iter()
        .filter(|e| e.site.as_deref().is_none_or(readable))
        .collect())
}

/// For a caller who may not read every site, the CVEs present on its
/// hosts (excepted or not): the only tag assignments it is shown, so a
/// tag does not reveal which CVEs other sites are exposed to. `None` for
/// callers who read everything.
pub async fn cves_in_scope(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<HashSet<String>>, ApiError> {
    let access = caller.access();
    if access.allows_everywhere(Action::Read) {
        return Ok(None);
    }
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let summaries = state
        .vulns
        .fleet_cves(
            state.db.as_ref(),
            |site_id| access.allows(Action::Read, site_id),
            &triage,
        )
        .await?;
    Ok(Some(
        summaries
            .into_iter()
            .filter(|s| s.hosts > 0 || s.excepted_hosts > 0)
            .map(|s| s.cve)
            .collect(),
    ))
}
