//! Errors raised while reading an OVAL document.

use thiserror::Error;

/// A document could not be read. Every variant names where it happened: the
/// byte offset in the (decompressed) XML stream and, when known, the element
/// and OVAL id being read, so a broken feed can be located and reported.
#[derive(Debug, Error)]
pub enum ParseError {
    /// The XML itself is malformed (or the reader failed).
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    /// An element that OVAL requires to carry an attribute does not.
    #[error("<{element}> at byte {position} has no `{attribute}` attribute")]
    MissingAttribute {
        element: String,
        attribute: &'static str,
        position: u64,
    },
    /// An attribute value outside the OVAL enumeration it belongs to.
    #[error("<{element}> {id} at byte {position}: invalid {attribute}=\"{value}\"")]
    InvalidAttribute {
        element: String,
        id: String,
        attribute: &'static str,
        value: String,
        position: u64,
    },
    /// The same id defined twice: later lookups would be ambiguous.
    #[error("{id} defined twice (second time at byte {position})")]
    DuplicateId { id: String, position: u64 },
    /// The file could not be opened or decompressed.
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The root element is not `oval_definitions`.
    #[error("not an OVAL definitions document: root element <{element}>")]
    NotOval { element: String },
    /// The document nests deeper than any real OVAL feed; refusing protects
    /// the stack of the evaluator, which walks criteria recursively.
    #[error("criteria nested deeper than {limit} levels at byte {position} in {id}")]
    TooDeep {
        id: String,
        limit: usize,
        position: u64,
    },
}
