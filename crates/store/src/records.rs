//! What the store returns: sites, hosts, reports, tokens.

use patchwatch_reports::{
    ApkPin, AptPreferences, ClientInfo, ClientUpdate, ModuleStream, OsInfo, OsRelease, Repository,
};
use serde::{Serialize, Serializer};

use crate::{Millis, StoreError, format_millis};

fn rfc3339<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_millis(*ms))
}

fn opt_rfc3339<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format_millis(*ms)),
        None => s.serialize_none(),
    }
}

fn os_text<S: Serializer>(os: &OsRelease, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(os)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    pub hosts: i64,
}

/// A host as listed: enough to see at a glance who is behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostSummary {
    pub id: i64,
    pub hostname: String,
    pub site: String,
    #[serde(skip)]
    pub site_id: i64,
    #[serde(serialize_with = "os_text")]
    pub os: OsRelease,
    pub kernel: String,
    pub arch: String,
    pub tags: Vec<String>,
    pub packages: i64,
    #[serde(serialize_with = "rfc3339")]
    pub first_seen: Millis,
    #[serde(serialize_with = "rfc3339")]
    pub last_seen: Millis,
    pub protocol: String,
    /// What the client said; `None` when it could not tell.
    pub reboot_required: Option<bool>,
    /// Derived by the server from the packages: the running kernel is
    /// older than the newest installed one. `None` until derived (hosts
    /// stored before migration 11, until the server's background pass).
    pub reboot_required_derived: Option<bool>,
    #[serde(skip)]
    pub package_set_id: i64,
    #[serde(skip)]
    pub last_report_id: i64,
}

impl HostSummary {
    /// Whether the host must reboot: the client says so, or the server
    /// derived it. What every "reboot required" shown or filtered means.
    pub fn must_reboot(&self) -> bool {
        self.reboot_required == Some(true) || self.reboot_required_derived == Some(true)
    }
}

/// What the fleet's assessment needs of one host (see
/// [`crate::Database::host_keys`]): no names, no JSON, the OS as an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    pub id: i64,
    pub site_id: i64,
    pub package_set_id: i64,
    /// A key into [`HostKeys::os_releases`].
    pub os_release_id: i64,
    pub kernel: String,
}

/// Site names travel in reports, URLs and file names: 1 to
/// [`MAX_SITE_NAME`] ASCII letters, digits, `-`, `_` or `.`. Every store
/// refuses others, so a site the CLI creates can always report.
pub fn validate_site_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_SITE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "site name {name:?} is not valid: use 1-{MAX_SITE_NAME} letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// The longest site name, in bytes.
pub const MAX_SITE_NAME: usize = 64;

/// A host's place in a host list, with what its rows are computed from
/// (see [`crate::Database::host_refs`]): no names, no joins beyond the
/// filter's and the sort's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRef {
    pub id: i64,
    pub site_id: i64,
    pub package_set_id: i64,
    /// Changes with every report: what a result kept per host is
    /// checked against.
    pub last_report_id: i64,
}

/// Every host as [`HostKey`]s, by id, with the few OS releases and sites
/// they name (each once, by id, not repeated per host).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostKeys {
    /// [`crate::Database::host_keys_version`] in the same snapshot as the
    /// lists: these lists are exactly what the store held at this version.
    pub version: i64,
    pub hosts: Vec<HostKey>,
    /// Every OS release, by id.
    pub os_releases: Vec<(i64, OsRelease)>,
    /// Every site (id, name), by id.
    pub sites: Vec<(i64, String)>,
}

/// Everything the host said in its latest report, beyond the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostDetail {
    #[serde(flatten)]
    pub summary: HostSummary,
    pub os_release: OsInfo,
    pub os_string: String,
    pub kernel_version: String,
    pub reboot_reasons: Vec<String>,
    pub repositories: Vec<Repository>,
    /// Enabled dnf module streams (`name`, `stream`).
    pub module_streams: Vec<ModuleStream>,
    /// apk world pins (`name`, `tag`).
    pub apk_pins: Vec<ApkPin>,
    /// apt preferences files (`file`, `content`), in apt's reading order.
    pub apt_preferences: Vec<AptPreferences>,
    pub client_updates: Vec<ClientUpdate>,
    pub client: ClientInfo,
}

/// One stored report: the history of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRecord {
    pub id: i64,
    pub host_id: i64,
    #[serde(serialize_with = "rfc3339")]
    pub received_at: Millis,
    pub protocol: String,
    #[serde(serialize_with = "os_text")]
    pub os: OsRelease,
    pub kernel: String,
    pub packages: i64,
    /// Whether the package set was the same as in the host's previous report.
    pub unchanged: bool,
    pub sender: String,
    pub user_agent: String,
    #[serde(skip)]
    pub package_set_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub kind: crate::TokenKind,
    pub site: Option<String>,
    #[serde(skip)]
    pub site_id: Option<i64>,
    /// `read` or `triage` for API tokens, absent for ingest tokens.
    pub access: Option<patchwatch_auth::TokenAccess>,
    pub user: Option<String>,
    #[serde(skip)]
    pub user_id: Option<i64>,
    pub group: Option<String>,
    #[serde(skip)]
    pub group_id: Option<i64>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: Millis,
    /// When it last authenticated a request, to the minute
    /// ([`crate::token::USE_RECORDED_EVERY_MS`]); `None`: never.
    #[serde(serialize_with = "opt_rfc3339")]
    pub last_used_at: Option<Millis>,
    /// When it was revoked; `None`: active. A revoked token stays listed
    /// and never authenticates again.
    #[serde(serialize_with = "opt_rfc3339")]
    pub revoked_at: Option<Millis>,
    /// The user who revoked it; `None` when the command line did, or that
    /// user has been deleted since.
    pub revoked_by: Option<String>,
}

impl TokenRecord {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// What storing one report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IngestOutcome {
    pub host_id: i64,
    pub report_id: i64,
    pub new_host: bool,
    /// False when the host's package set is the one it had before.
    pub packages_changed: bool,
    pub package_set_id: i64,
    pub packages: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PruneStats {
    pub reports: u64,
    pub package_sets: u64,
    pub packages: u64,
}

/// The parts of a host's latest report that are shown but never filtered
/// on, kept as one JSON document on the host row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HostDetails {
    #[serde(default)]
    pub os_release: OsInfo,
    #[serde(default)]
    pub os_string: String,
    #[serde(default)]
    pub kernel_version: String,
    #[serde(default)]
    pub reboot_reasons: Vec<String>,
    #[serde(default)]
    pub repositories: Vec<Repository>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub module_streams: Vec<ModuleStream>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apk_pins: Vec<ApkPin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apt_preferences: Vec<AptPreferences>,
    #[serde(default)]
    pub client_updates: Vec<ClientUpdate>,
    #[serde(default)]
    pub client: ClientInfo,
}

impl HostDetails {
    /// The details a report gives; `previous` supplies what the report
    /// leaves unchanged (Patchman's empty repository field).
    pub fn from_report(
        report: &patchwatch_reports::Report,
        previous: Option<&HostDetails>,
    ) -> HostDetails {
        HostDetails {
            os_release: report.os.clone(),
            os_string: report.os_string.clone(),
            kernel_version: report.kernel.version.clone(),
            reboot_reasons: report.reboot.reasons.clone(),
            repositories: match &report.repositories {
                Some(r) => r.clone(),
                None => previous.map(|p| p.repositories.clone()).unwrap_or_default(),
            },
            module_streams: match &report.repositories {
                Some(_) => report.module_streams.clone(),
                None => previous
                    .map(|p| p.module_streams.clone())
                    .unwrap_or_default(),
            },
            apk_pins: match &report.repositories {
                Some(_) => report.apk_pins.clone(),
                None => previous.map(|p| p.apk_pins.clone()).unwrap_or_default(),
            },
            apt_preferences: match &report.repositories {
                Some(_) => report.apt_preferences.clone(),
                None => previous
                    .map(|p| p.apt_preferences.clone())
                    .unwrap_or_default(),
            },
            client_updates: report.updates.clone(),
            client: report.client.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("host details always serialise")
    }

    pub fn from_json(s: &str) -> Result<HostDetails, crate::StoreError> {
        serde_json::from_str(s)
            .map_err(|e| crate::StoreError::Corrupt(format!("host details: {e}")))
    }

    pub fn into_detail(self, summary: HostSummary) -> HostDetail {
        HostDetail {
            summary,
            os_release: self.os_release,
            os_string: self.os_string,
            kernel_version: self.kernel_version,
            reboot_reasons: self.reboot_reasons,
            repositories: self.repositories,
            module_streams: self.module_streams,
            apk_pins: self.apk_pins,
            apt_preferences: self.apt_preferences,
            client_updates: self.client_updates,
            client: self.client,
        }
    }
}

/// Tags as a host reported them: trimmed, without empties and duplicates.
pub fn normalise_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A package as shown to people and scripts: the full version string the
/// package manager prints (`evr`) beside its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageView {
    pub name: String,
    pub version: String,
    pub arch: String,
    #[serde(rename = "type")]
    pub kind: patchwatch_reports::PackageType,
    pub epoch: String,
    pub upstream_version: String,
    pub release: String,
    pub source_name: String,
    pub source_version: String,
}

impl From<&patchwatch_reports::Package> for PackageView {
    fn from(p: &patchwatch_reports::Package) -> PackageView {
        PackageView {
            name: p.name.clone(),
            version: p.evr(),
            arch: p.arch.clone(),
            kind: p.kind,
            epoch: p.epoch.clone(),
            upstream_version: p.version.clone(),
            release: p.release.clone(),
            source_name: p.source_name.clone(),
            source_version: p.source_version.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_are_what_a_shell_and_a_url_carry_unharmed() {
        for good in [
            "UKI-LT2-QMUL",
            "praguelcg2",
            "a.b_c",
            &"s".repeat(MAX_SITE_NAME),
        ] {
            assert!(validate_site_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "x/y",
            "site\u{1b}[31m",
            "caf\u{e9}",
            &"s".repeat(MAX_SITE_NAME + 1),
        ] {
            let err = validate_site_name(bad).unwrap_err().to_string();
            assert!(
                err.contains("is not valid: use 1-64 letters"),
                "{bad}: {err}"
            );
        }
    }
}
