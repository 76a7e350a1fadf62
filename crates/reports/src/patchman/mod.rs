//! `patchman-client`: protocol 1 (multipart form, [`parse_v1`]) and protocol
//! 2 (JSON, [`parse_v2`]), and the `report=true` summary ([`summary`]).
//!
//! Decisions shared by both protocols:
//! - An empty (or absent) package or repository list means "unchanged since
//!   the last report" and becomes `None`; the client sends that from package
//!   manager hooks.
//! - A lone `Default` tag is what the client sends when no tag is configured;
//!   it becomes no tags.
//! - `%2b` is the client's encoding of `+` in kernels, names and versions.
//! - Module streams (RHEL 8+) are accepted and dropped: the model has no
//!   place for them and the assessment works from the package list.
//! - `bug_updates` repeat the security updates; the repeats are dropped and
//!   the rest marked non-security.
//! - Package type `arch` is pacman. Gentoo packages are named
//!   `category/name`; their SLOT (sent in the epoch field) is dropped and a
//!   revision is kept in the version (`1.2.3-r1`), as Gentoo writes it.

mod json;
pub(crate) mod quoted;
mod write;

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::error::ReportError;
use crate::model::{
    ClientInfo, ClientUpdate, Package, PackageType, Protocol, RebootHint, Report, Repository,
};
use crate::os;
use crate::validate;

pub use json::{parse_v2, v2_error_body};
pub use write::{to_v1_fields, to_v2_json};

/// Why a report says a reboot is required.
const REBOOT_REASON: &str = "patchman-client saw /var/run/reboot-required or a newer kernel";

/// Parses and validates a protocol 1 form (text parts already extracted by
/// the server). Returns the report and whether the client asked for the
/// `report=true` summary reply.
pub fn parse_v1(fields: &[(String, String)]) -> Result<(Report, bool), ReportError> {
    let get = |name: &str| crate::form::field(fields, name);
    let host = crate::form::host(fields)?;
    let wants_summary = match get("report").map(str::trim).unwrap_or_default() {
        "" | "false" | "False" | "0" => false,
        "true" | "True" | "1" => true,
        other => {
            return Err(ReportError::invalid(
                "report",
                format!("unknown value `{other}`; expected true or false"),
            ));
        }
    };
    let reboot = match get("reboot").map(str::trim).unwrap_or_default() {
        "" | "ServerCheck" => None,
        "True" | "true" | "1" => Some(true),
        "False" | "false" | "0" => Some(false),
        other => {
            return Err(ReportError::invalid(
                "reboot",
                format!("unknown value `{other}`; expected True or ServerCheck"),
            ));
        }
    };

    let mut report = Report::new(Protocol::Patchman1, host);
    report.tags = tags(get("tags").unwrap_or_default().split(','));
    report.kernel.release = unquirk(get("kernel").unwrap_or_default().trim());
    report.arch = get("arch").map(str::trim).unwrap_or_default().to_owned();
    report.os_string = get("os").map(str::trim).unwrap_or_default().to_owned();
    report.reboot = reboot_hint(reboot);
    report.packages = lines_or_unchanged(get("packages"), "packages", package_line)?;
    report.repositories = lines_or_unchanged(get("repos"), "repos", repo_line)?;
    report.updates = updates(
        triples("sec_updates", get("sec_updates").unwrap_or_default())?,
        triples("bug_updates", get("bug_updates").unwrap_or_default())?,
    );
    report.client = client();
    validate::report(&mut report)?;
    Ok((report, wants_summary))
}

/// The human-readable `report=true` reply: what the server recorded.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    let os = os::normalise(&report.os, &report.os_string);
    let _ = writeln!(out, "Host: {}", report.hostname);
    let _ = writeln!(out, "OS: {} ({os})", report.os_string);
    let _ = writeln!(out, "Kernel: {}", report.kernel.release);
    let _ = writeln!(out, "Arch: {}", report.arch);
    let _ = writeln!(out, "Tags: {}", report.tags.join(", "));
    match &report.repositories {
        None => out.push_str("Repos: unchanged\n"),
        Some(repos) => {
            let _ = writeln!(out, "Repos: {}", repos.len());
            for r in repos {
                let priority = r.priority.map(|p| p.to_string()).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {} {} {} {} {}",
                    r.kind,
                    r.name,
                    r.id,
                    priority,
                    r.urls.join(" ")
                );
            }
        }
    }
    match &report.packages {
        None => out.push_str("Packages: unchanged\n"),
        Some(packages) => {
            let _ = writeln!(out, "Packages: {}", packages.len());
            for p in packages {
                let _ = writeln!(out, "  {} {} {} {}", p.name, p.evr(), p.arch, p.kind);
            }
        }
    }
    out
}

fn client() -> ClientInfo {
    ClientInfo {
        name: "patchman-client".into(),
        version: String::new(),
    }
}

fn reboot_hint(required: Option<bool>) -> RebootHint {
    RebootHint {
        required,
        reasons: if required == Some(true) {
            vec![REBOOT_REASON.to_owned()]
        } else {
            Vec::new()
        },
    }
}

fn tags<'a>(raw: impl Iterator<Item = &'a str>) -> Vec<String> {
    let tags: Vec<String> = raw
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if tags.len() == 1 && tags.first().is_some_and(|t| t == "Default") {
        return Vec::new();
    }
    tags
}

/// Undoes the client's `+` -> `%2b`.
fn unquirk(s: &str) -> String {
    if s.contains('%') {
        s.replace("%2b", "+").replace("%2B", "+")
    } else {
        s.to_owned()
    }
}

/// Parses each non-blank line of a list field; an empty field is `None`.
fn lines_or_unchanged<T>(
    value: Option<&str>,
    field: &str,
    parse: fn(&[&str]) -> Result<Option<T>, String>,
) -> Result<Option<Vec<T>>, ReportError> {
    let value = value.unwrap_or_default();
    if value.trim().is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (i, line) in value.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at =
            |problem: String| ReportError::Malformed(format!("{field} line {}: {problem}", i + 1));
        let fields = quoted::split(line).map_err(at)?;
        if let Some(item) = parse(&fields).map_err(at)? {
            out.push(item);
        }
    }
    Ok(Some(out))
}

fn package_line(fields: &[&str]) -> Result<Option<Package>, String> {
    match *fields {
        [name, epoch, version, release, arch, kind] => {
            package(name, epoch, version, release, arch, kind, "")
        }
        [name, slot, version, release, arch, kind, category, _repo] => {
            package(name, slot, version, release, arch, kind, category)
        }
        _ => Err(format!(
            "{} fields, expected 'name' 'epoch' 'version' 'release' 'arch' 'type' \
             (8 for gentoo)",
            fields.len()
        )),
    }
}

/// One package from the fields both protocols send. `None` for gpg-pubkey.
fn package(
    name: &str,
    epoch: &str,
    version: &str,
    release: &str,
    arch: &str,
    kind: &str,
    category: &str,
) -> Result<Option<Package>, String> {
    let kind = package_type(kind)?;
    let name = unquirk(name.trim());
    if name.is_empty() {
        return Err("package name is empty".into());
    }
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = unquirk(version.trim());
    if version.is_empty() {
        return Err(format!("version of package `{name}` is empty"));
    }
    let release = unquirk(release.trim());
    let mut p = Package {
        name,
        epoch: unquirk(epoch),
        version,
        release,
        arch: arch.trim().to_owned(),
        kind,
        source_name: String::new(),
        source_version: String::new(),
    };
    if kind == PackageType::Gentoo {
        let category = category.trim();
        if !category.is_empty() {
            p.name = format!("{category}/{}", p.name);
        }
        p.epoch.clear();
        if !p.release.is_empty() {
            p.version = format!("{}-{}", p.version, p.release);
            p.release.clear();
        }
    }
    p.normalise();
    Ok(Some(p))
}

fn package_type(kind: &str) -> Result<PackageType, String> {
    match kind.trim() {
        "deb" => Ok(PackageType::Deb),
        "rpm" => Ok(PackageType::Rpm),
        "arch" | "pacman" => Ok(PackageType::Pacman),
        "gentoo" => Ok(PackageType::Gentoo),
        other => Err(format!(
            "unknown package type `{other}`, expected deb, rpm, arch or gentoo"
        )),
    }
}

fn repo_line(fields: &[&str]) -> Result<Option<Repository>, String> {
    let Some((&kind, rest)) = fields.split_first() else {
        return Ok(None);
    };
    let (name, id, priority, urls) = match (kind, rest) {
        ("deb", [name, priority, urls @ ..]) => (*name, "", *priority, urls),
        ("rpm" | "gentoo", [name, id, priority, urls @ ..]) => (*name, *id, *priority, urls),
        ("arch", [name, id, urls @ ..]) => (*name, *id, "", urls),
        ("deb" | "rpm" | "arch" | "gentoo", _) => {
            return Err(format!(
                "{} fields are too few for a `{kind}` repository",
                fields.len()
            ));
        }
        (other, _) => {
            return Err(format!(
                "unknown repository type `{other}`, expected deb, rpm, arch or gentoo"
            ));
        }
    };
    let mut repo = Repository {
        kind: package_type(kind)?,
        name: name.trim().to_owned(),
        id: id.trim().to_owned(),
        priority: None,
        urls: urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect(),
        ..Repository::new(package_type(kind)?)
    };
    set_priority(&mut repo, priority.trim())?;
    Ok(Some(repo))
}

/// Reads a priority; a URL where the priority belongs (a known Arch client
/// quirk) is moved to the URLs.
fn set_priority(repo: &mut Repository, priority: &str) -> Result<(), String> {
    if priority.is_empty() {
        return Ok(());
    }
    if let Ok(n) = priority.parse::<i64>() {
        repo.priority = Some(n);
    } else if priority.contains("://") {
        if !repo.urls.iter().any(|u| u == priority) {
            repo.urls.insert(0, priority.to_owned());
        }
    } else {
        return Err(format!("priority `{priority}` is not a number"));
    }
    Ok(())
}

/// Whitespace-separated `name.arch version repo` triples.
fn triples(field: &str, value: &str) -> Result<Vec<ClientUpdate>, ReportError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if !words.chunks_exact(3).remainder().is_empty() {
        return Err(ReportError::invalid(
            field,
            format!(
                "has {} words, expected triples of name.arch, version, repository",
                words.len()
            ),
        ));
    }
    Ok(words
        .chunks_exact(3)
        .filter_map(|t| match *t {
            [name_arch, version, repo] => Some(update(name_arch, "", version, repo)),
            _ => None,
        })
        .collect())
}

/// An update as the client computed it; `arch` empty means it is still part
/// of `name` (`openssl.x86_64`).
fn update(name: &str, arch: &str, version: &str, repo: &str) -> ClientUpdate {
    let name = unquirk(name.trim());
    let (name, arch) = if arch.trim().is_empty() {
        match name.rsplit_once('.') {
            Some((n, a)) if !n.is_empty() => (n.to_owned(), a.to_owned()),
            _ => (name, String::new()),
        }
    } else {
        (name, arch.trim().to_owned())
    };
    ClientUpdate {
        name,
        version: unquirk(version.trim()),
        arch,
        repo: repo.trim().to_owned(),
        security: false,
    }
}

/// Security updates first, then the bug-fix updates that do not repeat one.
fn updates(security: Vec<ClientUpdate>, bugfix: Vec<ClientUpdate>) -> Vec<ClientUpdate> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(security.len() + bugfix.len());
    for (is_security, list) in [(true, security), (false, bugfix)] {
        for mut u in list {
            u.security = is_security;
            if seen.insert((u.name.clone(), u.arch.clone(), u.version.clone())) {
                out.push(u);
            }
        }
    }
    out
}
