//! The in-memory OVAL document: definitions, tests, objects, states and
//! variables, each kept in a table indexed by a small interned id.
//!
//! Ids are interned the first time they are *seen*, whether as a definition
//! or as a reference (`test_ref`, `object_ref`, …), so the parser resolves
//! forward references in one pass; a slot that is referenced but never
//! defined stays empty and evaluates to an error.

use std::collections::HashMap;

use regex::Regex;

use crate::definition::Definition;
use crate::state::State;
use crate::test::{Object, Test};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// Position in the document's table of this kind.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// Interned `oval:…:def:…` id.
    DefId
);
id_type!(
    /// Interned `oval:…:tst:…` id.
    TestId
);
id_type!(
    /// Interned `oval:…:obj:…` id.
    ObjectId
);
id_type!(
    /// Interned `oval:…:ste:…` id.
    StateId
);
id_type!(
    /// Interned `oval:…:var:…` id.
    VarId
);
id_type!(
    /// A compiled regular expression, shared by every entity using the same
    /// pattern.
    PatternId
);

/// A table of one kind of element, indexed by interned id.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    index: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    items: Vec<Option<T>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            index: HashMap::new(),
            names: Vec::new(),
            items: Vec::new(),
        }
    }
}

impl<T> Table<T> {
    pub(crate) fn intern(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.index.get(id) {
            return n;
        }
        let n = self.items.len() as u32;
        self.index.insert(id.into(), n);
        self.names.push(id.into());
        self.items.push(None);
        n
    }

    /// Stores the element; `false` when the id was already defined.
    pub(crate) fn define(&mut self, n: u32, item: T) -> bool {
        let slot = &mut self.items[n as usize];
        if slot.is_some() {
            return false;
        }
        *slot = Some(item);
        true
    }

    pub(crate) fn get(&self, n: u32) -> Option<&T> {
        self.items.get(n as usize).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, n: u32) -> Option<&mut T> {
        self.items.get_mut(n as usize).and_then(Option::as_mut)
    }

    pub(crate) fn lookup(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub(crate) fn name(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("", |s| s)
    }

    pub(crate) fn defined(&self) -> impl Iterator<Item = &T> {
        self.items.iter().flatten()
    }

    pub(crate) fn len_defined(&self) -> usize {
        self.items.iter().filter(|i| i.is_some()).count()
    }

    pub(crate) fn slots(&self) -> usize {
        self.items.len()
    }

    /// Ids referenced somewhere but never defined.
    pub(crate) fn dangling(&self) -> impl Iterator<Item = &str> {
        self.items
            .iter()
            .zip(&self.names)
            .filter(|(i, _)| i.is_none())
            .map(|(_, n)| &**n)
    }
}

/// A variable (`<constant_variable>`, `<local_variable>`, …).
#[derive(Debug, Clone, PartialEq)]
pub enum Variable {
    /// The values of a `constant_variable`; `patterns` holds their compiled
    /// form when the variable is used by a `pattern match` entity.
    Constant {
        id: String,
        values: Vec<String>,
        patterns: Vec<PatternId>,
    },
    /// `local_variable` and `external_variable` are not computed (their
    /// components read items of other objects or come from outside the
    /// document); entities referring to them evaluate to an error.
    Unsupported { id: String, kind: String },
}

/// `<generator>` of the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generator {
    pub product_name: Option<String>,
    pub schema_version: Option<String>,
    pub timestamp: Option<String>,
}

/// A parsed OVAL definitions document.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub generator: Generator,
    pub(crate) definitions: Table<Definition>,
    pub(crate) tests: Table<Test>,
    pub(crate) objects: Table<Object>,
    pub(crate) states: Table<State>,
    pub(crate) variables: Table<Variable>,
    /// Compiled patterns; an `Err` keeps the compiler's message (OVAL uses
    /// Perl syntax, and look-around is outside what `regex` accepts).
    pub(crate) patterns: Vec<Result<Regex, String>>,
    pub(crate) pattern_index: HashMap<String, PatternId>,
}

impl Document {
    /// Number of definitions in the document.
    pub fn definition_count(&self) -> usize {
        self.definitions.len_defined()
    }
    pub fn test_count(&self) -> usize {
        self.tests.len_defined()
    }
    pub fn object_count(&self) -> usize {
        self.objects.len_defined()
    }
    pub fn state_count(&self) -> usize {
        self.states.len_defined()
    }
    pub fn variable_count(&self) -> usize {
        self.variables.len_defined()
    }
    /// Number of distinct compiled patterns (each compiled once).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Definitions in document order.
    pub fn definitions(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.defined()
    }

    /// Definitions with their interned ids, in document order.
    pub fn definitions_with_ids(&self) -> impl Iterator<Item = (DefId, &Definition)> {
        (0..self.definitions.slots() as u32)
            .filter_map(|n| self.definitions.get(n).map(|d| (DefId(n), d)))
    }

    pub fn definition(&self, id: &str) -> Option<&Definition> {
        self.definitions
            .lookup(id)
            .and_then(|n| self.definitions.get(n))
    }
    pub fn definition_id(&self, id: &str) -> Option<DefId> {
        self.definitions.lookup(id).map(DefId)
    }
    pub fn definition_by_id(&self, id: DefId) -> Option<&Definition> {
        self.definitions.get(id.0)
    }
    pub fn test(&self, id: TestId) -> Option<&Test> {
        self.tests.get(id.0)
    }
    pub fn test_by_name(&self, id: &str) -> Option<&Test> {
        self.tests.lookup(id).and_then(|n| self.tests.get(n))
    }
    pub fn object(&self, id: ObjectId) -> Option<&Object> {
        self.objects.get(id.0)
    }
    pub fn state(&self, id: StateId) -> Option<&State> {
        self.states.get(id.0)
    }
    pub fn variable(&self, id: VarId) -> Option<&Variable> {
        self.variables.get(id.0)
    }
    pub fn pattern(&self, id: PatternId) -> Result<&Regex, &str> {
        match self.patterns.get(id.index()) {
            Some(Ok(re)) => Ok(re),
            Some(Err(e)) => Err(e),
            None => Err("no such pattern"),
        }
    }

    /// The OVAL id string behind an interned id (also for dangling ones).
    pub fn test_name(&self, id: TestId) -> &str {
        self.tests.name(id.0)
    }
    pub fn definition_name(&self, id: DefId) -> &str {
        self.definitions.name(id.0)
    }
    pub fn object_name(&self, id: ObjectId) -> &str {
        self.objects.name(id.0)
    }
    pub fn state_name(&self, id: StateId) -> &str {
        self.states.name(id.0)
    }
    pub fn variable_name(&self, id: VarId) -> &str {
        self.variables.name(id.0)
    }

    /// Ids referenced but not defined (cut-down feeds have some); their
    /// criteria evaluate to an error.
    pub fn dangling_references(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.definitions.dangling().collect();
        out.extend(self.tests.dangling());
        out.extend(self.objects.dangling());
        out.extend(self.states.dangling());
        out.extend(self.variables.dangling());
        out
    }

    pub(crate) fn compile_pattern(&mut self, source: &str, multiline: bool) -> PatternId {
        let key = if multiline {
            format!("(?m){source}")
        } else {
            source.to_owned()
        };
        if let Some(&id) = self.pattern_index.get(&key) {
            return id;
        }
        let id = PatternId(self.patterns.len() as u32);
        self.patterns
            .push(Regex::new(&key).map_err(|e| e.to_string()));
        self.pattern_index.insert(key, id);
        id
    }
}
