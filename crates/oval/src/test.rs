//! Tests and the objects they collect items with.

use crate::criteria::Operator;
use crate::document::{ObjectId, StateId};
use crate::state::{Check, Datatype, FieldName, FieldValue, Operation};

/// What a test (and its object) looks at, from the element name. The
/// namespace prefix (`linux-def:`, `red-def:`, `ind-def:`, none with a
/// default namespace) does not matter: OVAL element names are unique across
/// the schemas used here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TestKind {
    /// `rpminfo_test`: installed rpm packages.
    RpmInfo,
    /// `dpkginfo_test`: installed dpkg packages.
    DpkgInfo,
    /// `rpmverifyfile_test`: the package owning a file (Red Hat uses it on
    /// `/etc/redhat-release` to detect the release).
    RpmVerifyFile,
    /// `textfilecontent54_test`: regex matches in a text file.
    TextFileContent54,
    /// `uname_test`: the running kernel and machine.
    Uname,
    /// `family_test`: the OS family (`unix`).
    Family,
    /// `variable_test`: the values of a variable.
    Variable,
    /// `unknown_test`: always evaluates to unknown, by definition.
    Unknown,
    /// Any other test element; evaluates to "not evaluated".
    Other(String),
}

impl TestKind {
    pub(crate) fn from_element(local: &str) -> Self {
        let base = local
            .strip_suffix("_test")
            .or_else(|| local.strip_suffix("_object"))
            .or_else(|| local.strip_suffix("_state"))
            .unwrap_or(local);
        match base {
            "rpminfo" => Self::RpmInfo,
            "dpkginfo" => Self::DpkgInfo,
            "rpmverifyfile" => Self::RpmVerifyFile,
            "textfilecontent54" => Self::TextFileContent54,
            "uname" => Self::Uname,
            "family" => Self::Family,
            "variable" => Self::Variable,
            "unknown" => Self::Unknown,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// `check_existence` attribute of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Existence {
    AllExist,
    AnyExist,
    #[default]
    AtLeastOneExists,
    NoneExist,
    OnlyOneExists,
}

impl Existence {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "all_exist" => Self::AllExist,
            "any_exist" => Self::AnyExist,
            "at_least_one_exists" => Self::AtLeastOneExists,
            "none_exist" => Self::NoneExist,
            "only_one_exists" => Self::OnlyOneExists,
            _ => return None,
        })
    }
}

/// One `<…_test>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub id: String,
    pub kind: TestKind,
    pub comment: String,
    pub check: Check,
    pub check_existence: Existence,
    /// `state_operator` combining several states (default AND).
    pub state_operator: Operator,
    /// `None` only for `unknown_test`, which has no object.
    pub object: Option<ObjectId>,
    pub states: Vec<StateId>,
}

/// One entity of an object (`<name>openssl</name>`, `<filepath>`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectField {
    pub name: FieldName,
    pub datatype: Datatype,
    pub operation: Operation,
    pub value: FieldValue,
}

/// One `<…_object>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub id: String,
    pub kind: TestKind,
    pub fields: Vec<ObjectField>,
    /// Set when the object uses a construct the evaluator does not collect
    /// (`<set>`, `<filter>`, unknown entities): its tests give an error.
    pub unsupported: Option<String>,
}

impl Object {
    pub(crate) fn field(&self, name: &FieldName) -> Option<&ObjectField> {
        self.fields.iter().find(|f| &f.name == name)
    }
}
