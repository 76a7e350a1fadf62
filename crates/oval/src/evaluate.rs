//! Evaluation of definitions against a host.

use std::fmt;

use crate::criteria::Criteria;
use crate::definition::{Class, Definition};
use crate::document::{DefId, Document, TestId};
use crate::host::Host;
use crate::item::{Collected, Item, collect, compare_values, expected};
use crate::ordering::{Orderings, Scheme, debian_state_evr};
use crate::state::{Datatype, Operation, State};
use crate::test::Test;
use crate::verdict::{Tally, Verdict, combine_check};

/// Knobs for facts a host inventory may lack.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Result of comparing a `signature_keyid` when the host did not report
    /// the key of a package. OVAL says unknown; an inventory known to come
    /// from vendor repositories only may choose true.
    pub missing_signature_keyid: Verdict,
    /// Skip (not applicable) definitions whose `affected_cpe_list` names
    /// none of the host's repository CPEs, when the host reports them.
    pub filter_by_cpe: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            missing_signature_keyid: Verdict::Unknown,
            filter_by_cpe: true,
        }
    }
}

/// Why a package test was true: `openssl 1:3.0.7-24.el9 < 1:3.0.7-25.el9_3 (rpm ordering)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub test_id: String,
    pub package: String,
    pub arch: String,
    /// The installed version as the package manager prints it.
    pub installed: String,
    /// The state's value.
    pub expected: String,
    pub operation: Operation,
    pub scheme: Scheme,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Rpm => "rpm",
            Scheme::Deb => "dpkg",
        };
        write!(
            f,
            "{} {} {} {} ({scheme} ordering)",
            self.package,
            self.installed,
            self.operation.symbol(),
            self.expected
        )
    }
}

/// The evaluation of one definition.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionResult {
    pub id: DefId,
    pub definition_id: String,
    pub class: Class,
    pub verdict: Verdict,
    pub cves: Vec<String>,
    pub advisories: Vec<String>,
    /// For a true result: each satisfied version comparison on the true
    /// branches of the criteria tree.
    pub explanations: Vec<Explanation>,
    /// For error results: what went wrong, naming the test or object.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone)]
struct TestOutcome {
    verdict: Verdict,
    explanations: Vec<Explanation>,
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DefMemo {
    Pending,
    InProgress,
    Done(Verdict),
}

/// An evaluator bound to a document and version orderings.
pub struct Evaluator<'d> {
    doc: &'d Document,
    orderings: Orderings<'d>,
    options: Options,
}

/// Evaluates every definition of `doc` against `host`.
pub fn evaluate(
    doc: &Document,
    host: &dyn Host,
    orderings: &Orderings<'_>,
) -> Vec<DefinitionResult> {
    Evaluator {
        doc,
        orderings: *orderings,
        options: Options::default(),
    }
    .evaluate(host)
}

impl<'d> Evaluator<'d> {
    pub fn new(doc: &'d Document, orderings: Orderings<'d>) -> Self {
        Evaluator {
            doc,
            orderings,
            options: Options::default(),
        }
    }

    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Evaluates every definition, in document order.
    pub fn evaluate(&self, host: &dyn Host) -> Vec<DefinitionResult> {
        let mut run = Run::new(self, host);
        self.doc
            .definitions_with_ids()
            .map(|(id, d)| run.result(id, d))
            .collect()
    }

    /// Evaluates the named definitions only (ids not in the document are
    /// skipped).
    pub fn evaluate_ids(&self, host: &dyn Host, ids: &[&str]) -> Vec<DefinitionResult> {
        let mut run = Run::new(self, host);
        ids.iter()
            .filter_map(|i| {
                let id = self.doc.definition_id(i)?;
                let d = self.doc.definition_by_id(id)?;
                Some(run.result(id, d))
            })
            .collect()
    }
}

/// State of one evaluation: results of tests and definitions are memoised,
/// since feeds share tests ("Red Hat Enterprise Linux 9 is installed")
/// between thousands of definitions.
struct Run<'e, 'd, 'h> {
    ev: &'e Evaluator<'d>,
    host: &'h dyn Host,
    tests: Vec<Option<TestOutcome>>,
    defs: Vec<DefMemo>,
}

impl<'e, 'd, 'h> Run<'e, 'd, 'h> {
    fn new(ev: &'e Evaluator<'d>, host: &'h dyn Host) -> Self {
        Run {
            ev,
            host,
            tests: vec![None; ev.doc.tests.slots()],
            defs: vec![DefMemo::Pending; ev.doc.definitions.slots()],
        }
    }

    fn result(&mut self, id: DefId, d: &Definition) -> DefinitionResult {
        let verdict = self.definition(id);
        let mut explanations = Vec::new();
        let mut errors = Vec::new();
        if verdict == Verdict::True {
            if let Some(c) = &d.criteria {
                self.explain(c, &mut explanations, 0);
            }
        } else if verdict == Verdict::Error
            && let Some(c) = &d.criteria
        {
            self.errors(c, &mut errors);
        }
        DefinitionResult {
            id,
            definition_id: d.id.clone(),
            class: d.class,
            verdict,
            cves: d.cves.clone(),
            advisories: d.advisories.clone(),
            explanations,
            errors,
        }
    }

    fn cpe_applies(&self, d: &Definition) -> bool {
        if !self.ev.options.filter_by_cpe || d.affected_cpes.is_empty() {
            return true;
        }
        match self.host.repository_cpes() {
            None => true,
            Some(host) => d
                .affected_cpes
                .iter()
                .any(|want| host.iter().any(|have| crate::cpe::matches(want, have))),
        }
    }

    fn definition(&mut self, id: DefId) -> Verdict {
        match self.defs.get(id.index()).copied() {
            Some(DefMemo::Done(v)) => return v,
            // A definition extending itself (directly or not): OVAL forbids
            // it; report an error instead of recursing forever.
            Some(DefMemo::InProgress) => return Verdict::Error,
            Some(DefMemo::Pending) => {}
            None => return Verdict::Error,
        }
        let doc = self.ev.doc;
        let Some(d) = doc.definition_by_id(id) else {
            return Verdict::Error;
        };
        self.defs[id.index()] = DefMemo::InProgress;
        let v = if !self.cpe_applies(d) {
            Verdict::NotApplicable
        } else {
            match &d.criteria {
                Some(c) => self.criteria(c),
                None => Verdict::NotEvaluated,
            }
        };
        self.defs[id.index()] = DefMemo::Done(v);
        v
    }

    fn criteria(&mut self, c: &Criteria) -> Verdict {
        match c {
            Criteria::Node {
                operator,
                negate,
                children,
                ..
            } => {
                let mut tally = Tally::default();
                for child in children {
                    tally.add(self.criteria(child));
                }
                tally.operator(*operator).negate(*negate)
            }
            Criteria::Criterion { test, negate, .. } => self.test(*test).verdict.negate(*negate),
            Criteria::Extend {
                definition, negate, ..
            } => self.definition(*definition).negate(*negate),
        }
    }

    /// Collects explanations from the branches that made the tree true.
    fn explain(&mut self, c: &Criteria, out: &mut Vec<Explanation>, depth: usize) {
        if depth > 64 || self.criteria(c) != Verdict::True {
            return;
        }
        match c {
            // A negated node is true because its content is false: it holds
            // no evidence of an installed vulnerable version.
            Criteria::Node { negate: true, .. }
            | Criteria::Criterion { negate: true, .. }
            | Criteria::Extend { negate: true, .. } => {}
            Criteria::Node { children, .. } => {
                for child in children {
                    self.explain(child, out, depth + 1);
                }
            }
            Criteria::Criterion { test, .. } => {
                for e in &self.test(*test).explanations {
                    if !out.contains(e) {
                        out.push(e.clone());
                    }
                }
            }
            Criteria::Extend { definition, .. } => {
                if let Some(d) = self.ev.doc.definition_by_id(*definition)
                    && let Some(c) = &d.criteria
                {
                    self.explain(c, out, depth + 1);
                }
            }
        }
    }

    fn errors(&mut self, c: &Criteria, out: &mut Vec<String>) {
        match c {
            Criteria::Node { children, .. } => children.iter().for_each(|ch| self.errors(ch, out)),
            Criteria::Criterion { test, .. } => {
                if let Some(e) = &self.test(*test).error
                    && !out.contains(e)
                {
                    out.push(e.clone());
                }
            }
            Criteria::Extend { definition, .. } => {
                if self.definition(*definition) == Verdict::Error {
                    out.push(format!(
                        "extended definition {} is in error",
                        self.ev.doc.definition_name(*definition)
                    ));
                }
            }
        }
    }

    fn test(&mut self, id: TestId) -> &TestOutcome {
        if self.tests[id.index()].is_none() {
            let outcome = self.evaluate_test(id);
            self.tests[id.index()] = Some(outcome);
        }
        self.tests[id.index()]
            .as_ref()
            .expect("memoised just above")
    }

    fn evaluate_test(&self, id: TestId) -> TestOutcome {
        let doc = self.ev.doc;
        let fail = |verdict: Verdict, msg: String| TestOutcome {
            verdict,
            explanations: Vec::new(),
            error: Some(msg),
        };
        let Some(test) = doc.test(id) else {
            return fail(
                Verdict::Error,
                format!("test {} is not defined", doc.test_name(id)),
            );
        };
        if test.kind == crate::test::TestKind::Unknown {
            return fail(Verdict::Unknown, format!("{} is an unknown_test", test.id));
        }
        let Some(obj_id) = test.object else {
            return fail(Verdict::Error, format!("test {} has no object", test.id));
        };
        let Some(object) = doc.object(obj_id) else {
            return fail(
                Verdict::Error,
                format!("object {} is not defined", doc.object_name(obj_id)),
            );
        };
        let mut states: Vec<&State> = Vec::with_capacity(test.states.len());
        for s in &test.states {
            match doc.state(*s) {
                Some(st) => states.push(st),
                None => {
                    return fail(
                        Verdict::Error,
                        format!("state {} is not defined", doc.state_name(*s)),
                    );
                }
            }
        }
        let items = match collect(doc, &self.ev.orderings, object, self.host) {
            Ok(Collected::Items(items)) => items,
            Ok(Collected::Verdict(v, msg)) => return fail(v, format!("test {}: {msg}", test.id)),
            Err(msg) => return fail(Verdict::Error, format!("test {}: {msg}", test.id)),
        };
        self.check_items(test, &states, &items)
    }

    /// Existence check first, then each item against the states, combined
    /// with the test's `check`.
    fn check_items(&self, test: &Test, states: &[&State], items: &[Item<'_>]) -> TestOutcome {
        use crate::test::Existence::*;
        let n = items.len();
        let exists = match test.check_existence {
            AllExist | AtLeastOneExists => n >= 1,
            AnyExist => true,
            NoneExist => n == 0,
            OnlyOneExists => n == 1,
        };
        let mut outcome = TestOutcome {
            verdict: Verdict::from_bool(exists),
            explanations: Vec::new(),
            error: None,
        };
        if !exists || states.is_empty() || n == 0 {
            return outcome;
        }
        let mut per_item = Vec::with_capacity(n);
        let mut evidence = Vec::new();
        for item in items {
            let mut tally = Tally::default();
            for s in states {
                let (v, err) = self.state(s, item);
                if let (Some(e), None) = (err, &outcome.error) {
                    outcome.error = Some(format!("test {}: {e}", test.id));
                }
                tally.add(v);
            }
            let v = tally.operator(test.state_operator);
            if v == Verdict::True {
                states
                    .iter()
                    .for_each(|s| self.evidence(test, s, item, &mut evidence));
            }
            per_item.push(v);
        }
        outcome.verdict = combine_check(per_item, test.check);
        if outcome.verdict == Verdict::True {
            outcome.explanations = evidence;
        }
        outcome
    }

    /// One item against one state: fields combined with the state's
    /// operator.
    fn state(&self, state: &State, item: &Item<'_>) -> (Verdict, Option<String>) {
        let doc = self.ev.doc;
        let mut tally = Tally::default();
        let mut error = None;
        for f in &state.fields {
            let v = match item.values(&f.name) {
                None if f.name == crate::state::FieldName::SignatureKeyid => {
                    self.ev.options.missing_signature_keyid
                }
                None => {
                    error = Some(format!(
                        "state {}: item has no {:?} entity",
                        state.id, f.name
                    ));
                    Verdict::Error
                }
                Some(actual) => match expected(doc, &f.value) {
                    Err(e) => {
                        error = Some(format!("state {}: {e}", state.id));
                        Verdict::Error
                    }
                    Ok((exp, var_check)) => {
                        let per_value = actual.iter().map(|a| {
                            compare_values(
                                doc,
                                &self.ev.orderings,
                                f.datatype,
                                f.operation,
                                a,
                                &exp,
                                var_check,
                            )
                        });
                        combine_check(per_value.collect::<Vec<_>>(), f.entity_check)
                    }
                },
            };
            if v == Verdict::Error && error.is_none() {
                error = Some(format!(
                    "state {}: {:?} comparison failed",
                    state.id, f.name
                ));
            }
            tally.add(v);
        }
        (tally.operator(state.operator), error)
    }

    /// The version comparisons of a satisfied state, for explanations.
    fn evidence(&self, test: &Test, state: &State, item: &Item<'_>, out: &mut Vec<Explanation>) {
        let Some((package, arch)) = item.package_name() else {
            return;
        };
        for f in &state.fields {
            let scheme = match f.datatype {
                Datatype::RpmEvr => Scheme::Rpm,
                Datatype::DebianEvr => Scheme::Deb,
                _ => continue,
            };
            let installed = match item {
                Item::Package(p) => p.display_evr(),
                _ => match item
                    .values(&f.name)
                    .and_then(|v| v.first().map(|s| s.to_string()))
                {
                    Some(v) => v,
                    None => continue,
                },
            };
            let Ok((exp, _)) = expected(self.ev.doc, &f.value) else {
                continue;
            };
            for (text, _) in exp {
                let text = if scheme == Scheme::Deb {
                    debian_state_evr(text)
                } else {
                    text
                };
                out.push(Explanation {
                    test_id: test.id.clone(),
                    package: package.to_owned(),
                    arch: arch.to_owned(),
                    installed: installed.clone(),
                    expected: text.to_owned(),
                    operation: f.operation,
                    scheme,
                });
            }
        }
    }
}
