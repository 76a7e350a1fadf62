//! Bearer tokens: `Authorization: Bearer pwi_...` (ingest) or `pwa_...`
//! (API). Lookups are cached briefly so a busy ingest endpoint doesn't ask
//! the database for every report.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use patchwatch_store::{Database, TokenKind, TokenRecord, token};

use crate::error::ApiError;

pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Option<TokenRecord>)>>,
}

impl TokenCache {
    /// Unknown tokens are cached too (briefly), so a client hammering with a
    /// wrong token costs no database queries; the map is bounded.
    const MAX_ENTRIES: usize = 10_000;

    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    async fn lookup(
        &self,
        db: &dyn Database,
        secret: &str,
    ) -> Result<Option<TokenRecord>, ApiError> {
        let hash = token::hash(secret);
        if let Some((at, record)) = self.entries.lock().expect("token cache").get(&hash)
            && at.elapsed() < self.ttl
        {
            return Ok(record.clone());
        }
        let record = db.token_by_hash(&hash).await?;
        let mut entries = self.entries.lock().expect("token cache");
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (Instant::now(), record.clone()));
        Ok(record)
    }
}

/// The token in the request, which must be of `kind`.
pub async fn require(
    headers: &HeaderMap,
    cache: &TokenCache,
    db: &dyn Database,
    kind: TokenKind,
) -> Result<TokenRecord, ApiError> {
    let secret = bearer(headers)?;
    let record = cache
        .lookup(db, secret)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
    if record.kind != kind {
        return Err(ApiError::forbidden(format!(
            "token {:?} is an {} token; this endpoint needs an {} token",
            record.name, record.kind, kind
        )));
    }
    Ok(record)
}

/// What a request without any credentials is told.
pub fn missing_credentials() -> ApiError {
    ApiError::unauthorized("missing Authorization header; send `Authorization: Bearer TOKEN`")
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or_else(missing_credentials)?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
    let (scheme, secret) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(format!(
            "unsupported authorization scheme {scheme:?}; send `Authorization: Bearer TOKEN`"
        )));
    }
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(ApiError::unauthorized("empty bearer token"));
    }
    Ok(secret)
}
