//! The `tests`, `objects`, `states` and `variables` sections of the reader.

use quick_xml::events::BytesStart;

use crate::criteria::Operator;
use crate::document::{ObjectId, StateId, VarId, Variable};
use crate::error::ParseError;
use crate::parse::{Parser, Pending, PendingField};
use crate::state::{
    Check, Datatype, FieldName, FieldValue, Operation, State, StateField, StateKind,
};
use crate::test::{Existence, Object, ObjectField, Test, TestKind};

impl Parser {
    pub(crate) fn start_test(&mut self, local: &str, e: &BytesStart<'_>) -> Result<(), ParseError> {
        let id = self.required(e, local, "id")?;
        let check = match self.attr(e, "check")? {
            None => Check::All,
            Some(v) => Check::parse(&v).ok_or_else(|| self.invalid(local, &id, "check", &v))?,
        };
        let check_existence = match self.attr(e, "check_existence")? {
            None => Existence::default(),
            Some(v) => Existence::parse(&v)
                .ok_or_else(|| self.invalid(local, &id, "check_existence", &v))?,
        };
        let state_operator = match self.attr(e, "state_operator")? {
            None => Operator::And,
            Some(v) => {
                Operator::parse(&v).ok_or_else(|| self.invalid(local, &id, "state_operator", &v))?
            }
        };
        let n = self.doc.tests.intern(&id);
        let test = Test {
            comment: self.attr(e, "comment")?.unwrap_or_default(),
            id,
            kind: TestKind::from_element(local),
            check,
            check_existence,
            state_operator,
            object: None,
            states: Vec::new(),
        };
        self.pending = Pending::Test(n, test);
        Ok(())
    }

    pub(crate) fn start_object(
        &mut self,
        local: &str,
        e: &BytesStart<'_>,
    ) -> Result<(), ParseError> {
        let id = self.required(e, local, "id")?;
        let n = self.doc.objects.intern(&id);
        self.pending = Pending::Object(
            n,
            Object {
                id,
                kind: TestKind::from_element(local),
                fields: Vec::new(),
                unsupported: None,
            },
        );
        Ok(())
    }

    pub(crate) fn start_state(
        &mut self,
        local: &str,
        e: &BytesStart<'_>,
    ) -> Result<(), ParseError> {
        let id = self.required(e, local, "id")?;
        let operator = match self.attr(e, "operator")? {
            None => Operator::And,
            Some(v) => {
                Operator::parse(&v).ok_or_else(|| self.invalid(local, &id, "operator", &v))?
            }
        };
        let kind = match TestKind::from_element(local) {
            TestKind::RpmInfo => StateKind::RpmInfo,
            TestKind::DpkgInfo => StateKind::DpkgInfo,
            TestKind::RpmVerifyFile => StateKind::RpmVerifyFile,
            TestKind::TextFileContent54 => StateKind::TextFileContent54,
            TestKind::Uname => StateKind::Uname,
            TestKind::Family => StateKind::Family,
            _ => StateKind::Other(local.to_owned()),
        };
        let n = self.doc.states.intern(&id);
        self.pending = Pending::State(
            n,
            State {
                id,
                kind,
                operator,
                fields: Vec::new(),
            },
        );
        Ok(())
    }

    pub(crate) fn start_variable(
        &mut self,
        local: &str,
        e: &BytesStart<'_>,
    ) -> Result<(), ParseError> {
        let id = self.required(e, local, "id")?;
        let index = self.doc.variables.intern(&id);
        if local == "constant_variable" {
            self.pending = Pending::Constant {
                index,
                id,
                values: Vec::new(),
            };
        } else {
            let var = Variable::Unsupported {
                id: id.clone(),
                kind: local.to_owned(),
            };
            if !self.doc.variables.define(index, var) {
                return Err(ParseError::DuplicateId {
                    id,
                    position: self.position,
                });
            }
            self.pending = Pending::None;
        }
        Ok(())
    }

    /// A child element of a test, object, state or variable.
    pub(crate) fn start_field(
        &mut self,
        local: &str,
        e: &BytesStart<'_>,
    ) -> Result<(), ParseError> {
        self.field = None;
        match &mut self.pending {
            Pending::Test(_, _) => {
                let (attr_name, is_object) = match local {
                    "object" => ("object_ref", true),
                    "state" => ("state_ref", false),
                    _ => return Ok(()),
                };
                let r = self.required(e, local, attr_name)?;
                let Pending::Test(_, t) = &mut self.pending else {
                    return Ok(());
                };
                if is_object {
                    t.object = Some(ObjectId(self.doc.objects.intern(&r)));
                } else {
                    t.states.push(StateId(self.doc.states.intern(&r)));
                }
            }
            Pending::Object(_, o) => {
                match local {
                    // Item-collection behaviours do not change what the
                    // objects used by vendors collect, except multiline,
                    // which is the OVAL default and is always applied.
                    "behaviors" => return Ok(()),
                    "set" | "filter" => {
                        o.unsupported = Some(format!("<{local}>"));
                        return Ok(());
                    }
                    _ => {}
                }
                self.field = Some(self.pending_field(local, e, false)?);
            }
            Pending::State(_, _) => {
                self.field = Some(self.pending_field(local, e, true)?);
            }
            Pending::Constant { .. } => {
                if local == "value" {
                    self.field = Some(PendingField {
                        name: FieldName::Other("value".into()),
                        datatype: Datatype::String,
                        operation: Operation::Equals,
                        var: None,
                        entity_check: Check::All,
                    });
                }
            }
            Pending::None => {}
        }
        Ok(())
    }

    fn pending_field(
        &mut self,
        local: &str,
        e: &BytesStart<'_>,
        in_state: bool,
    ) -> Result<PendingField, ParseError> {
        let owner = match &self.pending {
            Pending::Object(_, o) => o.id.clone(),
            Pending::State(_, s) => s.id.clone(),
            _ => String::new(),
        };
        let operation = match self.attr(e, "operation")? {
            None => Operation::Equals,
            Some(v) => {
                Operation::parse(&v).ok_or_else(|| self.invalid(local, &owner, "operation", &v))?
            }
        };
        let datatype = self
            .attr(e, "datatype")?
            .map_or(Datatype::String, |d| Datatype::parse(&d));
        let var_check = match self.attr(e, "var_check")? {
            None => Check::All,
            Some(v) => {
                Check::parse(&v).ok_or_else(|| self.invalid(local, &owner, "var_check", &v))?
            }
        };
        let entity_check = match self.attr(e, "entity_check")? {
            None => Check::All,
            Some(v) => {
                Check::parse(&v).ok_or_else(|| self.invalid(local, &owner, "entity_check", &v))?
            }
        };
        let var = self
            .attr(e, "var_ref")?
            .map(|r| (VarId(self.doc.variables.intern(&r)), var_check));
        let _ = in_state;
        Ok(PendingField {
            name: FieldName::parse(local),
            datatype,
            operation,
            var,
            entity_check,
        })
    }

    pub(crate) fn finish_field(&mut self, text: String) {
        let Some(f) = self.field.take() else {
            return;
        };
        // Values are compared trimmed: vendors wrap values across lines (an
        // Ubuntu state has "\n   0:0.9.6-…"), and no OVAL value used by the
        // supported tests has significant surrounding whitespace.
        let text = text.trim();
        if let Pending::Constant { values, .. } = &mut self.pending {
            values.push(text.to_owned());
            return;
        }
        let multiline = matches!(&self.pending, Pending::Object(_, o) if o.kind == TestKind::TextFileContent54)
            && f.name == FieldName::Pattern;
        let value = match f.var {
            Some((var, var_check)) => FieldValue::Variable { var, var_check },
            None => {
                let pattern = (f.operation == Operation::PatternMatch)
                    .then(|| self.doc.compile_pattern(text, multiline));
                FieldValue::Literal {
                    text: text.to_owned(),
                    pattern,
                }
            }
        };
        match &mut self.pending {
            Pending::Object(_, o) => o.fields.push(ObjectField {
                name: f.name,
                datatype: f.datatype,
                operation: f.operation,
                value,
            }),
            Pending::State(_, s) => s.fields.push(StateField {
                name: f.name,
                datatype: f.datatype,
                operation: f.operation,
                value,
                entity_check: f.entity_check,
            }),
            _ => {}
        }
    }

    pub(crate) fn finish_item(&mut self) -> Result<(), ParseError> {
        let pending = std::mem::replace(&mut self.pending, Pending::None);
        let (defined, id) = match pending {
            Pending::None => return Ok(()),
            Pending::Test(n, t) => {
                let id = t.id.clone();
                (self.doc.tests.define(n, t), id)
            }
            Pending::Object(n, o) => {
                let id = o.id.clone();
                (self.doc.objects.define(n, o), id)
            }
            Pending::State(n, s) => {
                let id = s.id.clone();
                (self.doc.states.define(n, s), id)
            }
            Pending::Constant { index, id, values } => {
                let var = Variable::Constant {
                    id: id.clone(),
                    values,
                    patterns: Vec::new(),
                };
                (self.doc.variables.define(index, var), id)
            }
        };
        if defined {
            Ok(())
        } else {
            Err(ParseError::DuplicateId {
                id,
                position: self.position,
            })
        }
    }

    /// After the whole document is read: compile the values of variables
    /// used as patterns (only known once every user has been seen). A
    /// textfilecontent54 `pattern` is matched line-wise (OVAL's default
    /// `multiline` behaviour).
    pub(crate) fn link(&mut self) {
        let mut uses: Vec<(VarId, bool)> = Vec::new();
        for o in self.doc.objects.defined() {
            for f in &o.fields {
                if let (Operation::PatternMatch, FieldValue::Variable { var, .. }) =
                    (f.operation, &f.value)
                {
                    let multiline =
                        o.kind == TestKind::TextFileContent54 && f.name == FieldName::Pattern;
                    uses.push((*var, multiline));
                }
            }
        }
        for s in self.doc.states.defined() {
            for f in &s.fields {
                if let (Operation::PatternMatch, FieldValue::Variable { var, .. }) =
                    (f.operation, &f.value)
                {
                    uses.push((*var, false));
                }
            }
        }
        uses.sort_unstable_by_key(|(v, _)| *v);
        uses.dedup_by_key(|(v, _)| *v);
        for (var, multiline) in uses {
            let values = match self.doc.variables.get(var.0) {
                Some(Variable::Constant { values, .. }) => values.clone(),
                _ => continue,
            };
            let compiled: Vec<_> = values
                .iter()
                .map(|v| self.doc.compile_pattern(v, multiline))
                .collect();
            if let Some(Variable::Constant { patterns, .. }) = self.doc.variables.get_mut(var.0) {
                *patterns = compiled;
            }
        }
    }
}
