//! `POST /api/v1/reports`: a native report from `patchwatch-client`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patchwatch_reports::{native, os};
use patchwatch_store::{IngestOutcome, IngestRequest, RepeatRequest, TokenKind, now_millis};

use crate::auth;
use crate::body::{self, Encoding};
use crate::error::ApiError;
use crate::ingest_common;
use crate::repeat::{RepeatCache, Seen};
use crate::state::AppState;

pub async fn post_report(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let token = auth::require(
        &headers,
        &state.tokens,
        state.db.as_ref(),
        TokenKind::Ingest,
    )
    .await?;
    let site_id = token
        .site_id
        .ok_or_else(|| ApiError::forbidden("this ingest token has no site"))?;
    let raw = raw.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "request body is larger than the limit of {} bytes",
                    state.config.max_body_bytes
                ),
            )
        } else {
            ApiError::bad_request(format!("could not read the request body: {e}"))
        }
    })?;
    body::check_size(&raw, state.config.max_body_bytes)?;
    let encoding = Encoding::from_headers(&headers)?;
    let received_at = now_millis();
    // Behind a trusted reverse proxy, the client it names is the sender.
    let sender = state.policy.sender_address(peer.ip(), &headers).to_string();
    let user_agent = ingest_common::user_agent(&headers);

    let key = RepeatCache::key(token.id, encoding.as_byte(), &raw);
    if let Some(seen) = state.repeats.get(&key) {
        let repeat = RepeatRequest {
            host_id: seen.host_id,
            repeats_report_id: seen.report_id,
            received_at,
            sender: sender.clone(),
            user_agent: user_agent.clone(),
        };
        if let Some(outcome) = state.db.ingest_repeat(repeat).await? {
            state.repeats.insert(
                key,
                Seen {
                    host_id: outcome.host_id,
                    report_id: outcome.report_id,
                },
            );
            return Ok(stored(outcome));
        }
        state.repeats.forget(&key);
    }

    let decoded = body::decode(encoding, &raw, state.config.max_decompressed_bytes)?;
    let report = native::parse(&decoded).map_err(|e| ApiError::bad_request(e.to_string()))?;
    ingest_common::check_package_count(&state, &report)?;
    if let Some(named) = &report.site
        && Some(named) != token.site.as_ref()
    {
        return Err(ApiError::forbidden(format!(
            "the report names site {named:?} but the token {:?} is for site {:?}",
            token.name,
            token.site.as_deref().unwrap_or("")
        )));
    }
    let os = os::normalise(&report.os, &report.os_string);
    let request = IngestRequest::new(site_id, report, os, received_at, sender, user_agent);
    let outcome = state.db.ingest(request).await?;
    state.repeats.insert(
        key,
        Seen {
            host_id: outcome.host_id,
            report_id: outcome.report_id,
        },
    );
    Ok(stored(outcome))
}

fn stored(outcome: IngestOutcome) -> Response {
    let status = if outcome.new_host {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(serde_json::json!({
            "status": "stored",
            "host_id": outcome.host_id,
            "report_id": outcome.report_id,
            "new_host": outcome.new_host,
            "packages_changed": outcome.packages_changed,
            "packages": outcome.packages,
            "host_url": format!("/api/v1/hosts/{}", outcome.host_id),
        })),
    )
        .into_response()
}
