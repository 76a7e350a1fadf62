//! Mapping PostgreSQL's errors onto the store's, and deciding which failed
//! transactions are worth running again.

use deadpool_postgres::PoolError;
use patchwatch_store::StoreError;
use tokio_postgres::error::SqlState;

/// Readable text for an error: tokio-postgres prints only "db error" for
/// server errors, so the server's message and SQLSTATE are added.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Whether the database is unreachable, overloaded or shutting down: the
/// caller should retry later (the server answers 503).
fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if let Some(code) = e.code() {
        let code = code.code();
        // 08: connection exception; 53: insufficient resources;
        // 57P01-57P05: admin/crash shutdown, cannot connect now, idle
        // session timeout.
        return code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0");
    }
    if e.is_closed() {
        return true;
    }
    // Connect, I/O and timeout failures carry an io::Error or none at all;
    // tokio-postgres doesn't expose its error kinds, so its fixed texts for
    // those kinds are matched.
    let io = std::error::Error::source(e).is_some_and(|c| c.is::<std::io::Error>());
    let text = e.to_string();
    io || text.starts_with("error connecting")
        || text.starts_with("error communicating")
        || text.starts_with("timeout")
}

pub(crate) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    if is_unavailable(&e) {
        StoreError::Unavailable(describe(&e))
    } else {
        StoreError::Backend(describe(&e))
    }
}

pub(crate) fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => pg_error(e),
        PoolError::Timeout(kind) => StoreError::Unavailable(format!(
            "no database connection available ({kind:?} timeout)"
        )),
        PoolError::Closed => StoreError::Unavailable("the connection pool is closed".into()),
        PoolError::PostCreateHook(e) => StoreError::Unavailable(e.to_string()),
        PoolError::NoRuntimeSpecified => {
            StoreError::Backend("the connection pool has no runtime".into())
        }
    }
}

/// A failed write attempt, classified so the caller knows whether running
/// the whole transaction again can succeed.
#[derive(Debug)]
pub(crate) enum WriteError {
    Pg(tokio_postgres::Error),
    Pool(PoolError),
    /// Another transaction got in the way in a way no SQLSTATE reports
    /// (a row vanished between two statements): retry.
    Race(&'static str),
    Store(StoreError),
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The transaction was rolled back by a race: run it again.
    Retry,
    /// A cached id names a row another process deleted: drop the caches,
    /// then run it again.
    ClearCachesAndRetry,
    Fail,
}

impl WriteError {
    pub(crate) fn verdict(&self) -> Verdict {
        match self {
            WriteError::Race(_) => Verdict::Retry,
            WriteError::Pg(e) => match e.code() {
                // Only errors that are known to have rolled the transaction
                // back are retried: after a lost connection the commit may
                // have happened, and a retry would store the report twice.
                Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => Verdict::Retry,
                Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Verdict::Retry,
                Some(c) if *c == SqlState::UNIQUE_VIOLATION => Verdict::Retry,
                Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => Verdict::ClearCachesAndRetry,
                _ => Verdict::Fail,
            },
            WriteError::Pool(_) | WriteError::Store(_) => Verdict::Fail,
        }
    }

    pub(crate) fn into_store(self) -> StoreError {
        match self {
            WriteError::Pg(e) => pg_error(e),
            WriteError::Pool(e) => pool_error(e),
            WriteError::Race(what) => {
                StoreError::Unavailable(format!("gave up after repeated conflicts: {what}"))
            }
            WriteError::Store(e) => e,
        }
    }
}

impl From<tokio_postgres::Error> for WriteError {
    fn from(e: tokio_postgres::Error) -> WriteError {
        WriteError::Pg(e)
    }
}

impl From<PoolError> for WriteError {
    fn from(e: PoolError) -> WriteError {
        WriteError::Pool(e)
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> WriteError {
        WriteError::Store(e)
    }
}

/// A PostgreSQL row as the store's shared record builders read it.
pub(crate) struct PgColumns<'a>(pub &'a tokio_postgres::Row);

impl patchwatch_store::rows::Columns for PgColumns<'_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.0.try_get(i).map_err(pg_error)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.0.try_get(i).map_err(pg_error)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.0.try_get(i).map_err(pg_error)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.0.try_get(i).map_err(pg_error)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.0.try_get(i).map_err(pg_error)
    }
    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError> {
        self.0.try_get(i).map_err(pg_error)
    }
}
