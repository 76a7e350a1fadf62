//! `GET/POST /login`, `POST /logout`. Local users log in with their
//! password; a user named by a trusted proxy's header or a client
//! certificate (`[server.auth]`) is logged in on `GET /login` without a
//! form.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use patchwatch_auth::Principal;
use patchwatch_server::AppState;
use patchwatch_server::caller::single_sign_on;
use patchwatch_server::policy::ClientCert;
use serde::Deserialize;

use crate::page::{CsrfOnly, WebError, render, style_url};
use crate::session::{self, LoginLimiter, WebUser};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    style: String,
    error: Option<String>,
    username: String,
}

fn login_page(status: StatusCode, error: Option<String>, username: String) -> Response {
    let mut response = render(&LoginPage {
        style: style_url(),
        error,
        username,
    });
    *response.status_mut() = status;
    response
}

fn logged_in(state: &AppState, secret: &str) -> Response {
    (
        [(header::SET_COOKIE, session::set_cookie(state, secret))],
        Redirect::to("/hosts"),
    )
        .into_response()
}

/// `GET /login`: the form, or straight in for a single sign-on user.
pub async fn form(State(state): State<AppState>, request: Request) -> Result<Response, WebError> {
    let (mut parts, _) = request.into_parts();
    if session::current(&state, &parts.headers).await?.is_some() {
        return Ok(Redirect::to("/hosts").into_response());
    }
    let peer = session::peer(&mut parts, &state).await;
    let cert = parts.extensions.get::<ClientCert>().cloned();
    if let Some(identity) = single_sign_on(&state, &parts.headers, peer, cert.as_ref()).await?
        && let Principal::User { id, .. } = identity.principal
    {
        let previous = session::cookie_secret(&state, &parts.headers);
        let secret = session::start(&state, id, previous.as_deref()).await?;
        return Ok(logged_in(&state, &secret));
    }
    Ok(login_page(StatusCode::OK, None, String::new()))
}

#[derive(Debug, Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /login`: checks the password; a new session every time.
pub async fn submit(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<LoginLimiter>>,
    request: Request,
) -> Result<Response, WebError> {
    let (mut parts, body) = request.into_parts();
    let peer = session::peer(&mut parts, &state).await.map(|p| p.ip());
    let headers = parts.headers.clone();
    let Form(creds) = Form::<Credentials>::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| {
            WebError::bad_request(format!("the login form is incomplete: {}", e.body_text()))
        })?;
    let name = creds.username.trim().to_owned();
    if !limiter.allowed(&name, peer) {
        return Ok(login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed logins; wait a few minutes and try again.".into()),
            name,
        ));
    }
    let user = state.db.user(&name).await?;
    let verified = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => {
            patchwatch_auth::password::verify(&creds.password, hash).unwrap_or_else(|e| {
                tracing::warn!(user = %name, error = %e, "a stored password hash can't be read");
                false
            })
        }
        None => false,
    };
    let Some(user) = user.filter(|_| verified) else {
        limiter.failed(&name, peer);
        tracing::info!(user = %name, "failed web login");
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            Some("Unknown user or wrong password.".into()),
            name,
        ));
    };
    let previous = session::cookie_secret(&state, &headers);
    let secret = session::start(&state, user.id, previous.as_deref()).await?;
    tracing::info!(user = %name, "web login");
    Ok(logged_in(&state, &secret))
}

/// `POST /logout`: deletes the session and the cookie.
pub async fn logout(
    State(state): State<AppState>,
    user: WebUser,
    request: Request,
) -> Result<Response, WebError> {
    let (parts, body) = request.into_parts();
    let headers = parts.headers.clone();
    let Form(form) = Form::<CsrfOnly>::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| WebError::bad_request(e.body_text()))?;
    user.check_csrf(&form.csrf)?;
    if let Some(secret) = session::cookie_secret(&state, &headers) {
        state
            .db
            .delete_session(&patchwatch_store::token::hash(&secret))
            .await?;
    }
    Ok((
        [(header::SET_COOKIE, session::clear_cookie(&state))],
        Redirect::to("/login"),
    )
        .into_response())
}
