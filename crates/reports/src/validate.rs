//! Checks every format's parsed report must pass before it is stored.

use crate::error::ReportError;
use crate::model::Report;

/// Longest hostname DNS allows.
const MAX_HOSTNAME: usize = 253;
/// Longest name, version or other short field we keep.
const MAX_FIELD: usize = 1024;

pub fn report(r: &Report) -> Result<(), ReportError> {
    hostname(&r.hostname)?;
    if let Some(site) = &r.site {
        short("site", site)?;
    }
    for (i, tag) in r.tags.iter().enumerate() {
        short(&format!("tags[{i}]"), tag)?;
    }
    short("kernel.release", &r.kernel.release)?;
    short("arch", &r.arch)?;
    if let Some(packages) = &r.packages {
        for (i, p) in packages.iter().enumerate() {
            // The field name is only formatted when there is something to
            // say: this loop runs for every package of every report.
            let at = |field: &str| format!("packages[{i}].{field}");
            if let Some(problem) = required_problem(&p.name) {
                return Err(ReportError::invalid(at("name"), problem));
            }
            if let Some(problem) = required_problem(&p.version) {
                return Err(ReportError::invalid(at("version"), problem));
            }
            for (field, value) in [
                ("epoch", &p.epoch),
                ("release", &p.release),
                ("arch", &p.arch),
                ("source_name", &p.source_name),
                ("source_version", &p.source_version),
            ] {
                if let Some(problem) = short_problem(value) {
                    return Err(ReportError::invalid(at(field), problem));
                }
            }
        }
    }
    Ok(())
}

/// A hostname as a host reports it: not empty, no whitespace or control
/// characters, at most 253 bytes. Hosts are keyed on it, so it is compared
/// case-insensitively (stored lower-case).
pub fn hostname(h: &str) -> Result<(), ReportError> {
    if h.is_empty() {
        return Err(ReportError::invalid("hostname", "is empty"));
    }
    if h.len() > MAX_HOSTNAME {
        return Err(ReportError::invalid(
            "hostname",
            format!("is {} bytes long; at most {MAX_HOSTNAME} allowed", h.len()),
        ));
    }
    if let Some(c) = h
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '/')
    {
        return Err(ReportError::invalid(
            "hostname",
            format!("contains the character {c:?}"),
        ));
    }
    Ok(())
}

fn short(field: &str, value: &str) -> Result<(), ReportError> {
    match short_problem(value) {
        Some(problem) => Err(ReportError::invalid(field, problem)),
        None => Ok(()),
    }
}

fn required_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("is empty".into());
    }
    short_problem(value)
}

fn short_problem(value: &str) -> Option<String> {
    if value.len() > MAX_FIELD {
        return Some(format!(
            "is {} bytes long; at most {MAX_FIELD} allowed",
            value.len()
        ));
    }
    // Control characters are ASCII or in the C1 block: a byte scan finds
    // the candidates without decoding UTF-8 for the common clean case.
    // A fold rather than `any`: without the early exit the compiler
    // vectorises it, and almost every value is clean.
    let suspicious = value.bytes().fold(false, |seen, b| {
        seen | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
    });
    if suspicious && value.chars().any(|c| c.is_control()) {
        return Some("contains a control character".into());
    }
    None
}
