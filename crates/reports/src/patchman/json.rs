//! Protocol 2: the JSON body of `patchman-client -p 2`.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::{client, package, reboot_hint, set_priority, tags, unquirk, update, updates};
use crate::error::ReportError;
use crate::model::{Protocol, Report, Repository};
use crate::validate;

/// Key for errors that are not about one field, as Django REST framework
/// (which Patchman's server uses) names it.
const NON_FIELD: &str = "non_field_errors";

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    protocol: Option<Value>,
    hostname: Option<String>,
    arch: Option<String>,
    kernel: Option<String>,
    os: Option<String>,
    #[serde(default)]
    tags: Option<Tags>,
    #[serde(default)]
    reboot_required: Option<Flag>,
    #[serde(default)]
    packages: Option<Vec<WirePackage>>,
    #[serde(default)]
    repos: Option<Vec<WireRepo>>,
    #[serde(default)]
    #[allow(dead_code)]
    modules: IgnoredAny,
    #[serde(default)]
    sec_updates: Option<Vec<WireUpdate>>,
    #[serde(default)]
    bug_updates: Option<Vec<WireUpdate>>,
}

/// Tags as a list or, from older clients, one comma-separated string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Tags {
    List(Vec<String>),
    Text(String),
}

/// `reboot_required` as a JSON boolean or the protocol 1 words.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

/// An epoch or priority some clients send as a number.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Scalar {
    #[default]
    Null,
    Text(String),
    Number(serde_json::Number),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Null => String::new(),
            Scalar::Text(s) => s.clone(),
            Scalar::Number(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct WirePackage {
    name: String,
    #[serde(default)]
    epoch: Scalar,
    version: String,
    #[serde(default)]
    release: String,
    #[serde(default)]
    arch: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    category: String,
}

#[derive(Deserialize)]
struct WireRepo {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    priority: Scalar,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(Deserialize)]
struct WireUpdate {
    name: String,
    version: String,
    #[serde(default)]
    arch: String,
    #[serde(default)]
    repo: String,
}

/// Parses and validates a protocol 2 body. Field errors carry the JSON path
/// (`packages[3].type`) as their field, which [`v2_error_body`] reports.
pub fn parse_v2(body: &[u8]) -> Result<Report, ReportError> {
    // serde would read a JSON array as a struct's fields in order.
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(&first) if first != b'{' => {
            return Err(ReportError::Malformed(format!(
                "invalid JSON report: expected an object, found {}",
                if first.is_ascii_graphic() {
                    format!("`{}`", char::from(first))
                } else {
                    format!("byte 0x{first:02x}")
                }
            )));
        }
        _ => {}
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let wire: Wire = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Broken JSON has no meaningful path (serde_path_to_error says `?`).
        if inner.is_syntax() || inner.is_eof() || path == "." || path.is_empty() {
            ReportError::Malformed(format!("invalid JSON report: {inner}"))
        } else {
            ReportError::invalid(path, inner.to_string())
        }
    })?;
    match &wire.protocol {
        Some(p) if !(p == 2 || p == "2") => {
            return Err(ReportError::invalid(
                "protocol",
                format!("expected 2, found {p}"),
            ));
        }
        _ => {}
    }
    let required = |field: &str, value: Option<String>| match value {
        None => Err(ReportError::invalid(field, "This field is required.")),
        Some(v) if v.trim().is_empty() => Err(ReportError::invalid(field, "may not be blank")),
        Some(v) => Ok(v.trim().to_owned()),
    };
    let hostname = required("hostname", wire.hostname)?;
    let arch = required("arch", wire.arch)?;
    let kernel = required("kernel", wire.kernel)?;
    let os_string = required("os", wire.os)?;

    let mut report = Report::new(Protocol::Patchman2, hostname);
    report.arch = arch;
    report.kernel.release = unquirk(&kernel);
    report.os_string = os_string;
    report.tags = match &wire.tags {
        None => Vec::new(),
        Some(Tags::List(list)) => tags(list.iter().map(String::as_str)),
        Some(Tags::Text(text)) => tags(text.split(',')),
    };
    report.reboot = reboot_hint(match wire.reboot_required {
        None => None,
        Some(Flag::Bool(b)) => Some(b),
        Some(Flag::Text(t)) => match t.trim() {
            "True" | "true" | "1" => Some(true),
            "False" | "false" | "0" => Some(false),
            "" | "ServerCheck" => None,
            other => {
                return Err(ReportError::invalid(
                    "reboot_required",
                    format!("unknown value `{other}`; expected true or false"),
                ));
            }
        },
    });

    report.packages = match wire.packages {
        None => None,
        Some(list) if list.is_empty() => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                let epoch = p.epoch.text();
                let parsed = package(
                    &p.name,
                    &epoch,
                    &p.version,
                    &p.release,
                    &p.arch,
                    &p.kind,
                    &p.category,
                )
                .map_err(|problem| ReportError::invalid(format!("packages[{i}]"), problem))?;
                out.extend(parsed);
            }
            Some(out)
        }
    };
    report.repositories = match wire.repos {
        None => None,
        Some(list) if list.is_empty() => None,
        Some(list) => Some(
            list.into_iter()
                .enumerate()
                .map(|(i, r)| {
                    repository(r).map_err(|p| ReportError::invalid(format!("repos[{i}]"), p))
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let convert = |list: Option<Vec<WireUpdate>>| {
        list.unwrap_or_default()
            .iter()
            .map(|u| update(&u.name, &u.arch, &u.version, &u.repo))
            .collect()
    };
    report.updates = updates(convert(wire.sec_updates), convert(wire.bug_updates));
    report.client = client();
    validate::report(&mut report)?;
    Ok(report)
}

fn repository(r: WireRepo) -> Result<Repository, String> {
    let mut repo = Repository {
        kind: super::package_type(&r.kind)?,
        name: r.name.trim().to_owned(),
        id: r.id.trim().to_owned(),
        priority: None,
        urls: r
            .urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect(),
        ..Repository::new(super::package_type(&r.kind)?)
    };
    set_priority(&mut repo, r.priority.text().trim())?;
    Ok(repo)
}

/// The `400` body for a refused protocol 2 report:
/// `{"status": "error", "errors": {"field": ["message"]}}`.
pub fn v2_error_body(err: &ReportError) -> Value {
    let (field, message) = match err {
        ReportError::Invalid { field, problem } => (field.clone(), problem.clone()),
        other => (NON_FIELD.to_owned(), other.to_string()),
    };
    json!({ "status": "error", "errors": { field: [message] } })
}
