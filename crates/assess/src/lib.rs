#![forbid(unsafe_code)]
//! Patchwatch's matching engine: for a package set (a host's installed
//! packages), its OS and its running kernel, which vulnerabilities it is
//! exposed to, with the rule that says so.
//!
//! ```text
//! let index = AdvisoryIndex::build(advisories).with_os_groups(groups);
//! let findings = assess(&index, &PackageSet { os: &os, kernel: "6.1.0-18-amd64", packages: &pkgs });
//! for f in &findings { println!("{} {} {}: {}", f.cve, f.package, f.state, f.explanation()); }
//! ```
//!
//! * [`AdvisoryIndex`] ([`index`]): every advisory statement from
//!   `patchwatch_advisories`, built once, keyed by (data scope, package
//!   name); withdrawn advisories are dropped.
//! * [`OsGroups`] ([`os_group`]): which data scopes an OS reads: automatic
//!   (`debian 12.5` -> `debian 12`, `almalinux 9.3` -> `almalinux 9`,
//!   `alpine 3.19.1` -> `alpine 3.19`), overridden by admin-defined groups.
//! * [`assess()`] ([`mod@assess`]): the matching rules (names, architectures,
//!   module streams, version ranges, feed ranking) and one [`Finding`] per
//!   CVE and installed package.
//! * [`kernel`]: only the running kernel is exposed; other installed kernels
//!   are reported as installed, not running.
//! * [`assess_many`] ([`batch`]): many hosts, deduplicated into distinct
//!   (set, data scopes, kernel) keys, assessed in parallel.
//! * [`AdvisoryIndex::names_touched`], [`lookup_names`] and [`SetIndex`]:
//!   after a feed update, only the packages (and sets) the changed
//!   advisories name; [`assess_refs_in_scopes`] matches just those.
//! * [`OvalHost`] and [`oval_findings`] ([`oval_host`]): OVAL documents
//!   evaluated against a package set, as findings.
//!
//! Version ordering is always the package manager's own
//! ([`patchwatch_versions::compare`]), on borrowed strings, without
//! allocating.

pub mod assess;
pub mod batch;
pub mod error;
pub mod finding;
pub mod index;
pub mod kernel;
pub mod os_group;
pub mod oval_host;
pub mod set_index;

pub use assess::{PackageSet, assess, assess_in_scopes, assess_refs_in_scopes};
pub use batch::{
    AssessKey, BatchStats, Plan, SetInput, SetResult, assess_many, assess_many_with, plan,
    run_plan_with,
};
pub use error::AssessError;
pub use finding::{
    Feed, Finding, FindingState, InstalledRef, KernelStatus, NameUsed, Rule, Statement,
};
pub use index::{AdvisoryIndex, IndexBuilder, IndexStats, ScopeId, TouchedNames};
pub use os_group::{OsGroup, OsGroupConfig, OsGroups, OsGroupsConfig, OsScope};
pub use oval_host::{OvalHost, OvalOptions, orderings, oval_findings, oval_findings_labelled};
pub use set_index::{SetIndex, lookup_names};
