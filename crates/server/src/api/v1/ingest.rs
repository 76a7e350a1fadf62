//! `POST /api/v1/reports`: a native report from `patchwatch-client`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patchwatch_reports::native;
use patchwatch_store::{IngestOutcome, RepeatRequest, TokenKind, now_millis};

use crate::auth;
use crate::body::{self, Encoding};
use crate::error::ApiError;
use crate::ingest;
use crate::openapi::schemas;
use crate::repeat::{RepeatCache, Seen};
use crate::state::AppState;

/// `POST /api/v1/reports`
#[utoipa::path(
    post,
    path = "/reports",
    operation_id = "post_report",
    tag = "reports",
    summary = "Send a native report",
    description = "A report as `patchwatch-client` sends it (docs/report-format.md, \
        JSON Schema in docs/report.schema.json), optionally compressed \
        (`Content-Encoding: gzip` or `zstd`). A 2xx answer means it is committed; \
        a 4xx names what is wrong with it and nothing of it is stored.",
    request_body(content = Object, content_type = "application/json", description = "The report"),
    security(("ingest_token" = [])),
    responses(
        (status = 200, description = "Stored, for a host already known", body = schemas::ReportStored),
        (status = 201, description = "Stored; the report created the host", body = schemas::ReportStored),
        (status = 400, description = "The report is malformed or invalid; the message names the problem", body = schemas::Error),
        (status = 408, description = "The body did not arrive in time", body = schemas::Error),
        (status = 413, description = "The body, decompressed body or package list is over its limit", body = schemas::Error),
        (status = 415, description = "An unsupported Content-Encoding", body = schemas::Error),
    )
)]
pub async fn post_report(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let token = auth::require(&headers, &state.tokens, &state.db, TokenKind::Ingest).await?;
    let site_id = token
        .site_id
        .ok_or_else(|| ApiError::forbidden("this ingest token has no site"))?;
    let raw = body::within_limit(&state, raw)?;
    let encoding = Encoding::from_headers(&headers)?;
    let received_at = now_millis();
    // Behind a trusted reverse proxy, the client it names is the sender.
    let sender = state.policy.sender_address(peer.ip(), &headers);
    let user_agent = ingest::user_agent(&headers);

    let key = RepeatCache::key(token.id, encoding.as_byte(), &raw);
    if let Some(seen) = state.repeats.get(&key) {
        let repeat = RepeatRequest {
            host_id: seen.host_id,
            repeats_report_id: seen.report_id,
            received_at,
            sender: sender.to_string(),
            user_agent: user_agent.clone(),
        };
        if let Some(outcome) = state.db.ingest_repeat(repeat).await? {
            state.repeats.insert(key, Seen::from(&outcome));
            return Ok(stored(outcome));
        }
        state.repeats.forget(&key);
    }

    let limit = state.config.max_decompressed_bytes;
    let report = state
        .parsing
        .run(move || {
            let decoded = body::decode(encoding, &raw, limit)?;
            native::parse(&decoded).map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .await?;
    ingest::check_package_count(&state, &report)?;
    if let Some(named) = &report.site
        && Some(named) != token.site.as_ref()
    {
        return Err(ApiError::forbidden(format!(
            "the report names site {named:?} but the token {:?} is for site {:?}",
            token.name,
            token.site.as_deref().unwrap_or("")
        )));
    }
    let outcome = ingest::store(&state, site_id, report, sender, user_agent).await?;
    state.repeats.insert(key, Seen::from(&outcome));
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
