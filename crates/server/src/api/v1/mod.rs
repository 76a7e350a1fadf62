//! API version 1.

mod hosts;
mod ingest;
mod vulns;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", post(ingest::post_report))
        .route("/hosts", get(hosts::list))
        .route("/hosts/{id}", get(hosts::show))
        .route("/hosts/{id}/packages", get(hosts::packages))
        .route("/hosts/{id}/reports", get(hosts::reports))
        .route("/hosts/{id}/vulnerabilities", get(vulns::host))
        .route("/cves", get(vulns::list))
        .route("/cves/{id}", get(vulns::show))
}
