//! Bearer tokens. They are random and long, so a fast hash (SHA-256) is
//! enough to store them: unlike passwords they can't be guessed from a
//! dictionary. Only the hash is kept; the token is shown once, at creation.

use std::fmt;

use patchwatch_auth::{TokenAccess, TokenScope};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Lets hosts of one site send reports.
    Ingest,
    /// Lets people and scripts read the API.
    Api,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Ingest => "ingest",
            TokenKind::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "ingest" => Some(TokenKind::Ingest),
            "api" => Some(TokenKind::Api),
            _ => None,
        }
    }

    /// The token's visible prefix says what it is for, so a token pasted in
    /// the wrong place is recognised.
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Ingest => "pwi_",
            TokenKind::Api => "pwa_",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A freshly generated token: `secret` is shown to the user once.
pub struct NewToken {
    pub name: String,
    pub kind: TokenKind,
    /// The site an ingest token reports for, or an API token's site scope.
    pub site_id: Option<i64>,
    /// What an API token may do (`None` for ingest tokens).
    pub access: Option<TokenAccess>,
    /// An API token acting for a user: the user's grants, capped by
    /// `access`.
    pub user_id: Option<i64>,
    /// An API token scoped to a site group.
    pub group_id: Option<i64>,
    pub secret: String,
    pub hash: String,
}

impl NewToken {
    pub fn generate(name: &str, kind: TokenKind, site_id: Option<i64>) -> NewToken {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{}{}", kind.prefix(), hex::encode(bytes));
        NewToken {
            name: name.to_owned(),
            kind,
            site_id,
            // An API token reads unless made otherwise: least privilege.
            access: (kind == TokenKind::Api).then_some(TokenAccess::Read),
            user_id: None,
            group_id: None,
            hash: hash(&secret),
            secret,
        }
    }

    /// An API token with `access` on `scope`.
    pub fn api(name: &str, access: TokenAccess, scope: TokenScope) -> NewToken {
        let mut token = NewToken::generate(name, TokenKind::Api, None);
        token.access = Some(access);
        match scope {
            TokenScope::Everywhere => {}
            TokenScope::User(u) => token.user_id = Some(u),
            TokenScope::Site(s) => token.site_id = Some(s),
            TokenScope::Group(g) => token.group_id = Some(g),
        }
        token
    }
}

/// A token's last use is recorded at most this often: often enough to tell
/// a live token from a forgotten one, rarely enough that a busy ingest
/// token costs one write a minute, not one a request.
pub const USE_RECORDED_EVERY_MS: Millis = 60_000;

/// What [`crate::Database::revoke_token`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Revoked now.
    Revoked,
    /// It already was: the first revocation's time and author are kept
    /// (a revoked token is never active again).
    AlreadyRevoked,
    /// No token has that name.
    NotFound,
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hashed() {
        let a = NewToken::generate("a", TokenKind::Ingest, Some(1));
        let b = NewToken::generate("b", TokenKind::Api, None);
        assert!(a.secret.starts_with("pwi_") && a.secret.len() == 52);
        assert!(b.secret.starts_with("pwa_"));
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
    }
}
