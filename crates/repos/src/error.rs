//! Why a repository index could not be read. Every variant names the file
//! (or member) and what is wrong with it, so `repos import` and `repos sync`
//! can tell an operator exactly which download to look at.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RepoError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Malformed { file: String, message: String },
    #[error("{file}: checksum mismatch: expected {algorithm} {expected}, got {actual}")]
    Checksum {
        file: String,
        algorithm: String,
        expected: String,
        actual: String,
    },
    #[error("{file}: listed by {listed_by} but missing")]
    Missing { file: String, listed_by: String },
    /// A compressed index that does not decompress: cut short by an
    /// interrupted download, or damaged.
    #[error("{file}: corrupt or truncated compressed data: {source}")]
    Corrupt {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl RepoError {
    pub fn malformed(file: impl Into<String>, message: impl Into<String>) -> RepoError {
        RepoError::Malformed {
            file: file.into(),
            message: message.into(),
        }
    }
}
