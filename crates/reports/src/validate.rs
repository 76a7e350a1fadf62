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
            required(&format!("packages[{i}].name"), &p.name)?;
            required(&format!("packages[{i}].version"), &p.version)?;
            for (field, value) in [
                ("epoch", &p.epoch),
                ("release", &p.release),
                ("arch", &p.arch),
                ("source_name", &p.source_name),
                ("source_version", &p.source_version),
            ] {
                short(&format!("packages[{i}].{field}"), value)?;
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
    if let Some(c) = h.chars().find(|c| c.is_whitespace() || c.is_control() || *c == '/') {
        return Err(ReportError::invalid(
            "hostname",
            format!("contains the character {c:?}"),
        ));
    }
    Ok(())
}

fn required(field: &str, value: &str) -> Result<(), ReportError> {
    if value.trim().is_empty() {
        return Err(ReportError::invalid(field, "is empty"));
    }
    short(field, value)
}

fn short(field: &str, value: &str) -> Result<(), ReportError> {
    if value.len() > MAX_FIELD {
        return Err(ReportError::invalid(
            field,
            format!("is {} bytes long; at most {MAX_FIELD} allowed", value.len()),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(ReportError::invalid(field, "contains a control character"));
    }
    Ok(())
}
