//! States: the expected values an item is compared with, and the OVAL
//! operations and datatypes used for the comparison (also used by object
//! entities, see [`crate::test::ObjectField`]).

use crate::document::{PatternId, VarId};

/// `operation` attribute of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Operation {
    #[default]
    Equals,
    NotEqual,
    CaseInsensitiveEquals,
    CaseInsensitiveNotEqual,
    GreaterThan,
    LessThan,
    GreaterThanOrEqual,
    LessThanOrEqual,
    BitwiseAnd,
    BitwiseOr,
    PatternMatch,
    SubsetOf,
    SupersetOf,
}

impl Operation {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "equals" => Self::Equals,
            "not equal" => Self::NotEqual,
            "case insensitive equals" => Self::CaseInsensitiveEquals,
            "case insensitive not equal" => Self::CaseInsensitiveNotEqual,
            "greater than" => Self::GreaterThan,
            "less than" => Self::LessThan,
            "greater than or equal" => Self::GreaterThanOrEqual,
            "less than or equal" => Self::LessThanOrEqual,
            "bitwise and" => Self::BitwiseAnd,
            "bitwise or" => Self::BitwiseOr,
            "pattern match" => Self::PatternMatch,
            "subset of" => Self::SubsetOf,
            "superset of" => Self::SupersetOf,
            _ => return None,
        })
    }

    /// The symbol used in explanations (`<`, `>=`, `=~`, …).
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Equals => "=",
            Self::NotEqual => "!=",
            Self::CaseInsensitiveEquals => "=(ci)",
            Self::CaseInsensitiveNotEqual => "!=(ci)",
            Self::GreaterThan => ">",
            Self::LessThan => "<",
            Self::GreaterThanOrEqual => ">=",
            Self::LessThanOrEqual => "<=",
            Self::BitwiseAnd => "&",
            Self::BitwiseOr => "|",
            Self::PatternMatch => "=~",
            Self::SubsetOf => "subset of",
            Self::SupersetOf => "superset of",
        }
    }
}

/// `datatype` attribute of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Datatype {
    #[default]
    String,
    /// `evr_string` (rpm ordering of `epoch:version-release`).
    RpmEvr,
    /// `debian_evr_string` (dpkg ordering).
    DebianEvr,
    /// `version`: dotted numeric components.
    Version,
    Int,
    Float,
    Boolean,
    Binary,
    /// Anything else (`ipv4_address`, `fileset_revision`, …): compared as a
    /// string for equality; ordering operations give an error.
    Other,
}

impl Datatype {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "string" => Self::String,
            "evr_string" => Self::RpmEvr,
            "debian_evr_string" => Self::DebianEvr,
            "version" => Self::Version,
            "int" => Self::Int,
            "float" => Self::Float,
            "boolean" => Self::Boolean,
            "binary" => Self::Binary,
            _ => Self::Other,
        }
    }
}

/// `var_check` / `entity_check`: how many of several values must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Check {
    #[default]
    All,
    AtLeastOne,
    /// Written `none satisfy` (or the deprecated `none exist` on `check`).
    NoneSatisfy,
    OnlyOne,
}

impl Check {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "all" => Self::All,
            "at least one" => Self::AtLeastOne,
            "none satisfy" | "none exist" => Self::NoneSatisfy,
            "only one" => Self::OnlyOne,
            _ => return None,
        })
    }
}

/// Where an entity's expected value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// The element's text. `pattern` is set for `pattern match`: the regex
    /// is compiled once per distinct pattern in the document.
    Literal {
        text: String,
        pattern: Option<PatternId>,
    },
    /// `var_ref`: the values of a variable, combined with `var_check`.
    Variable { var: VarId, var_check: Check },
}

/// The entity names the evaluator understands. Unknown ones are kept by name
/// so that a state using them evaluates to an error instead of silently
/// matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldName {
    Name,
    Epoch,
    Version,
    Release,
    Arch,
    Evr,
    SignatureKeyid,
    Filepath,
    Path,
    Filename,
    Pattern,
    Subexpression,
    Text,
    Instance,
    OsName,
    OsRelease,
    OsVersion,
    MachineClass,
    NodeName,
    ProcessorType,
    Family,
    Other(String),
}

impl FieldName {
    pub(crate) fn parse(local: &str) -> Self {
        match local {
            "name" => Self::Name,
            "epoch" => Self::Epoch,
            "version" => Self::Version,
            "release" => Self::Release,
            "arch" => Self::Arch,
            "evr" => Self::Evr,
            "signature_keyid" => Self::SignatureKeyid,
            "filepath" => Self::Filepath,
            "path" => Self::Path,
            "filename" => Self::Filename,
            "pattern" => Self::Pattern,
            "subexpression" => Self::Subexpression,
            "text" => Self::Text,
            "instance" => Self::Instance,
            "os_name" => Self::OsName,
            "os_release" => Self::OsRelease,
            "os_version" => Self::OsVersion,
            "machine_class" => Self::MachineClass,
            "node_name" => Self::NodeName,
            "processor_type" => Self::ProcessorType,
            "family" => Self::Family,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One entity of a state (`<evr datatype=".." operation="..">…</evr>`).
#[derive(Debug, Clone, PartialEq)]
pub struct StateField {
    pub name: FieldName,
    pub datatype: Datatype,
    pub operation: Operation,
    pub value: FieldValue,
    /// `entity_check`: how the item's values (when it has several, e.g. the
    /// subexpressions of a text match) are combined.
    pub entity_check: Check,
}

/// The kind of a state, from its element name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StateKind {
    RpmInfo,
    DpkgInfo,
    RpmVerifyFile,
    TextFileContent54,
    Uname,
    Family,
    Other(String),
}

/// One `<…_state>`.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub id: String,
    pub kind: StateKind,
    /// `operator` attribute combining the fields (default AND).
    pub operator: crate::criteria::Operator,
    pub fields: Vec<StateField>,
}
