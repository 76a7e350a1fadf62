//! API version 1.

mod hosts;
mod ingest;
pub mod triage;
mod updates;
mod vulns;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", post(ingest::post_report))
        .route("/hosts", get(hosts::list))
        .route("/hosts/{id}", get(hosts::show))
        .route("/hosts/{id}/packages", get(hosts::packages))
        .route("/hosts/{id}/reports", get(hosts::reports))
        .route("/hosts/{id}/vulnerabilities", get(vulns::host))
        .route("/hosts/{id}/updates", get(updates::host))
        .route("/updates", get(updates::fleet))
        .route("/repos", get(updates::repos))
        .route("/packages/{name}", get(updates::package))
        .route("/assessment", get(vulns::assessment))
        .route("/cves", get(vulns::list))
        .route("/cves/{id}", get(vulns::show))
        .route("/tags", get(triage::tags).post(triage::add_tag))
        .route("/tags/assignments", get(triage::assignments))
        .route("/tags/{name}", delete(triage::remove_tag))
        .route("/tags/{name}/enable", post(triage::enable_tag))
        .route("/tags/{name}/disable", post(triage::disable_tag))
        .route("/tags/{name}/cves", post(triage::assign))
        .route("/tags/{name}/cves/{cve}", delete(triage::unassign))
        .route(
            "/exceptions",
            get(triage::exceptions).post(triage::add_exception),
        )
        .route("/exceptions/{id}", delete(triage::remove_exception))
}
