//! Bearer tokens: `Authorization: Bearer pwi_...` (ingest) or `pwa_...`
//! (API). Lookups are cached briefly so a busy ingest endpoint doesn't ask
//! the database for every report. A token's use is recorded at most once a
//! minute, in the background: a request never waits for that write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use patchwatch_store::{Database, TokenKind, TokenRecord, now_millis, token};

use crate::error::ApiError;

pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Option<TokenRecord>)>>,
    /// When this process last sent each token's use to the store, so a
    /// busy token costs one write a minute, not one task a request.
    uses_sent: Mutex<HashMap<i64, Instant>>,
}

impl TokenCache {
    /// Unknown tokens are cached too (briefly), so a client hammering with a
    /// wrong token costs no database queries; the map is bounded.
    const MAX_ENTRIES: usize = 10_000;

    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
            uses_sent: Mutex::new(HashMap::new()),
        }
    }

    /// Drops the cached lookups of the token named `name`, so a token
    /// revoked or deleted through this process stops working at once
    /// (other processes notice within the cache's time to live).
    pub fn forget(&self, name: &str) {
        self.entries
            .lock()
            .expect("token cache")
            .retain(|_, (_, record)| record.as_ref().is_none_or(|r| r.name != name));
    }

    /// Records in the background that token `id` was used now, unless this
    /// process did so within the last minute. The store's own condition
    /// keeps several processes to one write a minute too. A failed write is
    /// logged, never the request's failure.
    fn record_use(&self, db: &Arc<dyn Database>, id: i64) {
        let every = Duration::from_millis(token::USE_RECORDED_EVERY_MS.unsigned_abs());
        let now = Instant::now();
        {
            let mut sent = self.uses_sent.lock().expect("token use times");
            if sent
                .get(&id)
                .is_some_and(|at| now.duration_since(*at) < every)
            {
                return;
            }
            if sent.len() >= Self::MAX_ENTRIES {
                sent.clear();
            }
            sent.insert(id, now);
        }
        let db = db.clone();
        let at = now_millis();
        tokio::spawn(async move {
            if let Err(e) = db.record_token_use(id, at).await {
                tracing::warn!(token_id = id, error = %e, "could not record a token's use");
            }
        });
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

/// The active token in the request, which must be of `kind`. An unknown
/// and a revoked token get the same answer: it tells nobody which secrets
/// once worked.
pub async fn require(
    headers: &HeaderMap,
    cache: &TokenCache,
    db: &Arc<dyn Database>,
    kind: TokenKind,
) -> Result<TokenRecord, ApiError> {
    let secret = bearer(headers)?;
    let record = cache
        .lookup(db.as_ref(), secret)
        .await?
        .filter(|r| !r.is_revoked())
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
    if record.kind != kind {
        return Err(ApiError::forbidden(format!(
            "token {:?} is an {} token; this endpoint needs an {} token",
            record.name, record.kind, kind
        )));
    }
    cache.record_use(db, record.id);
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
