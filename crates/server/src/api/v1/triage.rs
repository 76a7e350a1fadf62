//! CVE tags and exceptions: read with an API token, and managed with one
//! (the token's name is the author when the body names none).
//!
//! * `GET /tags`, `POST /tags` `{name, reason?}`, `DELETE /tags/{name}`,
//!   `POST /tags/{name}/enable`, `POST /tags/{name}/disable`
//! * `GET /tags/assignments`, `POST /tags/{name}/cves` `{cve, reason?,
//!   author?}`, `DELETE /tags/{name}/cves/{cve}`
//! * `GET /exceptions`, `POST /exceptions` `{cve, package, version,
//!   os_group | site, reason, author?, expires?}`, `DELETE /exceptions/{id}`

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use patchwatch_store::{NewAssignment, NewException, TokenKind, TokenRecord, parse_expiry};
use serde::Deserialize;
use serde_json::{Value, json};

use super::hosts::reader;
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

type Created = (StatusCode, Json<Value>);

async fn manager(state: &AppState, headers: &HeaderMap) -> Result<TokenRecord, ApiError> {
    auth::require(headers, &state.tokens, state.db.as_ref(), TokenKind::Api).await
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {}", e.body_text())))
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(p)| p)
        .map_err(|e| ApiError::bad_request(format!("invalid path: {}", e.body_text())))
}

fn author(given: Option<String>, token: &TokenRecord) -> String {
    given
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| format!("token:{}", token.name))
}

/// `GET /api/v1/tags`
pub async fn tags(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers).await?;
    let tags = state.db.tags().await?;
    Ok(Json(json!({ "count": tags.len(), "tags": tags })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTagBody {
    name: String,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/tags`
pub async fn add_tag(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<NewTagBody>, JsonRejection>,
) -> Result<Created, ApiError> {
    manager(&state, &headers).await?;
    let b = body(b)?;
    let tag = state.db.add_tag(&b.name, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!(tag))))
}

/// `DELETE /api/v1/tags/{name}`
pub async fn remove_tag(
    State(state): State<AppState>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    manager(&state, &headers).await?;
    let name = path(name)?;
    state.db.remove_tag(&name).await?;
    Ok(Json(json!({ "removed": name })))
}

/// `POST /api/v1/tags/{name}/enable`
pub async fn enable_tag(
    State(state): State<AppState>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    manager(&state, &headers).await?;
    let tag = state.db.set_tag_enabled(&path(name)?, true).await?;
    Ok(Json(json!(tag)))
}

/// `POST /api/v1/tags/{name}/disable`
pub async fn disable_tag(
    State(state): State<AppState>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    manager(&state, &headers).await?;
    let tag = state.db.set_tag_enabled(&path(name)?, false).await?;
    Ok(Json(json!(tag)))
}

/// `GET /api/v1/tags/assignments`
pub async fn assignments(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers).await?;
    let list = state.db.tag_assignments().await?;
    Ok(Json(json!({ "count": list.len(), "assignments": list })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    cve: String,
    #[serde(default)]
    reason: String,
    author: Option<String>,
}

/// `POST /api/v1/tags/{name}/cves`
pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
    b: Result<Json<AssignBody>, JsonRejection>,
) -> Result<Created, ApiError> {
    let token = manager(&state, &headers).await?;
    let tag = path(name)?;
    let b = body(b)?;
    let a = state
        .db
        .assign_tag(&NewAssignment {
            cve: b.cve,
            tag,
            reason: b.reason,
            author: author(b.author, &token),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

/// `DELETE /api/v1/tags/{name}/cves/{cve}`
pub async fn unassign(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    manager(&state, &headers).await?;
    let (tag, cve) = path(p)?;
    state.db.unassign_tag(&cve, &tag).await?;
    Ok(Json(json!({ "tag": tag, "cve": cve, "removed": true })))
}

/// `GET /api/v1/exceptions`
pub async fn exceptions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    reader(&state, &headers).await?;
    let list = state.db.exceptions().await?;
    Ok(Json(json!({ "count": list.len(), "exceptions": list })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionBody {
    cve: String,
    package: String,
    version: String,
    os_group: Option<String>,
    site: Option<String>,
    reason: String,
    author: Option<String>,
    /// `2027-01-31` (through that day, UTC) or an RFC 3339 time.
    expires: Option<String>,
}

/// `POST /api/v1/exceptions`
pub async fn add_exception(
    State(state): State<AppState>,
    headers: HeaderMap,
    b: Result<Json<ExceptionBody>, JsonRejection>,
) -> Result<Created, ApiError> {
    let token = manager(&state, &headers).await?;
    let b = body(b)?;
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
            author: author(b.author, &token),
            expires_at,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

/// `DELETE /api/v1/exceptions/{id}`
pub async fn remove_exception(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    manager(&state, &headers).await?;
    let id = id
        .map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("the exception id in the path must be an integer"))?;
    state.db.remove_exception(id).await?;
    Ok(Json(json!({ "removed": id })))
}
