//! What every page shares: the chrome around it, the HTML error page, the
//! security headers, the stylesheet (served under a hashed URL, so it
//! can be cached for a year) and the checks every form post goes through
//! ([`CheckedForm`]).

use std::marker::PhantomData;
use std::sync::LazyLock;

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use patchwatch_auth::Action;
use patchwatch_server::caller::Caller;
use patchwatch_server::{ApiError, AppState};
use patchwatch_store::StoreError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::session::WebUser;

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

/// What a form's path holds: parsed, or a 400 page naming the problem.
/// A path whose parameters need their own words (or none) implements it
/// itself.
pub trait FormPath: Sized + Send {
    fn from_parts(parts: &mut Parts) -> impl Future<Output = Result<Self, WebError>> + Send;
}

/// The path of a form posted to a fixed URL.
pub struct NoPath;

impl FormPath for NoPath {
    async fn from_parts(_: &mut Parts) -> Result<NoPath, WebError> {
        Ok(NoPath)
    }
}

impl FormPath for String {
    async fn from_parts(parts: &mut Parts) -> Result<String, WebError> {
        path(Path::from_request_parts(parts, &()).await)
    }
}

impl FormPath for (String, String) {
    async fn from_parts(parts: &mut Parts) -> Result<(String, String), WebError> {
        path(Path::from_request_parts(parts, &()).await)
    }
}

/// A form that carries the session's CSRF token.
pub trait CsrfProtected {
    fn csrf(&self) -> &str;
}

/// The form of a button that acts on what its URL names: only the token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

impl CsrfProtected for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What the sender of a form must be allowed to do, beyond being logged in.
pub trait FormRight {
    fn check(caller: &Caller) -> Result<(), WebError>;
}

/// The admin role everywhere: the administration pages.
pub struct Administrator;

impl FormRight for Administrator {
    fn check(caller: &Caller) -> Result<(), WebError> {
        Ok(caller.require_everywhere(Action::Administer, "the administration pages")?)
    }
}

/// Triage rights on every site, as the API's `tag_manager`: CVE tags
/// change every site's findings.
pub struct TagManager;

impl FormRight for TagManager {
    fn check(caller: &Caller) -> Result<(), WebError> {
        Ok(patchwatch_server::api::v1::triage::tag_manager(caller)?)
    }
}

/// A role on some site; the handler checks the triage right on the site
/// the form (or the record it names) is about.
pub struct Reader;

impl FormRight for Reader {
    fn check(caller: &Caller) -> Result<(), WebError> {
        caller.reader()?;
        Ok(())
    }
}

/// A form post that passed every check, in this order: a session (else
/// the login page), the path `P`, the form `F` (a 400 naming what is
/// missing or wrong), its CSRF token (403), the right `R` (403). The
/// `Origin`/`Sec-Fetch-Site` check comes before all of them, as a layer
/// over every POST (`session::same_origin_posts`). It reads the body, so
/// it is a handler's last argument.
pub struct CheckedForm<R, F, P = NoPath> {
    pub user: WebUser,
    pub path: P,
    pub form: F,
    right: PhantomData<fn() -> R>,
}

/// A form only administrators may send.
pub type AdminForm<F, P = NoPath> = CheckedForm<Administrator, F, P>;

impl<R, F, P> FromRequest<AppState> for CheckedForm<R, F, P>
where
    R: FormRight,
    F: DeserializeOwned + CsrfProtected + Send,
    P: FormPath,
{
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await?;
        let path = P::from_parts(&mut parts).await?;
        let form: F =
            form(axum::Form::from_request(Request::from_parts(parts, body), state).await)?;
        user.check_csrf(form.csrf())?;
        R::check(&user.caller)?;
        Ok(CheckedForm {
            user,
            path,
            form,
            right: PhantomData,
        })
    }
}
