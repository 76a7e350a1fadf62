//! API version 1. The router and the OpenAPI document
//! (`GET /api/v1/openapi.json`, see `openapi.rs`) come from the same
//! declarations: `routes!` only takes handlers with a `#[utoipa::path]`,
//! so a route can't be left out of the document.

mod hosts;
mod ingest;
pub mod triage;
mod updates;
mod vulns;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The routes of `/api/v1` with their OpenAPI paths (relative to it).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(crate::openapi::serve))
        .routes(routes!(ingest::post_report))
        .routes(routes!(hosts::list))
        .routes(routes!(hosts::show))
        .routes(routes!(hosts::packages))
        .routes(routes!(hosts::reports))
        .routes(routes!(vulns::host))
        .routes(routes!(updates::host))
        .routes(routes!(updates::fleet))
        .routes(routes!(updates::package))
        .routes(routes!(updates::repos))
        .routes(routes!(vulns::assessment))
        .routes(routes!(vulns::list))
        .routes(routes!(vulns::show))
        .routes(routes!(triage::tags, triage::add_tag))
        .routes(routes!(triage::assignments))
        .routes(routes!(triage::remove_tag))
        .routes(routes!(triage::enable_tag))
        .routes(routes!(triage::disable_tag))
        .routes(routes!(triage::assign))
        .routes(routes!(triage::unassign))
        .routes(routes!(triage::exceptions, triage::add_exception))
        .routes(routes!(triage::remove_exception))
}

/// The routes of `/api/v1`, for `Router::nest`.
pub fn routes() -> Router<AppState> {
    api().split_for_parts().0
}
