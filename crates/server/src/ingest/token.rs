//! Ingest tokens on the report endpoints that accept more than the native
//! `Authorization: Bearer`: Patchman 2 sends `Api-Key KEY`, and a
//! forwarding proxy may add a token to a Pakiti or Patchman 1 post, which
//! otherwise carries none. Every scheme is looked up through the one
//! [`crate::auth::TokenCache`], so a busy site costs the database no more
//! than native clients do.

use axum::http::{HeaderMap, HeaderValue, header};
use patchwatch_store::{TokenKind, TokenRecord};

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

/// The ingest token of a request that may carry one (a forwarding proxy
/// can add `Authorization: Bearer` or `Api-Key` to a Pakiti or Patchman 1
/// post); `None` without an `Authorization` header. A token that is sent
/// must be a valid ingest token.
pub async fn optional(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<TokenRecord>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    // A site may keep HTTP Basic auth in front of the old Pakiti path: that
    // header is the web server's business, not a Patchwatch token.
    let scheme = value
        .to_str()
        .unwrap_or("")
        .trim()
        .split(' ')
        .next()
        .unwrap_or("");
    if scheme.eq_ignore_ascii_case("basic") || scheme.eq_ignore_ascii_case("negotiate") {
        return Ok(None);
    }
    lookup(state, secret(value)?).await.map(Some)
}

/// The secret of `Authorization: Api-Key KEY` (Patchman 2), `Bearer KEY` or
/// `Token KEY`.
pub fn secret(value: &HeaderValue) -> Result<&str, ApiError> {
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
    let (scheme, secret) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !["api-key", "bearer", "token"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
    {
        return Err(ApiError::unauthorized(format!(
            "unsupported authorization scheme {scheme:?}; send `Authorization: Api-Key KEY` \
             with a site's ingest token"
        )));
    }
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header has an empty key",
        ));
    }
    Ok(secret)
}

/// Looks an ingest token up through the shared [`auth::TokenCache`].
pub async fn lookup(state: &AppState, secret: &str) -> Result<TokenRecord, ApiError> {
    // auth::require reads the secret from a Bearer header; hand it one so
    // every scheme shares the one cache (lead: a public lookup in auth.rs
    // would make this adapter unnecessary).
    let mut bearer = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {secret}"))
        .map_err(|_| ApiError::unauthorized("unknown or revoked token"))?;
    bearer.insert(header::AUTHORIZATION, value);
    auth::require(&bearer, &state.tokens, &state.db, TokenKind::Ingest).await
}
