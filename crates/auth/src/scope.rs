//! A set of sites, the unit every decision is made in.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every site, including sites created later.
    All,
    /// These sites only (possibly none).
    Sites(BTreeSet<i64>),
}

impl Scope {
    pub fn none() -> Scope {
        Scope::Sites(BTreeSet::new())
    }

    pub fn contains(&self, site_id: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Sites(s) => s.contains(&site_id),
        }
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Scope::Sites(s) if s.is_empty())
    }

    /// The site ids to filter on: `None` means no filter (every site).
    pub fn site_ids(&self) -> Option<Vec<i64>> {
        match self {
            Scope::All => None,
            Scope::Sites(s) => Some(s.iter().copied().collect()),
        }
    }

    pub(crate) fn extend(&mut self, sites: impl IntoIterator<Item = i64>) {
        if let Scope::Sites(s) = self {
            s.extend(sites);
        }
    }
}
