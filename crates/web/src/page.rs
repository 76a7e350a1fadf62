//! What every page shares: the chrome around it, the HTML error page, the
//! security headers and the stylesheet (served under a hashed URL, so it
//! can be cached for a year).

use std::sync::LazyLock;

use askama::Template;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use patchwatch_server::ApiError;
use patchwatch_store::StoreError;
use sha2::{Digest, Sha256};

const STYLE: &str = include_str!("../static/style.css");

/// The stylesheet's route; its name carries a hash of its content.
pub const STYLE_ROUTE: &str = "/static/{name}";

static STYLE_NAME: LazyLock<String> = LazyLock::new(|| {
    let digest = hex::encode(Sha256::digest(STYLE.as_bytes()));
    format!("style-{}.css", &digest[..16])
});

/// The stylesheet's URL, as pages link it.
pub fn style_url() -> String {
    format!("/static/{}", *STYLE_NAME)
}

/// `GET /static/style-HASH.css`; any other name is not found.
pub async fn stylesheet(Path(name): Path<String>) -> Response {
    if name != *STYLE_NAME {
        return WebError::not_found("no such file").into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLE,
    )
        .into_response()
}

/// The content security policy: nothing inline, nothing from elsewhere,
/// never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// Adds the security headers to every web UI answer.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show what one user may see: never kept by a shared cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The header and navigation around every page of a logged-in user.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user: String,
    pub csrf: String,
    pub style: String,
    /// Which navigation entry is the current page.
    pub current: &'static str,
    /// Whether the administration link is shown.
    pub admin: bool,
}

/// A page, rendered; a template that fails to render is a 500 (logged).
pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
            .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    style: String,
    status: u16,
    reason: &'a str,
    message: &'a str,
}

/// A page's failure: an HTML page naming the problem, with its status; or,
/// for a visitor without a session, the way to the login page.
#[derive(Debug)]
pub enum WebError {
    Page { status: StatusCode, message: String },
    LoginNeeded,
}

impl WebError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError::Page {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        WebError::new(e.status, e.message)
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        ApiError::from(e).into()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            WebError::LoginNeeded => return Redirect::to("/login").into_response(),
            WebError::Page { status, message } => (status, message),
        };
        let page = ErrorPage {
            style: style_url(),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: &message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

/// A POSTed form's fields, or a 400 page naming what is missing or wrong.
pub fn form<T>(
    f: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
) -> Result<T, WebError> {
    f.map(|axum::Form(f)| f)
        .map_err(|e| WebError::bad_request(format!("the form is incomplete: {}", e.body_text())))
}

/// A path parameter, or a 400 page naming the problem.
pub fn path<T>(
    p: Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>,
) -> Result<T, WebError> {
    p.map(|axum::extract::Path(p)| p)
        .map_err(|e| WebError::bad_request(format!("invalid path: {}", e.body_text())))
}
