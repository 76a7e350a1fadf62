//! Local users' passwords: argon2id hashes in PHC string form (the
//! algorithm, its parameters and the salt travel with the hash, so
//! stronger parameters later still verify old hashes).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::AuthError;

/// Shortest password accepted: long passphrases beat composition rules.
pub const MIN_LENGTH: usize = 12;
/// Longest: argon2 hashes anything, but a megabyte "password" is a
/// denial of service, not a secret.
pub const MAX_LENGTH: usize = 1024;

/// Hashes a new password after checking its length.
pub fn hash(password: &str) -> Result<String, AuthError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(AuthError::WeakPassword(format!(
            "the password has {chars} characters; at least {MIN_LENGTH} are needed"
        )));
    }
    if password.len() > MAX_LENGTH {
        return Err(AuthError::WeakPassword(format!(
            "the password is longer than {MAX_LENGTH} bytes"
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches a stored hash; a malformed hash is an error,
/// not a mismatch, so corruption is noticed.
pub fn verify(password: &str, stored: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(stored).map_err(|e| AuthError::MalformedHash(e.to_string()))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(AuthError::Hash(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse battery", &a).unwrap());
        assert!(!verify("correct horse battery!", &a).unwrap());
        assert!(verify("x", "not a hash").is_err());
    }

    #[test]
    fn short_passwords_are_refused_with_the_reason() {
        let e = hash("short").unwrap_err().to_string();
        assert!(e.contains("5 characters") && e.contains("12"), "{e}");
    }
}
