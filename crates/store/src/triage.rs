//! CVE tags and exceptions, as in Pakiti: an administrator attaches CVEs
//! to tags (`Critical`, `High`, a site's own lists), and excepts a CVE for
//! one installed package version on an OS group or a site. Both backends
//! validate through the functions here, so they refuse the same input with
//! the same message.

use serde::{Serialize, Serializer};

use crate::error::StoreError;
use crate::rows::Columns;
use crate::{Millis, format_millis};

fn rfc3339<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*ms))
}

fn opt_rfc3339<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format_millis(*ms)),
        None => s.serialize_none(),
    }
}

/// The tags every database starts with (seeded by migration 4), as in
/// Pakiti. Findings of severity critical / high also carry them without an
/// assignment (see `patchwatch_vulndb::triage`).
pub const DEFAULT_TAGS: [&str; 2] = ["Critical", "High"];

/// A CVE tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CveTag {
    pub id: i64,
    pub name: String,
    pub reason: String,
    /// A disabled tag is kept with its assignments but tags nothing.
    pub enabled: bool,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    /// CVEs assigned to it by hand.
    pub cves: i64,
}

/// A CVE attached to a tag by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagAssignment {
    pub cve: String,
    pub tag: String,
    pub reason: String,
    pub author: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
}

/// An assignment to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    pub cve: String,
    pub tag: String,
    pub reason: String,
    pub author: String,
}

/// An exception: the CVE does not count for hosts that have `package` at
/// exactly `version` installed and are in the OS group or the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    pub id: i64,
    pub cve: String,
    pub package: String,
    /// The installed version string, epoch included when not zero.
    pub version: String,
    /// Exactly one of `os_group` and `site` is set.
    pub os_group: Option<String>,
    pub site: Option<String>,
    pub reason: String,
    pub author: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    #[serde(serialize_with = "opt_rfc3339")]
    pub expires_at: Option<Millis>,
}

impl Exception {
    /// Whether it still applies at `now` (an expiry is exclusive).
    pub fn is_active(&self, now: Millis) -> bool {
        self.expires_at.is_none_or(|e| e > now)
    }
}

/// An exception to store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewException {
    pub cve: String,
    pub package: String,
    pub version: String,
    pub os_group: Option<String>,
    pub site: Option<String>,
    pub reason: String,
    pub author: String,
    pub expires_at: Option<Millis>,
}

impl NewException {
    /// `CVE-... in PACKAGE VERSION on OS group "G"`, for messages.
    pub fn describe(&self) -> String {
        let scope = match (&self.os_group, &self.site) {
            (Some(g), _) => format!("OS group {g:?}"),
            (None, Some(s)) => format!("site {s:?}"),
            (None, None) => "nothing".into(),
        };
        format!(
            "an exception for {} in {} {} on {scope}",
            self.cve, self.package, self.version
        )
    }
}

/// Checks and canonicalises a CVE id: `CVE-YYYY-NNNN` (4 or more digits
/// after the year), case-insensitive on input.
pub fn parse_cve_id(raw: &str) -> Option<String> {
    let upper = raw.trim().to_ascii_uppercase();
    let rest = upper.strip_prefix("CVE-")?;
    let (year, number) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (year.len() == 4 && digits(year) && number.len() >= 4 && digits(number)).then_some(upper)
}

/// The canonical CVE id, or `Invalid` naming the expected shape.
pub fn canonical_cve(raw: &str) -> Result<String, StoreError> {
    parse_cve_id(raw).ok_or_else(|| {
        StoreError::Invalid(format!(
            "malformed CVE id {raw:?}: expected CVE-YYYY-NNNN (e.g. CVE-2024-12797)"
        ))
    })
}

/// Reads an expiry as given on the command line or in the API: a date
/// (`2027-01-31`: the exception holds through that day, UTC) or an RFC 3339
/// timestamp.
pub fn parse_expiry(raw: &str) -> Result<Millis, StoreError> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let raw = raw.trim();
    let at = if let Ok(day) = time::Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        day.next_day().unwrap_or(day).midnight().assume_utc()
    } else {
        time::OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
            StoreError::Invalid(format!(
                "expiry {raw:?} is neither a date (2027-01-31) nor an RFC 3339 time \
                 (2027-01-31T12:00:00Z)"
            ))
        })?
    };
    Ok((at.unix_timestamp_nanos() / 1_000_000) as Millis)
}

/// Tag names appear in the Pakiti reply's last column and on the command
/// line: printable, no whitespace, at most 64 characters.
pub fn validate_tag_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 64 {
        return Err(StoreError::Invalid(format!(
            "tag name {name:?} must be 1 to 64 characters"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::Invalid(format!(
            "tag name {name:?} must not contain {c:?}"
        )));
    }
    Ok(())
}

fn required(field: &str, value: &str) -> Result<String, StoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be empty")));
    }
    if v.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{field} {v:?} must not contain control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Checks an assignment and returns it with the CVE id canonical.
pub fn validate_assignment(a: &NewAssignment) -> Result<NewAssignment, StoreError> {
    validate_tag_name(&a.tag)?;
    Ok(NewAssignment {
        cve: canonical_cve(&a.cve)?,
        tag: a.tag.clone(),
        reason: a.reason.trim().to_owned(),
        author: a.author.trim().to_owned(),
    })
}

/// Checks an exception at `now` and returns it cleaned up: CVE id
/// canonical, a zero epoch dropped from the version (hosts are stored
/// that way), surrounding whitespace trimmed.
pub fn validate_exception(e: &NewException, now: Millis) -> Result<NewException, StoreError> {
    let cve = canonical_cve(&e.cve)?;
    let package = required("package name", &e.package)?;
    let mut version = required("package version", &e.version)?;
    if let Some((epoch, rest)) = version.split_once(':')
        && !epoch.is_empty()
        && epoch.bytes().all(|b| b == b'0')
    {
        version = rest.to_owned();
    }
    let scope = |v: &Option<String>, what| v.as_deref().map(|s| required(what, s)).transpose();
    let os_group = scope(&e.os_group, "OS group")?;
    let site = scope(&e.site, "site")?;
    match (&os_group, &site) {
        (Some(_), Some(_)) => {
            return Err(StoreError::Invalid(
                "an exception applies to an OS group or to a site, not both".into(),
            ));
        }
        (None, None) => {
            return Err(StoreError::Invalid(
                "an exception needs an OS group or a site to apply to".into(),
            ));
        }
        _ => {}
    }
    let reason = required("reason", &e.reason)?;
    let author = required("author", &e.author)?;
    if let Some(at) = e.expires_at
        && at <= now
    {
        return Err(StoreError::Invalid(format!(
            "expiry {} is in the past",
            format_millis(at)
        )));
    }
    Ok(NewException {
        cve,
        package,
        version,
        os_group,
        site,
        reason,
        author,
        expires_at: e.expires_at,
    })
}

/// The tag query both backends run, each adding its own `WHERE`.
pub const TAG_COLUMNS: &str = "SELECT t.id, t.name, t.reason, t.enabled, t.created_at,
        (SELECT COUNT(*) FROM cve_tag_assignments a WHERE a.tag_id = t.id)
     FROM cve_tags t";

/// A tag from the columns of [`TAG_COLUMNS`].
pub fn tag(r: &dyn Columns) -> Result<CveTag, StoreError> {
    Ok(CveTag {
        id: r.int(0)?,
        name: r.text(1)?,
        reason: r.text(2)?,
        enabled: r.flag(3)?,
        created_at: r.int(4)?,
        cves: r.int(5)?,
    })
}

pub const ASSIGNMENT_QUERY: &str = "SELECT a.cve, t.name, a.reason, a.author, a.created_at
     FROM cve_tag_assignments a JOIN cve_tags t ON t.id = a.tag_id
     ORDER BY a.cve, t.name";

/// An assignment from the columns of [`ASSIGNMENT_QUERY`].
pub fn assignment(r: &dyn Columns) -> Result<TagAssignment, StoreError> {
    Ok(TagAssignment {
        cve: r.text(0)?,
        tag: r.text(1)?,
        reason: r.text(2)?,
        author: r.text(3)?,
        created_at: r.int(4)?,
    })
}

pub const EXCEPTION_COLUMNS: &str =
    "SELECT e.id, e.cve, e.package, e.version, e.os_group, s.name, e.reason, e.author,
        e.created_at, e.expires_at
     FROM cve_exceptions e LEFT JOIN sites s ON s.id = e.site_id";

/// An exception from the columns of [`EXCEPTION_COLUMNS`].
pub fn exception(r: &dyn Columns) -> Result<Exception, StoreError> {
    Ok(Exception {
        id: r.int(0)?,
        cve: r.text(1)?,
        package: r.text(2)?,
        version: r.text(3)?,
        os_group: r.opt_text(4)?,
        site: r.opt_text(5)?,
        reason: r.text(6)?,
        author: r.text(7)?,
        created_at: r.int(8)?,
        expires_at: r.opt_int(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> NewException {
        NewException {
            cve: "cve-2024-12797".into(),
            package: "openssl-libs".into(),
            version: "0:3.2.2-6.el9_5".into(),
            os_group: Some("almalinux 9".into()),
            site: None,
            reason: "mitigated".into(),
            author: "alice".into(),
            expires_at: None,
        }
    }

    #[test]
    fn exceptions_are_checked_and_cleaned() {
        let e = validate_exception(&ok(), 1_000).unwrap();
        assert_eq!(e.cve, "CVE-2024-12797");
        assert_eq!(e.version, "3.2.2-6.el9_5");
        let err = |e: NewException| validate_exception(&e, 1_000).unwrap_err().to_string();
        assert!(
            err(NewException {
                site: Some("S".into()),
                ..ok()
            })
            .contains("not both")
        );
        assert!(
            err(NewException {
                os_group: None,
                ..ok()
            })
            .contains("needs an OS group or a site")
        );
        assert!(
            err(NewException {
                cve: "CVE-24-1".into(),
                ..ok()
            })
            .contains("malformed CVE id")
        );
        assert!(
            err(NewException {
                expires_at: Some(999),
                ..ok()
            })
            .contains("in the past")
        );
        assert!(
            err(NewException {
                reason: " ".into(),
                ..ok()
            })
            .contains("reason must not be empty")
        );
    }

    #[test]
    fn expiries() {
        assert_eq!(
            format_millis(parse_expiry("2027-01-31").unwrap()),
            "2027-02-01T00:00:00Z"
        );
        assert_eq!(
            format_millis(parse_expiry("2027-01-31T12:00:00Z").unwrap()),
            "2027-01-31T12:00:00Z"
        );
        assert!(parse_expiry("31.1.2027").is_err());
    }

    #[test]
    fn tag_names() {
        assert!(validate_tag_name("Critical").is_ok());
        assert!(validate_tag_name("grid sites").is_err());
        assert!(validate_tag_name("").is_err());
    }
}
