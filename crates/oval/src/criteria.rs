//! The logical tree of a definition: `criteria`, `criterion` and
//! `extend_definition` nodes.

use crate::document::{DefId, TestId};

/// How the children of a `criteria` node (or the results of a test's items,
/// see [`crate::Check`]) are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Operator {
    #[default]
    And,
    Or,
    /// Exactly one child is true.
    One,
    /// An odd number of children are true.
    Xor,
}

impl Operator {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "AND" => Self::And,
            "OR" => Self::Or,
            "ONE" => Self::One,
            "XOR" => Self::Xor,
            _ => return None,
        })
    }
}

/// One node of a criteria tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Criteria {
    /// `<criteria operator=".." negate="..">`
    Node {
        operator: Operator,
        negate: bool,
        /// `applicability_check`: the node only decides whether the
        /// definition applies to the host (kept for callers; the evaluation
        /// itself treats it like any other node, as OVAL does).
        applicability_check: bool,
        children: Vec<Criteria>,
    },
    /// `<criterion test_ref=".." negate="..">`
    Criterion {
        test: TestId,
        negate: bool,
        applicability_check: bool,
    },
    /// `<extend_definition definition_ref=".." negate="..">`
    Extend {
        definition: DefId,
        negate: bool,
        applicability_check: bool,
    },
}

impl Criteria {
    /// Calls `f` on every test the tree refers to, in document order.
    pub fn for_each_test(&self, f: &mut impl FnMut(TestId)) {
        match self {
            Criteria::Node { children, .. } => children.iter().for_each(|c| c.for_each_test(f)),
            Criteria::Criterion { test, .. } => f(*test),
            Criteria::Extend { .. } => {}
        }
    }
}
