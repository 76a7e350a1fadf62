//! Incremental re-assessment: which package sets a feed update touches.
//!
//! A feed update changes a handful of advisories;
//! [`AdvisoryIndex::names_touched`](crate::AdvisoryIndex::names_touched) says
//! which package names they name (now and before), and [`SetIndex`] maps
//! those names back to the sets holding a package of that binary or source
//! name. Only those sets need assessing again.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use patchwatch_reports::model::Package;

use crate::index::TouchedNames;
use crate::kernel;

/// Package name (binary, source, and the kernel source alias) -> set ids.
/// Binary and source names share one namespace: a set holding binary `foo`
/// is also listed under source `foo`, which can only make a re-assessment
/// wider, never miss a set.
#[derive(Debug, Clone)]
pub struct SetIndex<Id> {
    by_name: HashMap<Box<str>, Vec<Id>>,
    sets: usize,
}

/// The names a package is looked up under: its binary name, its source
/// name, and the kernel's source alias (`linux` for `linux-signed-amd64`).
pub fn lookup_names(p: &Package) -> Vec<Cow<'_, str>> {
    let mut names = vec![Cow::Borrowed(p.name.as_str())];
    if !p.source_name.is_empty() {
        names.push(Cow::Borrowed(p.source_name.as_str()));
        let alias = kernel::source_alias(&p.source_name);
        if alias != p.source_name.as_str() {
            names.push(alias);
        }
    }
    names
}

impl<Id> Default for SetIndex<Id> {
    fn default() -> Self {
        SetIndex {
            by_name: HashMap::new(),
            sets: 0,
        }
    }
}

impl<Id: Clone + Eq + Hash> SetIndex<Id> {
    pub fn new() -> SetIndex<Id> {
        SetIndex::default()
    }

    /// Registers a set. Call once per distinct set id.
    pub fn insert(&mut self, id: Id, packages: &[Package]) {
        let mut names: Vec<Cow<'_, str>> = packages.iter().flat_map(lookup_names).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            match self.by_name.get_mut(n.as_ref()) {
                Some(v) => v.push(id.clone()),
                None => {
                    self.by_name.insert(Box::from(n.as_ref()), vec![id.clone()]);
                }
            }
        }
        self.sets += 1;
    }

    /// Number of registered sets.
    pub fn len(&self) -> usize {
        self.sets
    }

    pub fn is_empty(&self) -> bool {
        self.sets == 0
    }

    /// Sets holding a package of one of the names, each once, in order of
    /// first appearance.
    pub fn sets_touching(&self, names: &TouchedNames) -> Vec<Id> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for n in names.source.iter().chain(names.binary.iter()) {
            for id in self.by_name.get(n.as_str()).map_or(&[][..], Vec::as_slice) {
                if seen.insert(id) {
                    out.push(id.clone());
                }
            }
        }
        out
    }
}
