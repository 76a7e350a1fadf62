//! Web UI sessions (migration 7): the id is random, stored only as its
//! SHA-256 ([`crate::token::hash`]), so a copy of the database can't be
//! used to log in. Expiry is decided by the web UI; the store keeps the
//! times and deletes what it is told.

use crate::{Millis, StoreError};

/// A session to store, made at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 (hex) of the cookie's secret.
    pub id_hash: String,
    pub user_id: i64,
    /// The token every form of this session carries.
    pub csrf_token: String,
}

/// A stored session and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: i64,
    pub user_name: String,
    pub csrf_token: String,
    pub created_at: Millis,
    pub last_seen: Millis,
}

/// The session query both backends run; each adds its `WHERE`.
pub const SESSION_COLUMNS: &str = "SELECT s.id_hash, s.user_id, u.name, s.csrf_token, s.created_at, s.last_seen \
     FROM web_sessions s JOIN users u ON u.id = s.user_id";

/// A session from [`SESSION_COLUMNS`].
pub fn session(r: &dyn crate::rows::Columns) -> Result<Session, StoreError> {
    Ok(Session {
        id_hash: r.text(0)?,
        user_id: r.int(1)?,
        user_name: r.text(2)?,
        csrf_token: r.text(3)?,
        created_at: r.int(4)?,
        last_seen: r.int(5)?,
    })
}

/// A hash is 64 lowercase hex digits; anything else is refused before a
/// query.
pub fn validate(new: &NewSession) -> Result<(), StoreError> {
    let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex64(&new.id_hash) {
        return Err(StoreError::Invalid(
            "a session id hash is 64 hex digits (SHA-256)".into(),
        ));
    }
    if new.csrf_token.len() < 32 || !new.csrf_token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(StoreError::Invalid(
            "a CSRF token is at least 32 letters and digits".into(),
        ));
    }
    Ok(())
}
