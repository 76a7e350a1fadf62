//! Items: what an object collects on the host, and the values of their
//! entities.

use std::borrow::Cow;

use crate::document::{Document, PatternId};
use crate::host::{Host, InstalledPackage, PackageFormat, Uname, normalize_path};
use crate::ordering::Orderings;
use crate::state::{Check, Datatype, FieldName, FieldValue, Operation};
use crate::test::{Object, ObjectField, TestKind};
use crate::verdict::{Verdict, combine_check};

/// One collected item.
#[derive(Debug, Clone)]
pub(crate) enum Item<'h> {
    Package(&'h InstalledPackage),
    Text {
        path: String,
        instance: usize,
        text: String,
        subexpressions: Vec<String>,
    },
    Uname(&'h Uname),
    Family(&'h str),
    Value(String),
}

impl Item<'_> {
    /// The values of entity `name`; `None` when the item has no such entity
    /// (or the host does not know it, e.g. an unreported signature key).
    pub(crate) fn values(&self, name: &FieldName) -> Option<Vec<Cow<'_, str>>> {
        let one = |s: &str| Some(vec![Cow::Owned(s.to_owned())]);
        match (self, name) {
            (Item::Package(p), FieldName::Name) => Some(vec![Cow::Borrowed(&p.name)]),
            (Item::Package(p), FieldName::Epoch) => one(p.epoch.as_deref().unwrap_or("0")),
            (Item::Package(p), FieldName::Version) => Some(vec![Cow::Borrowed(&p.version)]),
            (Item::Package(p), FieldName::Release) => {
                p.release.as_deref().map(|r| vec![Cow::Borrowed(r)])
            }
            (Item::Package(p), FieldName::Arch) => Some(vec![Cow::Borrowed(&p.arch)]),
            (Item::Package(p), FieldName::Evr) => Some(vec![Cow::Owned(p.evr())]),
            (Item::Package(p), FieldName::SignatureKeyid) => {
                p.signature_keyid.as_deref().map(|k| vec![Cow::Borrowed(k)])
            }
            (Item::Text { text, .. }, FieldName::Text) => Some(vec![Cow::Borrowed(text)]),
            (Item::Text { subexpressions, .. }, FieldName::Subexpression) => Some(
                subexpressions
                    .iter()
                    .map(|s| Cow::Borrowed(s.as_str()))
                    .collect(),
            ),
            (Item::Text { instance, .. }, FieldName::Instance) => {
                Some(vec![Cow::Owned(instance.to_string())])
            }
            (Item::Text { path, .. }, FieldName::Filepath) => Some(vec![Cow::Borrowed(path)]),
            (Item::Uname(u), FieldName::OsName) => one(&u.os_name),
            (Item::Uname(u), FieldName::NodeName) => one(&u.node_name),
            (Item::Uname(u), FieldName::OsRelease) => one(&u.os_release),
            (Item::Uname(u), FieldName::OsVersion) => one(&u.os_version),
            (Item::Uname(u), FieldName::MachineClass) => one(&u.machine_class),
            (Item::Uname(u), FieldName::ProcessorType) => one(&u.processor_type),
            (Item::Family(f), FieldName::Family) => one(f),
            (Item::Value(v), FieldName::Other(n)) if n == "value" => Some(vec![Cow::Borrowed(v)]),
            _ => None,
        }
    }

    /// The package an explanation names: the rpm/dpkg package, or for an
    /// OCI manifest line its first word without `:arch`.
    pub(crate) fn package_name(&self) -> Option<(&str, &str)> {
        match self {
            Item::Package(p) => Some((&p.name, &p.arch)),
            Item::Text { text, .. } => {
                let word = text.split_whitespace().next()?;
                Some(word.split_once(':').unwrap_or((word, "")))
            }
            _ => None,
        }
    }
}

/// Expected values of an entity with their patterns, and the check that
/// combines them.
pub(crate) type Expected<'d> = (Vec<(&'d str, Option<PatternId>)>, Check);

/// Expected values of an entity, with the compiled pattern of each when the
/// operation is `pattern match`.
pub(crate) fn expected<'d>(
    doc: &'d Document,
    value: &'d FieldValue,
) -> Result<Expected<'d>, String> {
    match value {
        FieldValue::Literal { text, pattern } => Ok((vec![(text.as_str(), *pattern)], Check::All)),
        FieldValue::Variable { var, var_check } => match doc.variable(*var) {
            Some(crate::document::Variable::Constant {
                values, patterns, ..
            }) => Ok((
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_str(), patterns.get(i).copied()))
                    .collect(),
                *var_check,
            )),
            Some(crate::document::Variable::Unsupported { id, kind }) => {
                Err(format!("{kind} {id} is not computed"))
            }
            None => Err(format!(
                "variable {} is not defined",
                doc.variable_name(*var)
            )),
        },
    }
}

/// One comparison: `actual` against each expected value, combined with the
/// values' check.
pub(crate) fn compare_values(
    doc: &Document,
    orderings: &Orderings<'_>,
    datatype: Datatype,
    op: Operation,
    actual: &str,
    expected: &[(&str, Option<PatternId>)],
    check: Check,
) -> Verdict {
    combine_check(
        expected.iter().map(|(text, pattern)| {
            if op == Operation::PatternMatch {
                match pattern.map(|p| doc.pattern(p)) {
                    Some(Ok(re)) => Verdict::from_bool(re.is_match(actual)),
                    _ => Verdict::Error,
                }
            } else {
                crate::ordering::compare(orderings, datatype, op, actual, text)
            }
        }),
        check,
    )
}

/// What collecting an object gave.
pub(crate) enum Collected<'h> {
    Items(Vec<Item<'h>>),
    /// Verdict for the whole test without looking at items (not applicable
    /// to this host, not evaluated, unknown).
    Verdict(Verdict, String),
}

fn literal<'o>(o: &'o Object, name: &FieldName) -> Option<&'o str> {
    match o.field(name).map(|f| &f.value) {
        Some(FieldValue::Literal { text, .. }) => Some(text),
        _ => None,
    }
}

/// Does an item satisfy an object's filtering entity?
fn field_matches(doc: &Document, ord: &Orderings<'_>, item: &Item<'_>, f: &ObjectField) -> Verdict {
    // An empty `pattern match` (Red Hat's rpmverifyfile objects) matches
    // anything, including an absent value such as the epoch of a package
    // that has none.
    if f.operation == Operation::PatternMatch
        && let FieldValue::Literal { text, .. } = &f.value
        && text.is_empty()
    {
        return Verdict::True;
    }
    let Some(actual) = item.values(&f.name) else {
        return Verdict::False;
    };
    let (exp, check) = match expected(doc, &f.value) {
        Ok(e) => e,
        Err(_) => return Verdict::Error,
    };
    combine_check(
        actual
            .iter()
            .map(|a| compare_values(doc, ord, f.datatype, f.operation, a, &exp, check)),
        Check::AtLeastOne,
    )
}

/// Collects the items of `object` on `host`. Only the entities that select
/// items are applied here; the states are compared by the caller.
pub(crate) fn collect<'h>(
    doc: &Document,
    ord: &Orderings<'_>,
    object: &Object,
    host: &'h dyn Host,
) -> Result<Collected<'h>, String> {
    if let Some(what) = &object.unsupported {
        return Err(format!("object {} uses {what}", object.id));
    }
    let mut items: Vec<Item<'h>> = Vec::new();
    match &object.kind {
        TestKind::RpmInfo | TestKind::DpkgInfo => {
            let wanted = if object.kind == TestKind::RpmInfo {
                PackageFormat::Rpm
            } else {
                PackageFormat::Dpkg
            };
            if host.package_format() != wanted {
                return Ok(Collected::Verdict(
                    Verdict::NotApplicable,
                    format!("{:?} object on a {:?} host", wanted, host.package_format()),
                ));
            }
            let name = object
                .field(&FieldName::Name)
                .ok_or_else(|| format!("object {} has no name", object.id))?;
            let mut candidates: Vec<&'h InstalledPackage> = Vec::new();
            if name.operation == Operation::Equals {
                // Fast path: look packages up by the names given.
                let (names, _) = expected(doc, &name.value)?;
                for (n, _) in names {
                    host.for_each_package_named(n, &mut |p| candidates.push(p));
                }
                candidates.sort_by_key(|a| std::ptr::from_ref(*a));
                candidates.dedup_by(|a, b| std::ptr::eq(*a, *b));
            } else {
                host.for_each_package(&mut |p| candidates.push(p));
            }
            items.extend(candidates.into_iter().map(Item::Package));
        }
        TestKind::RpmVerifyFile => {
            if host.package_format() != PackageFormat::Rpm {
                return Ok(Collected::Verdict(
                    Verdict::NotApplicable,
                    "rpmverifyfile on a non-rpm host".into(),
                ));
            }
            let path = literal(object, &FieldName::Filepath)
                .ok_or_else(|| format!("object {} has no literal filepath", object.id))?;
            let mut found: Vec<&'h InstalledPackage> = Vec::new();
            host.for_each_file_owner(path, &mut |p| found.push(p));
            items.extend(found.into_iter().map(Item::Package));
        }
        TestKind::TextFileContent54 => return collect_text(doc, object, host),
        TestKind::Uname => match &host.os().uname {
            Some(u) => items.push(Item::Uname(u)),
            None => {
                return Ok(Collected::Verdict(
                    Verdict::Unknown,
                    "running kernel not known".into(),
                ));
            }
        },
        TestKind::Family => items.push(Item::Family(&host.os().family)),
        TestKind::Variable => {
            let var = literal(object, &FieldName::Other("var_ref".into()))
                .ok_or_else(|| format!("object {} has no var_ref", object.id))?;
            let id = doc.variables.lookup(var).map(crate::document::VarId);
            let Some(crate::document::Variable::Constant { values, .. }) =
                id.and_then(|v| doc.variable(v))
            else {
                return Err(format!("variable {var} is not a constant_variable"));
            };
            items.extend(values.iter().cloned().map(Item::Value));
            return Ok(Collected::Items(items));
        }
        TestKind::Unknown => {
            return Ok(Collected::Verdict(Verdict::Unknown, "unknown_test".into()));
        }
        TestKind::Other(k) => {
            return Ok(Collected::Verdict(
                Verdict::NotEvaluated,
                format!("{k} objects are not collected"),
            ));
        }
    }
    // Apply the other selecting entities (name was used for the lookup but
    // is checked again: a pattern or a var_check may reject some).
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let mut ok = Verdict::True;
        for f in &object.fields {
            if matches!(f.name, FieldName::Filepath | FieldName::Other(_))
                && object.kind == TestKind::RpmVerifyFile
            {
                continue;
            }
            match field_matches(doc, ord, &item, f) {
                Verdict::True => {}
                Verdict::False => {
                    ok = Verdict::False;
                    break;
                }
                v => ok = v,
            }
        }
        match ok {
            Verdict::True => kept.push(item),
            Verdict::False => {}
            v => {
                return Ok(Collected::Verdict(
                    v,
                    format!("object {} could not be collected", object.id),
                ));
            }
        }
    }
    Ok(Collected::Items(kept))
}

/// textfilecontent54: every match of the pattern(s) in the file, numbered
/// from 1, filtered by the `instance` entity.
fn collect_text<'h>(
    doc: &Document,
    object: &Object,
    host: &'h dyn Host,
) -> Result<Collected<'h>, String> {
    let path = match literal(object, &FieldName::Filepath) {
        Some(p) => p.to_owned(),
        None => {
            let dir = literal(object, &FieldName::Path)
                .ok_or_else(|| format!("object {} has no path", object.id))?;
            let file = literal(object, &FieldName::Filename)
                .ok_or_else(|| format!("object {} has no filename", object.id))?;
            format!("{}/{file}", dir.trim_end_matches('/'))
        }
    };
    let path = normalize_path(&path).into_owned();
    let pattern = object
        .field(&FieldName::Pattern)
        .ok_or_else(|| format!("object {} has no pattern", object.id))?;
    let (patterns, _) = expected(doc, &pattern.value)?;
    let instance = object.field(&FieldName::Instance);
    let instance_expected = match instance {
        Some(f) => Some((f, expected(doc, &f.value)?)),
        None => None,
    };
    let Some(content) = host.file_content(&path) else {
        return Ok(Collected::Items(Vec::new()));
    };
    let mut items = Vec::new();
    for (_, pid) in &patterns {
        let re = match pid.map(|p| doc.pattern(p)) {
            Some(Ok(re)) => re,
            Some(Err(e)) => {
                return Err(format!(
                    "object {}: pattern does not compile: {e}",
                    object.id
                ));
            }
            None => {
                return Err(format!(
                    "object {}: pattern without a compiled form",
                    object.id
                ));
            }
        };
        for (n, caps) in re.captures_iter(&content).enumerate() {
            let number = n + 1;
            if let Some((f, (exp, check))) = &instance_expected {
                let ord = Orderings {
                    rpm: &|_: &str, _: &str| std::cmp::Ordering::Equal,
                    deb: &|_: &str, _: &str| std::cmp::Ordering::Equal,
                };
                let v = compare_values(
                    doc,
                    &ord,
                    Datatype::Int,
                    f.operation,
                    &number.to_string(),
                    exp,
                    *check,
                );
                match v {
                    Verdict::True => {}
                    Verdict::False => continue,
                    _ => return Err(format!("object {}: instance is not an integer", object.id)),
                }
            }
            items.push(Item::Text {
                path: path.clone(),
                instance: number,
                text: caps.get(0).map_or("", |m| m.as_str()).to_owned(),
                subexpressions: caps
                    .iter()
                    .skip(1)
                    .map(|m| m.map_or(String::new(), |m| m.as_str().to_owned()))
                    .collect(),
            });
        }
    }
    Ok(Collected::Items(items))
}
