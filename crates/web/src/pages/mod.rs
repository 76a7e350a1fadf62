//! One module per page.

pub mod admin;
pub mod cves;
pub mod exceptions;
pub mod host;
pub mod hosts;
pub mod login;
pub mod tags;

use axum::response::Redirect;

/// `GET /`: the hosts list is the first page until the dashboard exists.
pub async fn home() -> Redirect {
    Redirect::to("/hosts")
}
