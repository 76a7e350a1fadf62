//! Patchwatch's vulnerability database.
//!
//! Feed documents are stored whole, as generations (`patchwatch-store`);
//! [`feed`] parses them into one [`patchwatch_assess::AdvisoryIndex`], and
//! [`findings`] asks it about one host or the whole fleet, and [`fleet`]
//! keeps the fleet's assessment up to date incrementally. The CLI and the
//! server both answer from here, so they always agree. [`sync`] downloads
//! feeds (conditional HTTP requests, a size limit, atomic switch to the new
//! generation) and [`catalogue`] lists the official vendor feed URLs;
//! [`triage`] applies CVE tags and exceptions to findings. OVAL feeds stay
//! documents and are evaluated per package set ([`oval_feeds`]).
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod feed;
pub mod findings;
pub mod fleet;
pub mod fleet_hosts;
pub mod oval_feeds;
pub mod sync;
pub mod triage;

pub use feed::{
    Changes, FeedError, LoadedIndex, load_index, load_index_since, parse_cve_id, parse_document,
    sha256_hex,
};
pub use findings::{HostFinding, finding_json, fleet_findings, host_findings};
pub use fleet::{Arrival, FleetAssessment, OpenCve, OpenCves, UpdateStats};
pub use fleet_hosts::{FleetHosts, TagWanted};
pub use oval_feeds::{OvalFeed, covered, oval_feeds_for, oval_set_findings};
pub use sync::{
    Download, Progress, SyncError, SyncOptions, SyncOutcome, Syncer, Validators,
    finished_sync_state,
};
pub use triage::{
    Classified, CveSummary, HostScope, Triage, classify, host_groups, host_scopes, summarise,
    triaged_json,
};
