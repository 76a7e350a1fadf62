//! One module per page.

pub mod cves;
pub mod exceptions;
pub mod host;
pub mod hosts;
pub mod login;

use axum::response::Redirect;

/// `GET /`: the hosts list is the first page until the dashboard exists.
pub async fn home() -> Redirect {
    Redirect::to("/hosts")
}
