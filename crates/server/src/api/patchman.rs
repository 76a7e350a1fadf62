//! `patchman-client` endpoints.
//!
//! - Protocol 1: `POST /reports/upload/` (and `/patchman/reports/upload/`),
//!   a multipart form without credentials: the sender must be allowed by
//!   `[server.sources]`; reports go to `[server] patchman_site` (or the site
//!   a client certificate or token pins). Reply 204, or the `report=true`
//!   summary as `200 text/plain`; errors are plain text.
//! - Protocol 2: `POST /api/report/` (and `/patchman/api/report/`), JSON
//!   with `Authorization: Api-Key KEY`, KEY a site's ingest token. Reply
//!   `202 {"status": "accepted", ...}`, `400 {"status": "error", "errors":
//!   {...}}`, 401/403 for a missing, unknown or wrong key.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use patchwatch_reports::patchman;
use serde_json::json;

use crate::body::decode_and_parse;
use crate::error::ApiError;
use crate::ingest::{self, form, site, token};
use crate::policy::{ClientCert, Identity, Via};
use crate::state::AppState;

/// Protocol 1.
pub async fn upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let cert = cert.map(|Extension(c)| c);
    match upload_v1(&state, peer, cert.as_ref(), &headers, raw).await {
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Ok(Some(summary)) => {
            let mut r = (StatusCode::OK, summary).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        Err(e) => e.into_plain_text(),
    }
}

async fn upload_v1(
    state: &AppState,
    peer: SocketAddr,
    cert: Option<&ClientCert>,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Option<String>, ApiError> {
    let token = token::optional(state, headers).await?;
    let who = state
        .policy
        .identify(peer.ip(), headers, cert, token.as_ref())?;
    let form_headers = headers.clone();
    let (report, wants_summary) = decode_and_parse(state, headers, raw, move |body| {
        let fields = form::fields(&form_headers, body)?;
        patchman::parse_v1(&fields).map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await?;
    state
        .policy
        .check_host(&who, &report.hostname, false)
        .await?;
    let site_id = site::for_report(state, &who, None, &state.config.patchman_site).await?;
    let summary = wants_summary.then(|| patchman::summary(&report));
    let outcome = ingest::store(
        state,
        site_id,
        report,
        who.address,
        ingest::user_agent(headers),
    )
    .await?;
    let Some(mut summary) = summary else {
        return Ok(None);
    };
    // The security updates from the imported repositories, as Patchman's
    // server would answer them.
    let lines = crate::repo_updates::security_update_lines(state, outcome.host_id).await?;
    if !lines.is_empty() {
        summary.push_str(&format!("Security updates: {}\n", lines.len()));
        for l in lines {
            summary.push_str(&format!("  {l}\n"));
        }
    }
    Ok(Some(summary))
}

/// Protocol 2.
pub async fn api_report(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    match report_v2(&state, peer, &headers, raw).await {
        Ok(response) => response,
        Err(e) => {
            let status = e.status;
            // A body that isn't a report at all is answered like a report
            // with errors; credential and limit errors carry a `detail`, as
            // Django REST framework words them.
            let body = if status == StatusCode::BAD_REQUEST {
                json!({"status": "error", "errors": {"non_field_errors": [e.message]}})
            } else {
                json!({"status": "error", "detail": e.message})
            };
            let mut r = (status, Json(body)).into_response();
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Api-Key"),
                );
            }
            r
        }
    }
}

async fn report_v2(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "missing Authorization header; send `Authorization: Api-Key KEY` with a site's \
             ingest token (patchman-client.conf: api_key=KEY)",
        )
    })?;
    let token = token::lookup(state, token::secret(value)?).await?;
    let (Some(site_id), Some(site)) = (token.site_id, token.site.clone()) else {
        return Err(ApiError::forbidden(format!(
            "token {:?} has no site",
            token.name
        )));
    };
    let who = Identity {
        address: state.policy.sender_address(peer.ip(), headers),
        via: Via::Token { site_id, site },
    };
    let parsed =
        decode_and_parse(state, headers, raw, |body| Ok(patchman::parse_v2(&body))).await?;
    let report = match parsed {
        Ok(r) => r,
        Err(e) => {
            return Ok((StatusCode::BAD_REQUEST, Json(patchman::v2_error_body(&e))).into_response());
        }
    };
    let hostname = report.hostname.clone();
    let outcome = ingest::store(
        state,
        site_id,
        report,
        who.address,
        ingest::user_agent(headers),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "status": "accepted",
            "report_id": outcome.report_id,
            "message": format!(
                "report for {hostname} stored ({} packages{})",
                outcome.packages,
                if outcome.packages_changed { "" } else { ", unchanged" }
            ),
            "host_id": outcome.host_id,
        })),
    )
        .into_response())
}
