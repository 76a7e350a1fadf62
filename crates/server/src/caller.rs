//! Who is calling the read and triage API, and the checks every handler
//! makes through `patchwatch_auth` (never on a credential directly).
//!
//! A caller is identified by, in this order: an API token
//! (`Authorization: Bearer pwa_...`), the user header of a trusted proxy
//! (`[server.auth] remote_user_header`), or a verified client
//! certificate's subject (`client_cert_users`). All three end as an
//! [`Identity`]; a web session will too.
//!
//! Out-of-scope ids answer exactly as missing ones (same status, same
//! message, the same lookup done first), so ids can't be probed.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use patchwatch_auth::{Access, Action, Identity, Principal};
use patchwatch_store::users::{ORIGIN_SSO, directory};
use patchwatch_store::{HostDetail, HostFilter, NewUser, StoreError, TokenKind, User};

use crate::auth;
use crate::error::ApiError;
use crate::policy::ClientCert;
use crate::state::AppState;

/// The authenticated caller of a read or triage endpoint.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        // Through the extractor, which also knows axum's test double.
        let peer = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|c| c.0);
        let cert = parts.extensions.get::<ClientCert>().cloned();
        identify(state, &parts.headers, peer, cert.as_ref())
            .await
            .map(Caller)
    }
}

async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    cert: Option<&ClientCert>,
) -> Result<Identity, ApiError> {
    if headers.contains_key(AUTHORIZATION) {
        return from_token(state, headers).await;
    }
    single_sign_on(state, headers, peer, cert)
        .await?
        .ok_or_else(auth::missing_credentials)
}

/// The user a trusted proxy's header or a client certificate names, when
/// `[server.auth]` accepts them; `None` when the request carries neither.
/// The API and the web UI (which logs such users in without a form) both
/// ask this.
pub async fn single_sign_on(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    cert: Option<&ClientCert>,
) -> Result<Option<Identity>, ApiError> {
    let config = &state.config.auth;
    if let Some(header) = &config.remote_user_header
        && let Some(value) = headers.get(header.as_str())
    {
        let trusted = peer.is_some_and(|p| state.policy.is_trusted_proxy(p.ip()));
        if !trusted {
            return Err(ApiError::unauthorized(format!(
                "the {header} header is only accepted from a trusted proxy \
                 ([server.sources] trusted_proxies)"
            )));
        }
        let name = value
            .to_str()
            .map_err(|_| ApiError::unauthorized(format!("the {header} header is not text")))?
            .trim();
        return from_user(state, name).await.map(Some);
    }
    if config.client_cert_users
        && let Some(cert) = cert
    {
        return from_user(state, &cert.subject).await.map(Some);
    }
    Ok(None)
}

async fn from_token(state: &AppState, headers: &HeaderMap) -> Result<Identity, ApiError> {
    let token = auth::require(headers, &state.tokens, &state.db, TokenKind::Api).await?;
    let (access, scope) = token
        .api_scope()
        .ok_or_else(|| ApiError::forbidden(format!("token {:?} has no API access", token.name)))?;
    let user_grants = match &token.user {
        Some(name) => load_user(state, name)
            .await?
            .map(|u| u.grants())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let grants = scope.grants(access, &user_grants);
    Ok(Identity {
        principal: Principal::Token {
            id: token.id,
            name: token.name,
            user: token.user,
        },
        access: resolve(state, &grants).await?,
    })
}

async fn from_user(state: &AppState, name: &str) -> Result<Identity, ApiError> {
    let user = match load_user(state, name).await? {
        Some(u) => u,
        None if state.config.auth.auto_create_users => {
            let created = state
                .db
                .add_user(&NewUser {
                    name: name.to_owned(),
                    password_hash: None,
                    origin: ORIGIN_SSO.to_owned(),
                })
                .await;
            match created {
                Ok(u) => {
                    tracing::info!(
                        user = name,
                        "created SSO user on first login, with no rights"
                    );
                    u
                }
                // Two first requests at once: the other one created it.
                Err(StoreError::AlreadyExists(_)) => load_user(state, name)
                    .await?
                    .ok_or_else(|| ApiError::unauthorized(format!("unknown user {name:?}")))?,
                Err(StoreError::Invalid(why)) => return Err(ApiError::unauthorized(why)),
                Err(e) => return Err(e.into()),
            }
        }
        None => return Err(ApiError::unauthorized(format!("unknown user {name:?}"))),
    };
    user_identity(state, user).await
}

/// A known user's identity, with their grants resolved through the site
/// groups: what every SSO request and every web session ends as.
pub async fn user_identity(state: &AppState, user: User) -> Result<Identity, ApiError> {
    Ok(Identity {
        access: resolve(state, &user.grants()).await?,
        principal: Principal::User {
            id: user.id,
            name: user.name,
        },
    })
}

async fn load_user(state: &AppState, name: &str) -> Result<Option<User>, ApiError> {
    Ok(state.db.user(name).await?)
}

async fn resolve(state: &AppState, grants: &[patchwatch_auth::Grant]) -> Result<Access, ApiError> {
    // Groups matter only for grants on a group.
    let groups = if grants
        .iter()
        .any(|g| matches!(g.target, patchwatch_auth::Target::Group(_)))
    {
        state.db.site_groups().await?
    } else {
        Vec::new()
    };
    Ok(Access::from_grants(grants, &directory(&groups)))
}

impl Caller {
    pub fn access(&self) -> &Access {
        &self.0.access
    }

    /// Who is recorded as the author of what this caller changes.
    pub fn author(&self) -> String {
        self.0.author()
    }

    fn who(&self) -> String {
        match &self.0.principal {
            Principal::User { name, .. } => format!("user {name:?}"),
            Principal::Token { name, .. } => format!("token {name:?}"),
            Principal::Local => "the local command line".to_owned(),
            Principal::Anonymous => "an anonymous caller".to_owned(),
        }
    }

    /// A caller that may read nothing at all is told so, rather than shown
    /// an empty fleet.
    pub fn reader(&self) -> Result<&Self, ApiError> {
        if self.access().reads_anything() {
            Ok(self)
        } else {
            Err(ApiError::forbidden(format!(
                "{} has no role on any site; an administrator can grant one \
                 (patchwatch users grant)",
                self.who()
            )))
        }
    }

    /// A host filter restricted to what the caller may read: the scope is
    /// applied in the query.
    pub fn host_filter(&self, filter: HostFilter) -> HostFilter {
        HostFilter {
            site_ids: self.access().scope(Action::Read).site_ids(),
            ..filter
        }
    }

    /// One host, if the caller may read it; an out-of-scope host is
    /// "not found", word for word as a missing one.
    pub async fn host(&self, state: &AppState, id: i64) -> Result<HostDetail, ApiError> {
        self.reader()?;
        state
            .db
            .host(id)
            .await?
            .filter(|h| self.access().allows(Action::Read, h.summary.site_id))
            .ok_or_else(|| ApiError::not_found(format!("host {id} not found")))
    }

    /// Fleet-wide actions (tags, OS-group exceptions, the assessment's
    /// totals) need `action` on every site.
    pub fn require_everywhere(&self, action: Action, what: &str) -> Result<(), ApiError> {
        if self.access().allows_everywhere(action) {
            return Ok(());
        }
        let needs = match action {
            Action::Read => "read access to every site (auditor or admin)",
            Action::Triage => "triage rights on every site (admin, or a triage token everywhere)",
            Action::Administer => "the admin role",
        };
        Err(ApiError::forbidden(format!(
            "{what} needs {needs}; {} does not have it",
            self.who()
        )))
    }

    /// The id of a site the caller may triage. A site it may not read
    /// answers like an unknown one (`site "X" not found`).
    pub async fn triage_site(&self, state: &AppState, name: &str) -> Result<i64, ApiError> {
        let unknown = || ApiError::from(StoreError::NotFound(format!("site {name:?}")));
        let site = state.db.site(name).await?.ok_or_else(unknown)?;
        if !self.access().allows(Action::Read, site.id) {
            return Err(unknown());
        }
        if !self.access().allows(Action::Triage, site.id) {
            return Err(ApiError::forbidden(format!(
                "{} may read site {name:?} but not triage it",
                self.who()
            )));
        }
        Ok(site.id)
    }

    /// Whether the caller may read site `name` (unknown sites: no).
    pub async fn reads_site(&self, state: &AppState, name: &str) -> Result<bool, ApiError> {
        Ok(self.readable_site(state, name).await?.is_some())
    }

    /// The id of site `name` if there is one and the caller may read it.
    pub async fn readable_site(
        &self,
        state: &AppState,
        name: &str,
    ) -> Result<Option<i64>, ApiError> {
        Ok(state
            .db
            .site(name)
            .await?
            .map(|s| s.id)
            .filter(|&id| self.access().allows(Action::Read, id)))
    }
}
