use std::sync::Arc;
use std::time::Duration;

use patchwatch_reports::Decryptor;
use patchwatch_store::Database;
use thiserror::Error;

use crate::auth::TokenCache;
use crate::config::ServerConfig;
use crate::ingest::site::SiteCache;
use crate::parsing::ParsingPool;
use crate::policy::Policy;
use crate::repeat::RepeatCache;
use crate::vulns::VulnIndex;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<dyn Database>,
    pub config: Arc<ServerConfig>,
    pub tokens: Arc<TokenCache>,
    pub repeats: Arc<RepeatCache>,
    /// Who may send reports without credentials.
    pub policy: Arc<Policy>,
    pub sites: Arc<SiteCache>,
    /// Decrypts Pakiti's encrypted reports; `None` without `pakiti_key`.
    pub decryptor: Option<Arc<Decryptor>>,
    /// The advisory index the vulnerability endpoints read.
    pub vulns: Arc<VulnIndex>,
    /// The repository snapshots the updates endpoints read.
    pub repos: Arc<crate::repo_updates::RepoCatalogue>,
    /// Where decompression, parsing and decryption run
    /// (`max_parallel_parsing` at a time, off the async workers).
    pub parsing: Arc<ParsingPool>,
    /// What `/metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Wakes the pass deriving kernel verdicts hosts lack.
    pub kernel_backfill: Arc<crate::kernel_verdicts::KernelBackfill>,
}

/// A setting that names a file the server could not use.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("[server] {setting} = {path:?}: {problem}")]
    File {
        setting: &'static str,
        path: String,
        problem: String,
    },
    #[error("[server] os_group")]
    OsGroups(#[from] patchwatch_assess::AssessError),
    #[error("[server] {0}")]
    Limits(String),
    #[error("[server] pakiti_paths: {0}")]
    PakitiPath(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

impl AppState {
    /// The state for `config`, without reading any file: `pakiti_key` is
    /// not loaded (see [`AppState::load`]).
    pub fn new(db: Arc<dyn Database>, config: ServerConfig) -> AppState {
        let ttl = Duration::from_secs(config.token_cache_seconds);
        AppState {
            tokens: Arc::new(TokenCache::new(ttl)),
            repeats: Arc::new(RepeatCache::default()),
            policy: Arc::new(Policy::new(config.sources.clone())),
            sites: Arc::new(SiteCache::new(ttl)),
            decryptor: None,
            vulns: Arc::new(VulnIndex::default()),
            repos: Arc::new(crate::repo_updates::RepoCatalogue::default()),
            parsing: Arc::new(ParsingPool::new(config.parallel_parsing())),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            kernel_backfill: Arc::default(),
            config: Arc::new(config),
            db,
        }
    }

    /// The state for `config`, with the Pakiti key loaded once: a key that
    /// can't be used stops the server at start, not at the first report.
    pub fn load(db: Arc<dyn Database>, config: ServerConfig) -> Result<AppState, StartError> {
        let read = |setting: &'static str, path: &std::path::Path| {
            std::fs::read_to_string(path).map_err(|e| StartError::File {
                setting,
                path: path.display().to_string(),
                problem: e.to_string(),
            })
        };
        let decryptor = match &config.pakiti_key {
            None => None,
            Some(key_path) => {
                let key = read("pakiti_key", key_path)?;
                let cert = match &config.pakiti_cert {
                    Some(p) => Some(read("pakiti_cert", p)?),
                    None => None,
                };
                let d =
                    Decryptor::from_pem(&key, cert.as_deref()).map_err(|e| StartError::File {
                        setting: if cert.is_some() {
                            "pakiti_cert"
                        } else {
                            "pakiti_key"
                        },
                        path: key_path.display().to_string(),
                        problem: e.to_string(),
                    })?;
                Some(Arc::new(d))
            }
        };
        config.check_limits().map_err(StartError::Limits)?;
        for path in &config.pakiti_paths {
            crate::pakiti_path(path).map_err(StartError::PakitiPath)?;
        }
        let groups = config.os_groups()?;
        let mut state = AppState::new(db, config);
        state.decryptor = decryptor;
        state.repos = Arc::new(crate::repo_updates::RepoCatalogue::new(groups.clone()));
        state.vulns = Arc::new(VulnIndex::new(groups));
        Ok(state)
    }
}
