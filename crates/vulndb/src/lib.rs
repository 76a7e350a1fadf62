//! Patchwatch's vulnerability database.
//!
//! Feed documents are stored whole, as generations (`patchwatch-store`);
//! [`feed`] parses them into one [`patchwatch_assess::AdvisoryIndex`], and
//! [`findings`] asks it about one host or the whole fleet. OVAL feeds stay
//! documents and are evaluated per package set ([`oval_feeds`]). The CLI and the
//! server both answer from here, so they always agree.
#![forbid(unsafe_code)]

pub mod feed;
pub mod findings;
pub mod oval_feeds;

pub use feed::{FeedError, LoadedIndex, load_index, parse_cve_id, parse_document, sha256_hex};
pub use findings::{HostFinding, finding_json, fleet_findings, host_findings};
pub use oval_feeds::{OvalFeed, covered, oval_feeds_for, oval_set_findings};
