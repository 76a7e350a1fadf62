//! Patchwatch's HTTP server.
//!
//! - `POST /api/v1/reports`: native reports from `patchwatch-client`
//!   (ingest token).
//! - `GET /api/v1/hosts...`: the read API (API token).
//! - `GET /healthz`: liveness and database reachability.
//!
//! Handlers are grouped by API version under [`api`].
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod body;
pub mod config;
pub mod error;
pub mod repeat;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use patchwatch_store::Database;
use tower_http::catch_panic::CatchPanicLayer;

pub use config::ServerConfig;
pub use error::ApiError;
pub use state::AppState;

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(api::health))
        .nest("/api/v1", api::v1::routes())
        .fallback(api::not_found)
        // Our own limit check names the limit; axum's default (2 MiB) would
        // cut in first otherwise.
        .layer(DefaultBodyLimit::max(limit.saturating_add(1)))
        .layer(CatchPanicLayer::custom(api::panic_response))
        .with_state(state)
}

/// Serves until `shutdown` resolves, pruning old reports in the background
/// when retention is set.
pub async fn serve(
    listener: tokio::net::TcpListener,
    db: Arc<dyn Database>,
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Some(days) = config.retention_days {
        tokio::spawn(prune_forever(db.clone(), days));
    }
    let app = router(AppState::new(db, config));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
