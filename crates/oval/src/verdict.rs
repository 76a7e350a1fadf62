//! OVAL result values and the tables that combine them (OVAL 5.11
//! "operator" and "check" enumerations).

use crate::criteria::Operator;
use crate::state::Check;

/// The result of a definition, criteria node, test or comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    True,
    False,
    /// Something could not be evaluated because of a problem in the
    /// document (dangling reference, uncompilable pattern, unsupported
    /// variable) or in a comparison (non-numeric `int`).
    Error,
    /// The host does not provide the fact needed (e.g. no signature key id).
    Unknown,
    /// The test kind is not evaluated by this crate.
    NotEvaluated,
    /// The test does not apply to this host (an rpm test on a dpkg host, a
    /// definition whose CPEs are not among the host's repositories).
    NotApplicable,
}

impl Verdict {
    pub fn is_true(self) -> bool {
        self == Verdict::True
    }

    pub fn from_bool(b: bool) -> Self {
        if b { Verdict::True } else { Verdict::False }
    }

    /// `negate="true"`: swaps true and false, leaves the others alone.
    pub fn negate(self, negate: bool) -> Self {
        match (negate, self) {
            (true, Verdict::True) => Verdict::False,
            (true, Verdict::False) => Verdict::True,
            (_, v) => v,
        }
    }

    /// The name OVAL result documents use.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::True => "true",
            Verdict::False => "false",
            Verdict::Error => "error",
            Verdict::Unknown => "unknown",
            Verdict::NotEvaluated => "not evaluated",
            Verdict::NotApplicable => "not applicable",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of each result value among the operands.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    t: usize,
    f: usize,
    e: usize,
    u: usize,
    ne: usize,
    na: usize,
}

impl Tally {
    pub(crate) fn add(&mut self, v: Verdict) {
        match v {
            Verdict::True => self.t += 1,
            Verdict::False => self.f += 1,
            Verdict::Error => self.e += 1,
            Verdict::Unknown => self.u += 1,
            Verdict::NotEvaluated => self.ne += 1,
            Verdict::NotApplicable => self.na += 1,
        }
    }

    /// Operands other than true/false, by precedence (error beats unknown
    /// beats not evaluated), or `None` when there are none.
    fn undecided(&self) -> Option<Verdict> {
        if self.e > 0 {
            Some(Verdict::Error)
        } else if self.u > 0 {
            Some(Verdict::Unknown)
        } else if self.ne > 0 {
            Some(Verdict::NotEvaluated)
        } else {
            None
        }
    }

    fn all_not_applicable(&self) -> bool {
        self.t + self.f + self.e + self.u + self.ne == 0
    }

    /// Combines with a criteria operator. Not-applicable operands are
    /// ignored; only not-applicable operands (or none) give not applicable.
    pub(crate) fn operator(&self, op: Operator) -> Verdict {
        if self.all_not_applicable() {
            return Verdict::NotApplicable;
        }
        match op {
            Operator::And => {
                if self.f > 0 {
                    Verdict::False
                } else {
                    self.undecided().unwrap_or(Verdict::True)
                }
            }
            Operator::Or => {
                if self.t > 0 {
                    Verdict::True
                } else {
                    self.undecided().unwrap_or(Verdict::False)
                }
            }
            Operator::One => {
                if self.t >= 2 {
                    Verdict::False
                } else {
                    match self.undecided() {
                        Some(v) => v,
                        None => Verdict::from_bool(self.t == 1),
                    }
                }
            }
            Operator::Xor => match self.undecided() {
                Some(v) => v,
                None => Verdict::from_bool(self.t % 2 == 1),
            },
        }
    }

    /// Combines with a `check` / `var_check` / `entity_check` value.
    pub(crate) fn check(&self, check: Check) -> Verdict {
        match check {
            Check::All => self.operator(Operator::And),
            Check::AtLeastOne => self.operator(Operator::Or),
            Check::OnlyOne => self.operator(Operator::One),
            Check::NoneSatisfy => {
                if self.all_not_applicable() {
                    Verdict::NotApplicable
                } else if self.t > 0 {
                    Verdict::False
                } else {
                    self.undecided().unwrap_or(Verdict::True)
                }
            }
        }
    }
}

/// Combines `verdicts` with a check value.
pub(crate) fn combine_check(verdicts: impl IntoIterator<Item = Verdict>, check: Check) -> Verdict {
    let mut t = Tally::default();
    verdicts.into_iter().for_each(|v| t.add(v));
    t.check(check)
}
