use thiserror::Error;

/// Why a report was refused. The message is sent back to the client as is,
/// so it names the field and, where there is one, the line.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("{0}")]
    Malformed(String),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("unsupported format_version {0}; this server reads version 1")]
    UnsupportedVersion(u64),
}

impl ReportError {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ReportError {
        ReportError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
