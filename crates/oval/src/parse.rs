//! Streaming OVAL reader: one pass over the XML with a single reused event
//! buffer, so memory stays proportional to the resulting document, not to
//! the size of the file.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::criteria::{Criteria, Operator};
use crate::definition::{Class, Definition, Reference};
use crate::document::{DefId, Document, TestId, VarId};
use crate::error::ParseError;
use crate::state::{Check, Datatype, FieldName, Operation, State};
use crate::test::{Object, Test};

/// Longest text kept for one element. Descriptions are the only long texts
/// in real feeds (a few KiB); the cap bounds memory on hostile input.
const MAX_TEXT: usize = 1 << 20;
/// Deepest criteria nesting accepted (real feeds stay under 10).
const MAX_CRITERIA_DEPTH: usize = 128;

/// Where the reader is, as far as the parser cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Root,
    Generator,
    GenProduct,
    GenSchema,
    GenTimestamp,
    Definitions,
    Definition,
    Metadata,
    Title,
    Description,
    Affected,
    Platform,
    Advisory,
    Severity,
    Cve,
    AffectedCpeList,
    Cpe,
    Debian,
    DebianDate,
    DebianDsa,
    Criteria,
    Tests,
    Objects,
    States,
    Variables,
    /// A test, object, state or variable element.
    Item,
    /// An entity of an item (`<name>`, `<evr>`, `<value>`, …).
    Field,
    Other,
}

/// An entity being read, finished at its end tag.
pub(crate) struct PendingField {
    pub(crate) name: FieldName,
    pub(crate) datatype: Datatype,
    pub(crate) operation: Operation,
    pub(crate) var: Option<(VarId, Check)>,
    pub(crate) entity_check: Check,
}

pub(crate) enum Pending {
    None,
    Test(u32, Test),
    Object(u32, Object),
    State(u32, State),
    Constant {
        index: u32,
        id: String,
        values: Vec<String>,
    },
}

struct CriteriaFrame {
    operator: Operator,
    negate: bool,
    applicability_check: bool,
    children: Vec<Criteria>,
}

pub(crate) struct Parser {
    pub(crate) doc: Document,
    stack: Vec<Tag>,
    text: String,
    def: Option<(DefId, Definition)>,
    criteria: Vec<CriteriaFrame>,
    pub(crate) pending: Pending,
    pub(crate) field: Option<PendingField>,
    pub(crate) position: u64,
    saw_root: bool,
}

/// Reads an OVAL definitions document from XML.
pub fn parse<R: BufRead>(input: R) -> Result<Document, ParseError> {
    let mut reader = Reader::from_reader(input);
    let mut p = Parser {
        doc: Document::default(),
        stack: Vec::with_capacity(16),
        text: String::new(),
        def: None,
        criteria: Vec::new(),
        pending: Pending::None,
        field: None,
        position: 0,
        saw_root: false,
    };
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        p.position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ParseError::Xml {
                position: reader.error_position(),
                message: e.to_string(),
            })?;
        match event {
            Event::Start(e) => p.start(&e)?,
            // `<criterion …/>`: a start immediately followed by its end.
            Event::Empty(e) => {
                p.start(&e)?;
                p.end()?;
            }
            Event::End(_) => p.end()?,
            Event::Text(t) => {
                let s = t.decode().map_err(|e| p.xml_error(e))?;
                p.push_text(&s);
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| p.xml_error(e))?;
                p.push_text(&s);
            }
            Event::GeneralRef(r) => {
                let s = resolve_ref(&r).map_err(|m| p.xml_error(m))?;
                p.push_text(&s);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !p.saw_root {
        return Err(ParseError::NotOval {
            element: String::from("(empty document)"),
        });
    }
    if !p.stack.is_empty() {
        return Err(ParseError::Xml {
            position: p.position,
            message: "unexpected end of document".into(),
        });
    }
    p.link();
    Ok(p.doc)
}

impl Document {
    /// Reads an OVAL document from XML.
    pub fn from_reader<R: BufRead>(input: R) -> Result<Document, ParseError> {
        parse(input)
    }

    /// Reads an OVAL file, decompressing bzip2 and xz (recognised by their
    /// magic bytes, as feeds are published both ways).
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Document, ParseError> {
        let path = path.as_ref();
        let io = |source| ParseError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file =
            std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(path).map_err(io)?);
        let magic = file.fill_buf().map_err(io)?;
        if magic.starts_with(b"BZh") {
            parse(std::io::BufReader::new(bzip2::bufread::BzDecoder::new(
                file,
            )))
        } else if magic.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
            parse(std::io::BufReader::new(xz2::bufread::XzDecoder::new(file)))
        } else {
            parse(file)
        }
    }
}

fn resolve_ref(r: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(|e| e.to_string())?;
    quick_xml::escape::resolve_xml_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| format!("unknown entity &{name};"))
}

/// Attribute `name` (local part) of an element, unescaped.
fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.local_name().as_ref() == name.as_bytes() {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| e.to_string())?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

pub(crate) fn is_true(v: Option<&str>) -> bool {
    matches!(v, Some("true") | Some("1"))
}

impl Parser {
    pub(crate) fn xml_error(&self, e: impl ToString) -> ParseError {
        ParseError::Xml {
            position: self.position,
            message: e.to_string(),
        }
    }

    fn push_text(&mut self, s: &str) {
        if self.text.len() + s.len() <= MAX_TEXT {
            self.text.push_str(s);
        }
    }

    pub(crate) fn attr(
        &self,
        e: &BytesStart<'_>,
        name: &str,
    ) -> Result<Option<String>, ParseError> {
        attr(e, name).map_err(|m| self.xml_error(m))
    }

    pub(crate) fn required(
        &self,
        e: &BytesStart<'_>,
        local: &str,
        name: &'static str,
    ) -> Result<String, ParseError> {
        self.attr(e, name)?
            .ok_or_else(|| ParseError::MissingAttribute {
                element: local.to_owned(),
                attribute: name,
                position: self.position,
            })
    }

    pub(crate) fn invalid(
        &self,
        element: &str,
        id: &str,
        attribute: &'static str,
        value: &str,
    ) -> ParseError {
        ParseError::InvalidAttribute {
            element: element.to_owned(),
            id: id.to_owned(),
            attribute,
            value: value.to_owned(),
            position: self.position,
        }
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), ParseError> {
        self.text.clear();
        let name = e.local_name();
        let local = std::str::from_utf8(name.as_ref()).map_err(|m| self.xml_error(m))?;
        let in_def = self.def.is_some();
        let tag = match self.stack.last().copied() {
            None => {
                if local != "oval_definitions" || self.saw_root {
                    return Err(ParseError::NotOval {
                        element: local.to_owned(),
                    });
                }
                self.saw_root = true;
                Tag::Root
            }
            Some(Tag::Root) => match local {
                "generator" => Tag::Generator,
                "definitions" => Tag::Definitions,
                "tests" => Tag::Tests,
                "objects" => Tag::Objects,
                "states" => Tag::States,
                "variables" => Tag::Variables,
                _ => Tag::Other,
            },
            Some(Tag::Generator) => match local {
                "product_name" => Tag::GenProduct,
                "schema_version" => Tag::GenSchema,
                "timestamp" => Tag::GenTimestamp,
                _ => Tag::Other,
            },
            Some(Tag::Definitions) if local == "definition" => {
                self.start_definition(e)?;
                Tag::Definition
            }
            Some(Tag::Definition) if local == "metadata" => Tag::Metadata,
            Some(Tag::Definition) | Some(Tag::Criteria) if in_def => {
                self.criteria_element(e, local)?
            }
            Some(Tag::Metadata) => match local {
                "title" => Tag::Title,
                "description" => Tag::Description,
                "advisory" => Tag::Advisory,
                "affected" => Tag::Affected,
                "debian" => Tag::Debian,
                "reference" => {
                    self.reference(e)?;
                    Tag::Other
                }
                _ => Tag::Other,
            },
            Some(Tag::Affected) if local == "platform" => Tag::Platform,
            Some(Tag::Debian) => match local {
                "date" => Tag::DebianDate,
                "dsa" => Tag::DebianDsa,
                _ => Tag::Other,
            },
            Some(Tag::Advisory) => match local {
                "severity" => Tag::Severity,
                "affected_cpe_list" => Tag::AffectedCpeList,
                "issued" | "updated" => {
                    let date = self.attr(e, "date")?;
                    if let Some((_, d)) = &mut self.def {
                        if local == "issued" {
                            d.issued = date;
                        } else {
                            d.updated = date;
                        }
                    }
                    Tag::Other
                }
                "cve" => {
                    // Ubuntu rates each CVE with a priority; it stands in
                    // for the severity when the advisory has none.
                    let prio = self.attr(e, "priority")?;
                    if let (Some((_, d)), Some(p)) = (&mut self.def, prio) {
                        d.severity.get_or_insert(capitalize(&p));
                    }
                    Tag::Cve
                }
                _ => Tag::Other,
            },
            Some(Tag::AffectedCpeList) if local == "cpe" => Tag::Cpe,
            Some(Tag::Tests) => {
                self.start_test(local, e)?;
                Tag::Item
            }
            Some(Tag::Objects) => {
                self.start_object(local, e)?;
                Tag::Item
            }
            Some(Tag::States) => {
                self.start_state(local, e)?;
                Tag::Item
            }
            Some(Tag::Variables) => {
                self.start_variable(local, e)?;
                Tag::Item
            }
            Some(Tag::Item) => {
                self.start_field(local, e)?;
                Tag::Field
            }
            _ => Tag::Other,
        };
        self.stack.push(tag);
        Ok(())
    }

    fn end(&mut self) -> Result<(), ParseError> {
        let Some(tag) = self.stack.pop() else {
            return Ok(());
        };
        let text = std::mem::take(&mut self.text);
        match tag {
            Tag::Definition => self.finish_definition()?,
            Tag::Criteria => self.finish_criteria(),
            Tag::Item => self.finish_item()?,
            Tag::Field => self.finish_field(text),
            Tag::GenProduct => self.doc.generator.product_name = Some(text.trim().to_owned()),
            Tag::GenSchema => self.doc.generator.schema_version = Some(text.trim().to_owned()),
            Tag::GenTimestamp => self.doc.generator.timestamp = Some(text.trim().to_owned()),
            _ => {
                if let Some((_, d)) = &mut self.def {
                    metadata_text(d, tag, text);
                }
            }
        }
        Ok(())
    }

    fn start_definition(&mut self, e: &BytesStart<'_>) -> Result<(), ParseError> {
        let id = self.required(e, "definition", "id")?;
        let class_attr = self.required(e, "definition", "class")?;
        let class = Class::parse(&class_attr)
            .ok_or_else(|| self.invalid("definition", &id, "class", &class_attr))?;
        let n = DefId(self.doc.definitions.intern(&id));
        let mut d = Definition::new(id, class);
        d.version = self.attr(e, "version")?;
        self.def = Some((n, d));
        self.criteria.clear();
        Ok(())
    }

    fn finish_definition(&mut self) -> Result<(), ParseError> {
        if let Some((n, d)) = self.def.take() {
            let id = d.id.clone();
            if !self.doc.definitions.define(n.0, d) {
                return Err(ParseError::DuplicateId {
                    id,
                    position: self.position,
                });
            }
        }
        Ok(())
    }

    fn reference(&mut self, e: &BytesStart<'_>) -> Result<(), ParseError> {
        let source = self.attr(e, "source")?.unwrap_or_default();
        let ref_id = self.attr(e, "ref_id")?.unwrap_or_default();
        let ref_url = self.attr(e, "ref_url")?;
        if let Some((_, d)) = &mut self.def {
            match source.as_str() {
                "CVE" => d.add_cve(&ref_id),
                "Package" => {}
                _ => d.add_advisory(&ref_id),
            }
            d.references.push(Reference {
                source,
                ref_id,
                ref_url,
            });
        }
        Ok(())
    }

    /// `criteria`, `criterion` or `extend_definition` inside a definition.
    fn criteria_element(&mut self, e: &BytesStart<'_>, local: &str) -> Result<Tag, ParseError> {
        let negate = is_true(self.attr(e, "negate")?.as_deref());
        let applicability_check = is_true(self.attr(e, "applicability_check")?.as_deref());
        let id = self
            .def
            .as_ref()
            .map(|(_, d)| d.id.clone())
            .unwrap_or_default();
        let node = match local {
            "criteria" => {
                if self.criteria.len() >= MAX_CRITERIA_DEPTH {
                    return Err(ParseError::TooDeep {
                        id,
                        limit: MAX_CRITERIA_DEPTH,
                        position: self.position,
                    });
                }
                let operator = match self.attr(e, "operator")? {
                    None => Operator::And,
                    Some(op) => Operator::parse(&op)
                        .ok_or_else(|| self.invalid("criteria", &id, "operator", &op))?,
                };
                self.criteria.push(CriteriaFrame {
                    operator,
                    negate,
                    applicability_check,
                    children: Vec::new(),
                });
                return Ok(Tag::Criteria);
            }
            "criterion" => {
                let test = self.required(e, "criterion", "test_ref")?;
                Criteria::Criterion {
                    test: TestId(self.doc.tests.intern(&test)),
                    negate,
                    applicability_check,
                }
            }
            "extend_definition" => {
                let def = self.required(e, "extend_definition", "definition_ref")?;
                Criteria::Extend {
                    definition: DefId(self.doc.definitions.intern(&def)),
                    negate,
                    applicability_check,
                }
            }
            _ => return Ok(Tag::Other),
        };
        self.attach(node);
        Ok(Tag::Other)
    }

    fn attach(&mut self, node: Criteria) {
        if let Some(frame) = self.criteria.last_mut() {
            frame.children.push(node);
        } else if let Some((_, d)) = &mut self.def {
            // Only one top-level criteria is allowed; a stray top-level
            // criterion (not valid OVAL) is kept rather than dropped.
            d.criteria = Some(match d.criteria.take() {
                None => node,
                Some(prev) => Criteria::Node {
                    operator: Operator::And,
                    negate: false,
                    applicability_check: false,
                    children: vec![prev, node],
                },
            });
        }
    }

    fn finish_criteria(&mut self) {
        if let Some(f) = self.criteria.pop() {
            self.attach(Criteria::Node {
                operator: f.operator,
                negate: f.negate,
                applicability_check: f.applicability_check,
                children: f.children,
            });
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn metadata_text(d: &mut Definition, tag: Tag, text: String) {
    match tag {
        Tag::Title => d.title = text.trim().to_owned(),
        Tag::Description => d.description = text.trim().to_owned(),
        Tag::Platform => d.platforms.push(text.trim().to_owned()),
        // An explicit severity wins over the Ubuntu CVE priority.
        Tag::Severity => d.severity = Some(text.trim().to_owned()),
        Tag::Cve => d.add_cve(&text),
        Tag::Cpe => {
            let t = text.trim();
            if !t.is_empty() {
                d.affected_cpes.push(t.to_owned());
            }
        }
        Tag::DebianDate if d.issued.is_none() => {
            d.issued = Some(text.trim().to_owned());
        }
        Tag::DebianDsa => d.add_advisory(&text),
        _ => {}
    }
}
