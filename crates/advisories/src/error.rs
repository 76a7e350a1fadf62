//! Parse errors. Every variant says where: a file name, archive entry, line
//! number or package/CVE key, so an operator can find the offending input.

use std::io;

/// An error while reading a feed. Parsers that iterate report recoverable
/// errors (one bad record) as an `Err` item and carry on with the next
/// record; errors that make the rest of the input unreadable (I/O, broken
/// JSON structure) end the iteration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{at}: {source}")]
    Io {
        at: String,
        #[source]
        source: io::Error,
    },
    #[error("{at}: invalid JSON: {source}")]
    Json {
        at: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{at}: invalid YAML: {message}")]
    Yaml { at: String, message: String },
    #[error("{at}: zip archive: {source}")]
    Zip {
        at: String,
        #[source]
        source: zip::result::ZipError,
    },
    /// Well-formed syntax but not the expected layout (a DSA header without
    /// an advisory id, an entry larger than the size limit...).
    #[error("{at}: {message}")]
    Format { at: String, message: String },
}

impl Error {
    pub(crate) fn io(at: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            at: at.into(),
            source,
        }
    }

    pub(crate) fn json(at: impl Into<String>, source: serde_json::Error) -> Error {
        Error::Json {
            at: at.into(),
            source,
        }
    }

    pub(crate) fn format(at: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Format {
            at: at.into(),
            message: message.into(),
        }
    }

    /// Where the error happened, as given in the message.
    pub fn location(&self) -> &str {
        match self {
            Error::Io { at, .. }
            | Error::Json { at, .. }
            | Error::Yaml { at, .. }
            | Error::Zip { at, .. }
            | Error::Format { at, .. } => at,
        }
    }
}
