//! Login sessions: a random secret in a cookie, stored as its SHA-256
//! (store migration 7) with the user, the times and a CSRF token; idle
//! and absolute expiry; a new session at every login; logout deletes it.
//! Every POST also has to come from this site (`Origin` /
//! `Sec-Fetch-Site`), and failed logins are limited per user and address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use patchwatch_server::AppState;
use patchwatch_server::caller::{Caller, user_identity};
use patchwatch_store::{Millis, NewSession, Session, now_millis, token};
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::page::{Chrome, WebError, style_url};

/// The cookie over HTTPS: `__Host-` pins it to this host, path `/`, Secure.
pub const SECURE_COOKIE: &str = "__Host-patchwatch";
/// The cookie over plain HTTP (meant for loopback).
pub const PLAIN_COOKIE: &str = "patchwatch_session";

/// A session unused this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// A session ends this long after login, used or not.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Activity is written at most this often per session (a page view is
/// otherwise a read only).
const TOUCH_EVERY: Millis = 60_000;

fn millis(d: Duration) -> Millis {
    d.as_millis() as Millis
}

/// The cookie's name for this server: Secure only makes sense over TLS.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.tls.is_some() {
        SECURE_COOKIE
    } else {
        PLAIN_COOKIE
    }
}

/// The `Set-Cookie` value for a new session's secret.
pub fn set_cookie(state: &AppState, secret: &str) -> String {
    let name = cookie_name(state);
    let secure = if state.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(state: &AppState) -> String {
    let name = cookie_name(state);
    let secure = if state.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The session secret the request's cookie carries, if any.
pub fn cookie_secret(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Starts a session for `user_id`; returns its secret (for the cookie).
/// The previous session of this browser, if any, is ended: an id is
/// never carried across a login.
pub async fn start(
    state: &AppState,
    user_id: i64,
    previous: Option<&str>,
) -> Result<String, WebError> {
    if let Some(old) = previous {
        state.db.delete_session(&token::hash(old)).await?;
    }
    let now = now_millis();
    // Old sessions go when someone logs in: no background task needed.
    state
        .db
        .expire_sessions(now - millis(ABSOLUTE_TIMEOUT), now - millis(IDLE_TIMEOUT))
        .await?;
    let secret = random_text(43);
    state
        .db
        .create_session(
            &NewSession {
                id_hash: token::hash(&secret),
                user_id,
                csrf_token: random_text(43),
            },
            now,
        )
        .await?;
    Ok(secret)
}

/// The live session the cookie names; an expired one is deleted.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, WebError> {
    let Some(secret) = cookie_secret(state, headers) else {
        return Ok(None);
    };
    let hash = token::hash(&secret);
    let Some(session) = state.db.session(&hash).await? else {
        return Ok(None);
    };
    let now = now_millis();
    if now - session.created_at > millis(ABSOLUTE_TIMEOUT)
        || now - session.last_seen > millis(IDLE_TIMEOUT)
    {
        state.db.delete_session(&hash).await?;
        return Ok(None);
    }
    if now - session.last_seen > TOUCH_EVERY {
        state.db.touch_session(&hash, now).await?;
    }
    Ok(Some(session))
}

/// A logged-in user: their identity as the API sees it, and their
/// session's CSRF token.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub caller: Caller,
    pub name: String,
    pub csrf: String,
}

impl WebUser {
    pub fn chrome(&self, current: &'static str) -> Chrome {
        Chrome {
            user: self.name.clone(),
            csrf: self.csrf.clone(),
            style: style_url(),
            current,
            admin: self
                .caller
                .access()
                .allows_everywhere(patchwatch_auth::Action::Administer),
        }
    }

    /// A form's CSRF token must be this session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        let expected = self.csrf.as_bytes();
        let given = submitted.as_bytes();
        // Compared in full whatever the first difference.
        let same = expected.len() == given.len()
            && expected
                .iter()
                .zip(given)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(WebError::forbidden(
                "the form's CSRF token does not match this session; reload the page and try again",
            ))
        }
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<WebUser, WebError> {
        let session = current(state, &parts.headers)
            .await?
            .ok_or(WebError::LoginNeeded)?;
        let user = state
            .db
            .user(&session.user_name)
            .await?
            .ok_or(WebError::LoginNeeded)?;
        let identity = user_identity(state, user).await?;
        Ok(WebUser {
            caller: Caller(identity),
            name: session.user_name,
            csrf: session.csrf_token,
        })
    }
}

/// Refuses a POST that a browser says came from another site: its
/// `Sec-Fetch-Site` must be `same-origin` (or `none`, typed by the user),
/// else its `Origin` must name this host. A POST with neither is refused
/// too: every browser sends one of them.
pub async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    match post_origin_problem(request.headers()) {
        None => next.run(request).await,
        Some(problem) => WebError::forbidden(problem).into_response(),
    }
}

fn post_origin_problem(headers: &HeaderMap) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => None,
            other => Some(format!(
                "this form was sent from another site (Sec-Fetch-Site: {other}); \
                 forms are only accepted from Patchwatch's own pages"
            )),
        };
    }
    let Some(origin) = text("origin") else {
        return Some(
            "a form post must carry an Origin or Sec-Fetch-Site header; \
             send it from Patchwatch's own pages"
                .to_owned(),
        );
    };
    let host = text("host").unwrap_or("");
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    if authority.is_some_and(|a| a.eq_ignore_ascii_case(host)) {
        None
    } else {
        Some(format!(
            "this form was sent from {origin:?}, not from this site ({host}); \
             forms are only accepted from Patchwatch's own pages"
        ))
    }
}

/// Failed logins per user name and per address: a few are forgiven, then
/// each key waits until its failures age out.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Failures within [`LOGIN_WINDOW`] allowed per user name.
pub const MAX_FAILURES_PER_USER: usize = 5;
/// Failures within [`LOGIN_WINDOW`] allowed per address.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// User names with failures remembered at most.
const MAX_TRACKED_KEYS: usize = 100_000;

impl LoginLimiter {
    fn keys(user: &str, ip: Option<IpAddr>) -> [(String, usize); 2] {
        [
            (format!("user:{user}"), MAX_FAILURES_PER_USER),
            (
                format!("ip:{}", ip.map(|i| i.to_string()).unwrap_or_default()),
                MAX_FAILURES_PER_ADDRESS,
            ),
        ]
    }

    /// Whether another attempt for `user` from `ip` may be checked now.
    pub fn allowed(&self, user: &str, ip: Option<IpAddr>) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
            !times.is_empty()
        });
        Self::keys(user, ip)
            .iter()
            .all(|(k, max)| map.get(k).is_none_or(|t| t.len() < *max))
    }

    pub fn failed(&self, user: &str, ip: Option<IpAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (k, max) in Self::keys(user, ip) {
            // Guessed names must not grow the map without bound: past the
            // cap only keys already counted are, the address always is.
            if map.len() >= MAX_TRACKED_KEYS && !map.contains_key(&k) && k.starts_with("user:") {
                continue;
            }
            let times = map.entry(k).or_default();
            times.push(Instant::now());
            // Only the newest `max` matter for the decision.
            if times.len() > max {
                times.remove(0);
            }
        }
    }
}

/// The peer address, through axum's extractor.
pub async fn peer(parts: &mut Parts, state: &AppState) -> Option<SocketAddr> {
    ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
        .await
        .ok()
        .map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn posts_from_elsewhere_are_refused() {
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert_eq!(post_origin_problem(&ok), None);
        let other = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ]);
        assert!(
            post_origin_problem(&other)
                .unwrap()
                .contains("evil.example")
        );
        let cross = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(post_origin_problem(&cross).unwrap().contains("cross-site"));
        assert!(post_origin_problem(&headers(&[("host", "x")])).is_some());
    }

    #[test]
    fn failed_logins_are_limited_per_user() {
        let limiter = LoginLimiter::default();
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..MAX_FAILURES_PER_USER {
            assert!(limiter.allowed("alice", ip));
            limiter.failed("alice", ip);
        }
        assert!(!limiter.allowed("alice", ip));
        assert!(limiter.allowed("bob", ip));
    }
}
