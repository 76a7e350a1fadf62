#![forbid(unsafe_code)]
//! Streaming parsers for Linux vendor vulnerability feeds, all producing one
//! normalised model ([`Advisory`] with [`Affected`] rows and a [`FixState`]
//! per distribution release and package) for the matcher.
//!
//! | feed | module | entry point |
//! |---|---|---|
//! | OSV records, zip/tar(.xz) databases (AlmaLinux, Rocky, Debian, Ubuntu, Alpine, SUSE) | [`osv`] | [`osv::read_path`], [`osv::TarFeed`], [`osv::ZipFeed`], [`osv::parse_record`] |
//! | Debian tracker JSON | [`debian::tracker`] | [`debian::tracker::parse`] |
//! | Debian DSA/DLA/DTSA lists | [`debian::list`] | [`debian::list::AdvisoryList`] |
//! | Debian `data/CVE/list` | [`debian::cve_list`] | [`debian::cve_list::CveList`] |
//! | Alpine secdb JSON and YAML | [`alpine`] | [`alpine::parse_json`], [`alpine::parse_yaml`] |
//! | Ubuntu CVE Tracker | [`ubuntu`] | [`ubuntu::parse_file`], [`ubuntu::TrackerArchive`] |
//! | any download | [`compression`] | [`sniff`], [`decompressed`] |
//!
//! Every parser keeps memory bounded by the largest single record, whatever
//! the input size: archives are read entry by entry, large JSON documents
//! with serde visitors, text formats line by line, YAML with an event parser.
//! Errors ([`Error`]) name the file and line, archive entry or key; no input
//! makes a parser panic. Iterating parsers report a bad record as an `Err`
//! item and continue with the next one.
//!
//! Each module's documentation lists its mapping decisions (vendor status
//! words to [`FixState`], severities, release names).

pub mod advisory;
pub mod alpine;
mod archive;
pub mod compression;
mod cvss;
pub mod debian;
pub mod error;
pub mod ids;
pub mod osv;
pub use patchwatch_reports::release;
pub mod ubuntu;

pub use advisory::{Advisory, Affected, FixState, NameKind, Severity, SeverityLevel, Source};
pub use compression::{Compression, decompressed, sniff};
pub use error::Error;
