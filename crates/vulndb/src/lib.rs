//! Patchwatch's vulnerability database.
//!
//! Feed documents are stored whole, as generations (`patchwatch-store`);
//! [`feed`] parses them into one [`patchwatch_assess::AdvisoryIndex`], and
//! [`findings`] asks it about one host or the whole fleet. The CLI and the
//! server both answer from here, so they always agree.
#![forbid(unsafe_code)]

pub mod feed;
pub mod findings;
pub mod triage;

pub use feed::{FeedError, LoadedIndex, load_index, parse_cve_id, parse_document, sha256_hex};
pub use findings::{HostFinding, finding_json, fleet_findings, host_findings};
pub use triage::{
    Classified, CveSummary, HostScope, Triage, classify, host_groups, host_scopes, summarise,
    triaged_json,
};
