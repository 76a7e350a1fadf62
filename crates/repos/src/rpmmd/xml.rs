//! The few quick-xml helpers the rpm-md readers share: attribute lookup,
//! entity references, and turning reader errors into [`RepoError`]s that
//! say where the document went wrong.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart};

use crate::RepoError;

/// Attribute `name` (local part) of an element, unescaped.
pub(crate) fn attr(
    e: &BytesStart<'_>,
    name: &[u8],
    file: &str,
) -> Result<Option<String>, RepoError> {
    for a in e.attributes() {
        let a = a.map_err(|err| RepoError::malformed(file, format!("bad attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| RepoError::malformed(file, format!("bad attribute value: {err}")))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// The text an entity or character reference stands for.
pub(crate) fn resolve_ref(r: &BytesRef<'_>, file: &str) -> Result<String, RepoError> {
    let bad = |m: String| RepoError::malformed(file, m);
    if let Some(c) = r.resolve_char_ref().map_err(|e| bad(e.to_string()))? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(|e| bad(e.to_string()))?;
    quick_xml::escape::resolve_xml_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| bad(format!("unknown entity &{name};")))
}

/// A reader error, with the byte offset; a decompressor's error (truncated
/// or corrupt download) is reported as such rather than as bad XML.
pub(crate) fn read_error<R: BufRead>(
    reader: &Reader<R>,
    err: quick_xml::Error,
    file: &str,
) -> RepoError {
    match err {
        quick_xml::Error::Io(io) => RepoError::malformed(
            file,
            format!("truncated or corrupt (decompression failed): {io}"),
        ),
        other => RepoError::malformed(
            file,
            format!("invalid XML at byte {}: {other}", reader.error_position()),
        ),
    }
}

/// [`read_error`] for a reader whose byte offsets are not meaningful (the
/// primary reader jumps over raw bytes): the place is named instead.
pub(crate) fn read_error_in(err: quick_xml::Error, file: &str, place: &str) -> RepoError {
    match err {
        quick_xml::Error::Io(io) => RepoError::malformed(
            file,
            format!("truncated or corrupt (decompression failed) in {place}: {io}"),
        ),
        other => RepoError::malformed(file, format!("invalid XML in {place}: {other}")),
    }
}

/// A quick-xml reader that drops the whitespace between elements.
pub(crate) fn reader<R: BufRead>(input: R) -> Reader<R> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    reader
}
