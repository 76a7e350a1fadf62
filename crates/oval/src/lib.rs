#![forbid(unsafe_code)]
//! OVAL 5 for Patchwatch: a streaming parser of OVAL definitions documents
//! (Debian, Ubuntu, Red Hat v1 and v2) and an evaluator of their logic
//! against one host's installed packages.
//!
//! ```text
//! let doc = patchwatch_oval::Document::from_path("rhel-9.oval.xml.bz2")?;
//! let results = patchwatch_oval::evaluate(&doc, &host, &orderings);
//! for r in results.iter().filter(|r| r.verdict.is_true()) { … r.explanations … }
//! ```
//!
//! What the evaluator decides comes from the criteria trees and the tests
//! they reference, never from the human-readable `comment` strings.
//!
//! * [`Document`] holds definitions, tests, objects, states and variables,
//!   with ids interned into small integer handles.
//! * [`Host`] is what the evaluator asks about the machine: packages by name,
//!   files (os-release, the Ubuntu OCI manifest), the owner of
//!   `/etc/redhat-release`, uname facts, the CPEs of enabled repositories.
//! * Version ordering is supplied by the caller ([`Orderings`]), so this
//!   crate does not depend on a particular version-comparison crate.
//! * Results use OVAL's result values ([`Verdict`]): true, false, error,
//!   unknown, not evaluated, not applicable, combined with OVAL's operator
//!   and check tables.

pub mod cpe;
mod criteria;
mod definition;
mod document;
mod error;
mod evaluate;
mod host;
mod item;
mod ordering;
mod parse;
mod parse_items;
mod state;
mod test;
mod verdict;

pub use criteria::{Criteria, Operator};
pub use definition::{Class, Definition, Reference};
pub use document::{
    DefId, Document, Generator, ObjectId, PatternId, StateId, TestId, VarId, Variable,
};
pub use error::ParseError;
pub use evaluate::{DefinitionResult, Evaluator, Explanation, Options, evaluate};
pub use host::{Host, HostInventory, InstalledPackage, OsFacts, PackageFormat, Uname};
pub use ordering::{EvrOrder, Orderings, Scheme};
pub use parse::parse;
pub use state::{Check, Datatype, FieldName, FieldValue, Operation, State, StateField, StateKind};
pub use test::{Existence, Object, ObjectField, Test, TestKind};
pub use verdict::Verdict;
