use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The database can't be reached or is overloaded: the caller should
    /// retry later (the server answers 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("invalid: {0}")]
    Invalid(String),
    /// The stored data doesn't decode: a bug or a damaged database.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("database URL: {0}")]
    Url(String),
    #[error("migration {version} failed: {message}")]
    Migration { version: i64, message: String },
}
