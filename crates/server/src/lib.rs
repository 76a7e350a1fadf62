//! Patchwatch's HTTP server.
//!
//! - `POST /api/v1/reports`: native reports from `patchwatch-client`
//!   (ingest token).
//! - `GET /api/v1/hosts...`: the read API (API token).
//! - `POST /feed/` (`[server] pakiti_paths`): `pakiti-client` reports.
//! - `POST /reports/upload/`, `/api/report/` (also under `/patchman`):
//!   `patchman-client` reports.
//! - `GET /healthz`: liveness and database reachability.
//! - `GET /metrics`: Prometheus metrics ([`metrics`]; API token, or none
//!   on `metrics_listen`).
//!
//! In the background: pruning (`retention_days`) and feed downloads
//! (`feed_sync_interval`, [`feed_sync`]).
//!
//! Handlers are grouped under [`api`]; [`policy`] decides who may send
//! reports without a token; [`tls`] serves HTTPS with optional client
//! certificates.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod body;
pub mod caller;
pub mod config;
pub mod connections;
pub mod error;
pub mod feed_sync;
pub mod ingest;
pub mod kept_views;
pub mod kernel_verdicts;
pub mod metrics;
pub mod openapi;
pub mod parsing;
pub mod policy;
pub mod repeat;
pub mod repo_updates;
pub mod state;
pub mod tls;
pub mod vulns;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use patchwatch_store::Database;
use tower_http::catch_panic::CatchPanicLayer;

pub use config::ServerConfig;
pub use error::ApiError;
pub use state::{AppState, StartError};

/// Patchman's own URL layout, and the `/patchman` prefix of its Apache
/// deployment.
const PATCHMAN_V1: [&str; 2] = ["/reports/upload/", "/patchman/reports/upload/"];
const PATCHMAN_V2: [&str; 2] = ["/api/report/", "/patchman/api/report/"];

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application with `ui`'s routes (the web UI, `patchwatch-web`)
/// merged in under `/`, behind the same limits and layers.
pub fn router_with(state: AppState, ui: Router<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    let mut app = ui
        .route("/healthz", get(api::health))
        .route("/metrics", get(metrics::scrape))
        .nest("/api/v1", api::v1::routes());
    // Clients are configured with or without the trailing slash.
    for path in with_and_without_slash(&PATCHMAN_V1) {
        app = app.route(&path, post(api::patchman::upload));
    }
    for path in with_and_without_slash(&PATCHMAN_V2) {
        app = app.route(&path, post(api::patchman::api_report));
    }
    let taken: BTreeSet<String> = with_and_without_slash(&PATCHMAN_V1)
        .into_iter()
        .chain(with_and_without_slash(&PATCHMAN_V2))
        .collect();
    let pakiti: Vec<&str> = state
        .config
        .pakiti_paths
        .iter()
        .map(String::as_str)
        // AppState::load refuses bad paths; AppState::new skips them, as a
        // route axum can't parse would panic.
        .filter(|p| pakiti_path(p).is_ok())
        .collect();
    for path in with_and_without_slash(&pakiti) {
        if !taken.contains(&path) {
            app = app.route(&path, post(api::pakiti::feed));
        }
    }
    app.fallback(api::not_found)
        // Our own limit check names the limit; axum's default (2 MiB) would
        // cut in first otherwise.
        .layer(DefaultBodyLimit::max(limit.saturating_add(1)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            connections::read_body_in_time,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track_ingest,
        ))
        .layer(CatchPanicLayer::custom(api::panic_response))
        .with_state(state)
}

fn with_and_without_slash(paths: &[&str]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for p in paths {
        let bare = p.trim_end_matches('/');
        if !bare.is_empty() {
            out.insert(bare.to_owned());
        }
        out.insert(format!("{bare}/"));
    }
    out.into_iter().collect()
}

/// Checks a configured Pakiti path: absolute, no route syntax, not one of
/// the server's own paths.
pub fn pakiti_path(path: &str) -> Result<(), String> {
    let bare = path.trim_end_matches('/');
    if !path.starts_with('/') || bare.is_empty() {
        return Err(format!("{path:?} must be an absolute path like \"/feed/\""));
    }
    if path.contains(['{', '}', '*', '?', '#', ' ']) {
        return Err(format!(
            "{path:?} may not contain {{, }}, *, ?, # or spaces"
        ));
    }
    if bare == "/healthz" || bare == "/api/v1" || bare.starts_with("/api/v1/") {
        return Err(format!("{path:?} is one of Patchwatch's own paths"));
    }
    Ok(())
}

/// A configured server: its state and, with `[server.tls]`, its TLS
/// setup, loaded once so a bad key or certificate stops it at start.
pub struct Server {
    state: AppState,
    tls: Option<Arc<rustls::ServerConfig>>,
    ui: Router<AppState>,
}

impl Server {
    pub fn new(db: Arc<dyn Database>, config: ServerConfig) -> Result<Server, StartError> {
        let tls = config.tls.as_ref().map(tls::load).transpose()?;
        let state = AppState::load(db, config)?;
        Ok(Server {
            state,
            tls,
            ui: Router::new(),
        })
    }

    /// Serves `ui` (the web UI's routes) beside the API.
    pub fn with_ui(mut self, ui: Router<AppState>) -> Server {
        self.ui = ui;
        self
    }

    /// The state handlers share, for a caller that builds routes on it.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The connection, body and parsing limits, for the start-up message.
    pub fn describe_limits(&self) -> String {
        self.state.config.describe_limits()
    }

    /// Who may send reports without credentials, for the start-up message.
    pub fn describe_sources(&self) -> String {
        self.state.policy.describe()
    }

    /// Serves until `shutdown` resolves, assessing new reports in the
    /// background, pruning old reports when retention is set, and
    /// syncing feeds when `feed_sync_interval` is.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let db = self.state.db.clone();
        if let Some(days) = self.state.config.retention_days {
            tokio::spawn(prune_forever(db.clone(), days));
        }
        if let Some(interval) = self.state.config.feed_sync_interval {
            let options = patchwatch_vulndb::SyncOptions {
                max_bytes: self.state.config.feed_sync_max_bytes,
                ..Default::default()
            };
            tokio::spawn(feed_sync::sync_forever(db.clone(), interval, options));
        }
        tokio::spawn(kernel_verdicts::fill_forever(
            db.clone(),
            self.state.kernel_backfill.clone(),
        ));
        tokio::spawn(vulns::assess_on_arrival(
            db,
            self.state.vulns.clone(),
            Duration::from_secs(60),
        ));
        let limits = connections::ConnectionLimits::from_config(&self.state.config);
        let metrics_server = match &self.state.config.metrics_listen {
            Some(addr) => {
                // Bound before the main listener serves, so a taken port
                // stops the start instead of failing quietly later.
                let listener = tokio::net::TcpListener::bind(addr).await?;
                let app = metrics::router(self.state.clone());
                Some(tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!(error = %e, "the metrics listener stopped");
                    }
                }))
            }
            None => None,
        };
        let app = router_with(self.state, self.ui);
        let served = connections::serve(listener, self.tls, limits, app, shutdown).await;
        // Scrapes need no draining: the metrics address closes with the
        // main one.
        if let Some(task) = metrics_server {
            task.abort();
        }
        served
    }
}

/// Serves until `shutdown` resolves (see [`Server`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    db: Arc<dyn Database>,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    Server::new(db, config)?.run(listener, shutdown).await?;
    Ok(())
}

async fn prune_forever(db: Arc<dyn Database>, days: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = patchwatch_store::now_millis() - i64::from(days) * 86_400_000;
        match db.prune(before).await {
            Ok(stats) => tracing::info!(?stats, days, "pruned old reports"),
            Err(e) => tracing::warn!(error = %e, "pruning failed; will retry"),
        }
    }
}
