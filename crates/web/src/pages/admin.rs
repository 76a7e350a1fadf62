//! The administrators' pages: `/admin/users` (local users, their roles)
//! and `/admin/tokens` (tokens: created, listed with their last use,
//! revoked (kept, listed as revoked with when and by whom), revoked ones
//! deleted; a secret is shown once, in the answer to the form that
//! created it). They need the
//! admin role (a 403 page for everyone else, as the API answers), call
//! the same store and `patchwatch_auth` functions as the CLI's `users`
//! and `tokens` commands, and log every change with its actor.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use patchwatch_auth::{Principal, Role, TokenAccess, TokenScope, password};
use patchwatch_server::AppState;
use patchwatch_store::users::ORIGIN_LOCAL;
use patchwatch_store::{
    NewGrant, NewToken, NewUser, Revocation, StoreError, TokenRecord, UserGrant, format_millis,
};
use serde::Deserialize;

use crate::page::{
    AdminForm, Administrator, Chrome, CsrfOnly, CsrfProtected, FormRight, WebError, render,
};
use crate::pages::hosts::encode;
use crate::session::WebUser;

/// An optional form field: blank is absent.
fn filled(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

fn auth_error(e: patchwatch_auth::AuthError) -> WebError {
    WebError::bad_request(e.to_string())
}

/// `GET /admin`
pub async fn home() -> Redirect {
    Redirect::to("/admin/users")
}

pub struct GrantRow {
    pub role: String,
    pub site: String,
    pub group: String,
    pub describe: String,
}

impl From<&UserGrant> for GrantRow {
    fn from(g: &UserGrant) -> GrantRow {
        GrantRow {
            role: g.role.to_string(),
            site: g.site.clone().unwrap_or_default(),
            group: g.group.clone().unwrap_or_default(),
            describe: match (&g.site, &g.group) {
                (Some(s), _) => format!("{} on site {s}", g.role),
                (None, Some(grp)) => format!("{} on group {grp}", g.role),
                (None, None) => format!("{} everywhere", g.role),
            },
        }
    }
}

pub struct UserRow {
    pub name: String,
    /// The name as a URL path segment.
    pub segment: String,
    pub origin: String,
    pub has_password: bool,
    pub grants: Vec<GrantRow>,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
}

/// `GET /admin/users`
pub async fn users(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    Administrator::check(&user.caller)?;
    let users = state
        .db
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            grants: u.grants.iter().map(GrantRow::from).collect(),
            created: format_millis(u.created_at),
            segment: encode(&u.name),
            name: u.name,
            origin: u.origin,
            has_password: u.has_password,
        })
        .collect();
    Ok(render(&UsersPage {
        chrome: user.chrome("admin"),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    csrf: String,
    name: String,
    password: String,
}

impl CsrfProtected for NewUserForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/users`: a local user with a password and no role.
pub async fn add_user(
    State(state): State<AppState>,
    AdminForm { user, form: f, .. }: AdminForm<NewUserForm>,
) -> Result<Response, WebError> {
    let name = f.name.trim().to_owned();
    let password_hash = password::hash(&f.password).map_err(auth_error)?;
    state
        .db
        .add_user(&NewUser {
            name: name.clone(),
            password_hash: Some(password_hash),
            origin: ORIGIN_LOCAL.into(),
        })
        .await?;
    tracing::info!(actor = %user.name, user = %name, "web: user added");
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{name}/remove`: the user, their roles and tokens.
pub async fn remove_user(
    State(state): State<AppState>,
    AdminForm {
        user, path: name, ..
    }: AdminForm<CsrfOnly, String>,
) -> Result<Response, WebError> {
    if name == user.name {
        return Err(WebError::bad_request(
            "you can't remove yourself; another administrator can",
        ));
    }
    if !state.db.remove_user(&name).await? {
        return Err(StoreError::NotFound(format!("user {name:?}")).into());
    }
    tracing::info!(actor = %user.name, user = %name, "web: user removed");
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Debug, Deserialize)]
pub struct GrantForm {
    csrf: String,
    /// Whom to grant to (the revoke form names the user in its path).
    #[serde(default)]
    user: String,
    role: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    group: String,
}

impl CsrfProtected for GrantForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl GrantForm {
    /// Checked as `patchwatch users grant` checks it.
    fn grant(&self) -> Result<NewGrant, WebError> {
        let grant = NewGrant {
            role: Role::parse(&self.role).map_err(auth_error)?,
            site: filled(&self.site),
            group: filled(&self.group),
        };
        grant.validate()?;
        Ok(grant)
    }
}

/// `POST /admin/grant`
pub async fn grant(
    State(state): State<AppState>,
    AdminForm { user, form: f, .. }: AdminForm<GrantForm>,
) -> Result<Response, WebError> {
    let name = f.user.trim().to_owned();
    let granted = state.db.grant(&name, &f.grant()?).await?;
    let described = GrantRow::from(&granted).describe;
    tracing::info!(actor = %user.name, user = %name, grant = %described, "web: role granted");
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{name}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    AdminForm {
        user,
        path: name,
        form: f,
        ..
    }: AdminForm<GrantForm, String>,
) -> Result<Response, WebError> {
    let grant = f.grant()?;
    if !state.db.revoke(&name, &grant).await? {
        return Err(StoreError::NotFound(format!("that role of user {name:?}")).into());
    }
    tracing::info!(actor = %user.name, user = %name, role = %grant.role,
        site = ?grant.site, group = ?grant.group, "web: role revoked");
    Ok(Redirect::to("/admin/users").into_response())
}

pub struct TokenRow {
    pub name: String,
    /// The name as a URL path segment.
    pub segment: String,
    pub kind: String,
    pub access: String,
    pub scope: String,
    pub created: String,
    /// To the minute; `never` when it has not authenticated anything yet.
    pub last_used: String,
    /// `active`, or `revoked at TIME` with ` by USER` when a user did it.
    pub state: String,
    pub revoked: bool,
}

impl From<&TokenRecord> for TokenRow {
    fn from(t: &TokenRecord) -> TokenRow {
        TokenRow {
            name: t.name.clone(),
            segment: encode(&t.name),
            kind: t.kind.to_string(),
            access: t.access.map(|a| a.to_string()).unwrap_or_default(),
            scope: match (&t.user, &t.group, &t.site) {
                (Some(u), _, _) => format!("user {u}"),
                (None, Some(g), _) => format!("group {g}"),
                (None, None, Some(s)) => format!("site {s}"),
                (None, None, None) => "every site".to_owned(),
            },
            created: format_millis(t.created_at),
            last_used: t
                .last_used_at
                .map(format_millis)
                .unwrap_or_else(|| "never".into()),
            state: match (t.revoked_at, &t.revoked_by) {
                (None, _) => "active".into(),
                (Some(at), Some(by)) => format!("revoked at {} by {by}", format_millis(at)),
                (Some(at), None) => format!("revoked at {}", format_millis(at)),
            },
            revoked: t.is_revoked(),
        }
    }
}

/// A token just created: the only time its secret is shown.
pub struct CreatedToken {
    pub name: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenRow>,
    created: Option<CreatedToken>,
}

async fn tokens_page(
    state: &AppState,
    user: &WebUser,
    created: Option<CreatedToken>,
) -> Result<Response, WebError> {
    let tokens = state.db.tokens().await?;
    Ok(render(&TokensPage {
        chrome: user.chrome("admin"),
        tokens: tokens.iter().map(TokenRow::from).collect(),
        created,
    }))
}

/// `GET /admin/tokens`: never a secret (only hashes are stored).
pub async fn tokens(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    Administrator::check(&user.caller)?;
    tokens_page(&state, &user, None).await
}

#[derive(Debug, Deserialize)]
pub struct NewTokenForm {
    csrf: String,
    name: String,
    access: String,
    /// `everywhere`, `site`, `group` or `user`.
    scope: String,
    /// The site, group or user the scope names.
    #[serde(default)]
    target: String,
}

impl CsrfProtected for NewTokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The scope a token form names, resolved as `patchwatch tokens add` does.
async fn token_scope(state: &AppState, f: &NewTokenForm) -> Result<TokenScope, WebError> {
    let target = f.target.trim();
    let needs_target = |what: &str| {
        WebError::bad_request(format!(
            "a token scoped to a {what} needs the {what}'s name"
        ))
    };
    let unknown = |what: &str| WebError::from(StoreError::NotFound(format!("{what} {target:?}")));
    Ok(match f.scope.trim() {
        "everywhere" => TokenScope::Everywhere,
        "site" if target.is_empty() => return Err(needs_target("site")),
        "site" => TokenScope::Site(
            state
                .db
                .site(target)
                .await?
                .ok_or_else(|| unknown("site"))?
                .id,
        ),
        "group" if target.is_empty() => return Err(needs_target("group")),
        "group" => TokenScope::Group(
            state
                .db
                .site_groups()
                .await?
                .iter()
                .find(|g| g.name == target)
                .ok_or_else(|| unknown("site group"))?
                .id,
        ),
        "user" if target.is_empty() => return Err(needs_target("user")),
        "user" => TokenScope::User(
            state
                .db
                .user(target)
                .await?
                .ok_or_else(|| unknown("user"))?
                .id,
        ),
        other => {
            return Err(WebError::bad_request(format!(
                "scope must be everywhere, site, group or user, not {other:?}"
            )));
        }
    })
}

/// `POST /admin/tokens`: answers with the tokens page showing the new
/// secret once (not a redirect: the secret is in no URL and no later page).
pub async fn create_token(
    State(state): State<AppState>,
    AdminForm { user, form: f, .. }: AdminForm<NewTokenForm>,
) -> Result<Response, WebError> {
    let name = f.name.trim().to_owned();
    if name.is_empty() {
        return Err(WebError::bad_request("a token needs a name"));
    }
    let access = TokenAccess::parse(&f.access).map_err(auth_error)?;
    let scope = token_scope(&state, &f).await?;
    let token = NewToken::api(&name, access, scope);
    let record = state.db.add_token(&token).await?;
    let row = TokenRow::from(&record);
    tracing::info!(actor = %user.name, token = %name, access = %row.access,
        scope = %row.scope, "web: API token created");
    tokens_page(
        &state,
        &user,
        Some(CreatedToken {
            name,
            secret: token.secret,
        }),
    )
    .await
}

/// `POST /admin/tokens/{name}/revoke`: the token stays listed, revoked by
/// this user; it can't be made active again.
pub async fn revoke_token(
    State(state): State<AppState>,
    AdminForm {
        user, path: name, ..
    }: AdminForm<CsrfOnly, String>,
) -> Result<Response, WebError> {
    let by = match &user.caller.0.principal {
        Principal::User { id, .. } => Some(*id),
        _ => None,
    };
    match state.db.revoke_token(&name, by).await? {
        Revocation::Revoked => {
            state.tokens.forget(&name);
            tracing::info!(actor = %user.name, token = %name, "web: token revoked");
        }
        // Already done (a second tab, a double click): the list says so.
        Revocation::AlreadyRevoked => {}
        Revocation::NotFound => {
            return Err(StoreError::NotFound(format!("token {name:?}")).into());
        }
    }
    Ok(Redirect::to("/admin/tokens").into_response())
}

/// `POST /admin/tokens/{name}/delete`: only a revoked token, so no token
/// stops working without its revocation having been listed.
pub async fn delete_token(
    State(state): State<AppState>,
    AdminForm {
        user, path: name, ..
    }: AdminForm<CsrfOnly, String>,
) -> Result<Response, WebError> {
    let token = state
        .db
        .tokens()
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| StoreError::NotFound(format!("token {name:?}")))?;
    if !token.is_revoked() {
        return Err(WebError::bad_request(format!(
            "token {name:?} is active: revoke it before deleting it"
        )));
    }
    if !state.db.delete_token(&name).await? {
        return Err(StoreError::NotFound(format!("token {name:?}")).into());
    }
    tracing::info!(actor = %user.name, token = %name, "web: revoked token deleted");
    Ok(Redirect::to("/admin/tokens").into_response())
}
