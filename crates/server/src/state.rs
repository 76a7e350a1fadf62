use std::sync::Arc;
use std::time::Duration;

use patchwatch_store::Database;

use crate::auth::TokenCache;
use crate::config::ServerConfig;
use crate::repeat::RepeatCache;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<dyn Database>,
    pub config: Arc<ServerConfig>,
    pub tokens: Arc<TokenCache>,
    pub repeats: Arc<RepeatCache>,
}

impl AppState {
    pub fn new(db: Arc<dyn Database>, config: ServerConfig) -> AppState {
        AppState {
            tokens: Arc::new(TokenCache::new(Duration::from_secs(
                config.token_cache_seconds,
            ))),
            repeats: Arc::new(RepeatCache::default()),
            config: Arc::new(config),
            db,
        }
    }
}
