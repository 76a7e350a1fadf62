//! Patchwatch's web UI: server-rendered HTML (askama templates, escaped
//! by default), no JavaScript. Every page reads through the same
//! authorization as the JSON API: a session (or a single sign-on header
//! or certificate) becomes a `patchwatch_server::caller::Caller`, and the
//! pages ask its scope helpers.
//!
//! - [`session`]: cookies, login sessions in the database, CSRF checks,
//!   the login rate limit;
//! - [`page`]: the shared page chrome, the HTML error page, security
//!   headers and the stylesheet;
//! - [`pages`]: one module per page;
//! - [`fleet`]: the dashboard's counts and trends over a shared snapshot;
//! - [`exposure`]: the snapshot's exposure, kept between requests;
//! - [`chart`]: SVG line charts.
#![forbid(unsafe_code)]

pub mod chart;
pub mod exposure;
pub mod fleet;
pub mod page;
pub mod pages;
pub mod session;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Extension, Router};
use patchwatch_server::AppState;

/// The web UI's routes, to merge into the server's router
/// (`patchwatch_server::Server::with_ui`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/hosts", get(pages::hosts::list))
        .route("/hosts.csv", get(pages::hosts::csv))
        .route("/hosts/{id}", get(pages::host::show))
        .route("/cves", get(pages::cves::list))
        .route("/cves/{id}", get(pages::cves::show))
        .route(
            "/exceptions",
            get(pages::exceptions::list).post(pages::exceptions::create),
        )
        .route("/exceptions/{id}/remove", post(pages::exceptions::remove))
        // Dashboard, fleet and configuration pages (issue 11).
        .route("/", get(pages::dashboard::show))
        .route("/sites", get(pages::sites::list))
        .route("/sites/{name}", get(pages::sites::show))
        .route("/groups", get(pages::sites::groups))
        .route("/os", get(pages::sites::os))
        .route("/feeds", get(pages::feeds::feeds))
        .route("/repos", get(pages::feeds::repos))
        .route("/packages", get(pages::packages::search))
        .route("/packages/{name}", get(pages::packages::show))
        .layer(Extension(Arc::new(fleet::SnapshotCache::default())))
        // Hosts list filters, tags and administration (issue 11).
        .route("/tags", get(pages::tags::list).post(pages::tags::create))
        .route("/tags/assign", post(pages::tags::assign))
        .route("/tags/{name}/remove", post(pages::tags::remove))
        .route(
            "/tags/{name}/cves/{cve}/remove",
            post(pages::tags::unassign),
        )
        .route("/tags/{name}/{action}", post(pages::tags::set_enabled))
        .route("/admin", get(pages::admin::home))
        .route(
            "/admin/users",
            get(pages::admin::users).post(pages::admin::add_user),
        )
        .route(
            "/admin/users/{name}/remove",
            post(pages::admin::remove_user),
        )
        .route("/admin/users/{name}/revoke", post(pages::admin::revoke))
        .route("/admin/grant", post(pages::admin::grant))
        .route(
            "/admin/tokens",
            get(pages::admin::tokens).post(pages::admin::create_token),
        )
        .route(
            "/admin/tokens/{name}/revoke",
            post(pages::admin::revoke_token),
        )
        .route(
            "/admin/tokens/{name}/delete",
            post(pages::admin::delete_token),
        )
        .route(page::STYLE_ROUTE, get(page::stylesheet))
        .layer(axum::middleware::from_fn(session::same_origin_posts))
        .layer(axum::middleware::from_fn(page::security_headers))
        .layer(Extension(Arc::new(session::LoginLimiter::default())))
}
