//! Version orderings supplied by the caller, and the OVAL comparison of one
//! value with another under a datatype and an operation.

use std::cmp::Ordering;

use crate::state::{Datatype, Operation};
use crate::verdict::Verdict;

/// A version ordering (rpm's `rpmvercmp` over `epoch:version-release`, or
/// dpkg's). Any `Fn(&str, &str) -> Ordering` is one.
pub trait EvrOrder {
    fn cmp_evr(&self, a: &str, b: &str) -> Ordering;
}

impl<F: Fn(&str, &str) -> Ordering> EvrOrder for F {
    fn cmp_evr(&self, a: &str, b: &str) -> Ordering {
        self(a, b)
    }
}

/// The orderings the evaluator uses: `evr_string` values are compared with
/// `rpm`, `debian_evr_string` values with `deb`. Both receive
/// `epoch:version[-release]` strings with the epoch always present.
#[derive(Clone, Copy)]
pub struct Orderings<'a> {
    pub rpm: &'a dyn EvrOrder,
    pub deb: &'a dyn EvrOrder,
}

/// Which ordering an explanation was decided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Rpm,
    Deb,
}

/// `epoch:version-release` with an explicit epoch, as both orderings get it.
pub(crate) fn with_epoch(evr: &str) -> std::borrow::Cow<'_, str> {
    if evr.contains(':') {
        evr.into()
    } else {
        format!("0:{evr}").into()
    }
}

/// Debian's OVAL generator writes an explicit zero epoch in front of
/// versions that already have one (`0:1:4.14-1.1+deb7u1`). Read literally
/// that is epoch 0 with upstream `1:4.14`, lower than every installed
/// `1:` version, so the definition could never be true; the generator meant
/// `1:4.14-1.1+deb7u1`.
pub(crate) fn debian_state_evr(evr: &str) -> &str {
    if let Some(rest) = evr.strip_prefix("0:")
        && let Some((epoch, _)) = rest.split_once(':')
        && !epoch.is_empty()
        && epoch.bytes().all(|b| b.is_ascii_digit())
    {
        return rest;
    }
    evr
}

/// Debian marks a release that was never affected with "less than 0".
pub(crate) fn is_debian_never(evr: &str) -> bool {
    matches!(evr, "0" | "0:0")
}

fn from_ordering(op: Operation, ord: Ordering) -> Option<bool> {
    Some(match op {
        Operation::Equals => ord == Ordering::Equal,
        Operation::NotEqual => ord != Ordering::Equal,
        Operation::LessThan => ord == Ordering::Less,
        Operation::LessThanOrEqual => ord != Ordering::Greater,
        Operation::GreaterThan => ord == Ordering::Greater,
        Operation::GreaterThanOrEqual => ord != Ordering::Less,
        _ => return None,
    })
}

/// Dotted numeric versions (`version` datatype): components compared as
/// integers, missing ones as zero.
fn cmp_version(a: &str, b: &str) -> Option<Ordering> {
    let parse = |s: &str| -> Option<Vec<u64>> {
        s.split(['.', '-', '_', ':'])
            .map(|c| c.parse::<u64>().ok())
            .collect()
    };
    let (a, b) = (parse(a)?, parse(b)?);
    let n = a.len().max(b.len());
    for i in 0..n {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => continue,
            o => return Some(o),
        }
    }
    Some(Ordering::Equal)
}

/// Compares an item's value (`actual`) with a state's (`expected`) for
/// every operation but `pattern match`, which needs the compiled regex.
pub(crate) fn compare(
    orderings: &Orderings<'_>,
    datatype: Datatype,
    op: Operation,
    actual: &str,
    expected: &str,
) -> Verdict {
    let decided = match datatype {
        Datatype::RpmEvr => {
            let ord = orderings
                .rpm
                .cmp_evr(&with_epoch(actual), &with_epoch(expected));
            from_ordering(op, ord)
        }
        Datatype::DebianEvr => {
            let expected = debian_state_evr(expected);
            if op == Operation::LessThan && is_debian_never(expected) {
                return Verdict::False;
            }
            let ord = orderings
                .deb
                .cmp_evr(&with_epoch(actual), &with_epoch(expected));
            from_ordering(op, ord)
        }
        Datatype::Version => cmp_version(actual, expected).and_then(|o| from_ordering(op, o)),
        Datatype::Int => match (actual.parse::<i64>(), expected.parse::<i64>()) {
            (Ok(a), Ok(b)) => match op {
                Operation::BitwiseAnd => Some(a & b == b),
                Operation::BitwiseOr => Some(a | b == b),
                _ => from_ordering(op, a.cmp(&b)),
            },
            _ => None,
        },
        Datatype::Float => match (actual.parse::<f64>(), expected.parse::<f64>()) {
            (Ok(a), Ok(b)) => a.partial_cmp(&b).and_then(|o| from_ordering(op, o)),
            _ => None,
        },
        Datatype::Boolean => {
            let norm = |s: &str| matches!(s, "true" | "1");
            match op {
                Operation::Equals => Some(norm(actual) == norm(expected)),
                Operation::NotEqual => Some(norm(actual) != norm(expected)),
                _ => None,
            }
        }
        Datatype::String | Datatype::Binary | Datatype::Other => match op {
            Operation::Equals => Some(actual == expected),
            Operation::NotEqual => Some(actual != expected),
            Operation::CaseInsensitiveEquals => {
                Some(actual.to_lowercase() == expected.to_lowercase())
            }
            Operation::CaseInsensitiveNotEqual => {
                Some(actual.to_lowercase() != expected.to_lowercase())
            }
            _ => None,
        },
    };
    decided.map_or(Verdict::Error, Verdict::from_bool)
}
