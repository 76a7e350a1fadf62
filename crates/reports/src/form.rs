//! Form posts (Pakiti 4, Patchman 1): fields by name, already decoded by the
//! server.

use crate::error::ReportError;

/// The value of a field; a repeated field keeps its last value, as PHP's
/// `$_POST` and Django's `QueryDict` give it to the servers these clients
/// were written for.
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `host` field, trimmed; an error says whether it is missing or empty.
pub(crate) fn host(fields: &[(String, String)]) -> Result<&str, ReportError> {
    match field(fields, "host").map(str::trim) {
        Some(h) if !h.is_empty() => Ok(h),
        Some(_) => Err(ReportError::invalid("host", "is empty")),
        None => Err(ReportError::invalid("host", "is missing")),
    }
}
