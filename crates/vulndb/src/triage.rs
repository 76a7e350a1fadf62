//! Triage of a host's findings: which CVE tags each carries, and whether
//! an exception excepts it.
//!
//! Rules, shared by the CLI, the API and the Pakiti reply:
//!
//! * A finding carries every **enabled** tag its CVE is assigned to, and,
//!   by severity, the default tags: severity critical carries `Critical`
//!   and severity high carries `High` while a tag of that name exists and
//!   is enabled. Disabling or removing the tag turns the automatic rule
//!   off too. (Pakiti only has the assignments; the severity rule saves
//!   attaching every critical CVE by hand.)
//! * An exception excepts a finding when it has not expired, names the
//!   finding's CVE, the installed package (its binary name, or the source
//!   name the advisory matched) at exactly the installed version, and the
//!   host's site or one of its OS groups (see [`host_groups`]). Excepted
//!   findings are still reported, apart from the others.
//!
//! Everything here is pure: the callers read tags, assignments and
//! exceptions from the store and pass `now`.

use std::collections::{BTreeSet, HashMap};

use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{Finding, OsGroups, OsScope};
use patchwatch_reports::OsRelease;
use patchwatch_store::{
    CveTag, Database, Exception, HostSummary, Millis, StoreError, TagAssignment,
};
use serde::Serialize;
use serde_json::Value;

use crate::feed::LoadedIndex;
use crate::findings::{HostFinding, finding_json};

/// Where a host stands for exceptions: its site and its OS group names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostScope {
    pub site: String,
    /// Lowercase; see [`host_groups`].
    pub os_groups: Vec<String>,
}

impl HostScope {
    pub fn new(site: &str, groups: &OsGroups, os: &OsRelease) -> HostScope {
        HostScope {
            site: site.to_owned(),
            os_groups: host_groups(groups, os),
        }
    }
}

/// The OS group names an exception may name to cover a host, lowercase:
/// the admin-defined group it belongs to (`el9`), the advisory data scopes
/// it reads (`almalinux 9`, `debian 12`) and its exact normalised OS
/// (`debian 12.5`), so `--os-group "debian 12"` covers every Debian 12
/// point release.
pub fn host_groups(groups: &OsGroups, os: &OsRelease) -> Vec<String> {
    let mut names = BTreeSet::new();
    if let Some(g) = groups.group_of(os) {
        names.insert(g.name.to_lowercase());
    }
    for s in groups.scopes_for(os) {
        names.insert(s.to_string().to_lowercase());
    }
    if !os.distro.is_empty() {
        names.insert(
            OsScope::new(&os.distro, &os.release)
                .to_string()
                .to_lowercase(),
        );
    }
    names.into_iter().collect()
}

/// Tags, assignments and the exceptions active at one moment, indexed
/// for classifying many findings. Two are equal when they classify every
/// finding the same way: what caches of triaged views compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Triage {
    /// Enabled tag names assigned to each CVE, sorted.
    by_cve: HashMap<String, Vec<String>>,
    critical: Option<String>,
    high: Option<String>,
    /// Active exceptions by CVE.
    exceptions: HashMap<String, Vec<Exception>>,
    enabled: BTreeSet<String>,
    disabled: BTreeSet<String>,
}

/// What triage says about one finding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Classified {
    /// Enabled tags, sorted and without duplicates.
    pub tags: Vec<String>,
    /// The exception that excepts it (the lowest id when several do).
    pub exception: Option<Exception>,
}

impl Triage {
    pub fn new(
        tags: &[CveTag],
        assignments: &[TagAssignment],
        exceptions: &[Exception],
        now: Millis,
    ) -> Triage {
        let enabled: BTreeSet<String> = tags
            .iter()
            .filter(|t| t.enabled)
            .map(|t| t.name.clone())
            .collect();
        let mut by_cve: HashMap<String, Vec<String>> = HashMap::new();
        for a in assignments.iter().filter(|a| enabled.contains(&a.tag)) {
            by_cve.entry(a.cve.clone()).or_default().push(a.tag.clone());
        }
        for list in by_cve.values_mut() {
            list.sort();
            list.dedup();
        }
        let mut by_exception: HashMap<String, Vec<Exception>> = HashMap::new();
        let mut active: Vec<&Exception> = exceptions.iter().filter(|e| e.is_active(now)).collect();
        active.sort_by_key(|e| e.id);
        for e in active {
            by_exception
                .entry(e.cve.clone())
                .or_default()
                .push(e.clone());
        }
        let default = |name: &str| enabled.contains(name).then(|| name.to_owned());
        Triage {
            by_cve,
            critical: default("Critical"),
            high: default("High"),
            exceptions: by_exception,
            disabled: tags
                .iter()
                .filter(|t| !t.enabled)
                .map(|t| t.name.clone())
                .collect(),
            enabled,
        }
    }

    /// Reads tags, assignments and exceptions from the store.
    pub async fn load(db: &dyn Database, now: Millis) -> Result<Triage, StoreError> {
        let tags = db.tags().await?;
        let assignments = db.tag_assignments().await?;
        let exceptions = db.exceptions().await?;
        Ok(Triage::new(&tags, &assignments, &exceptions, now))
    }

    /// Checks a `--tag` / `?tag=` filter: filtering on an unknown or a
    /// disabled tag would silently return nothing.
    pub fn check_filter(&self, name: &str) -> Result<(), StoreError> {
        if self.enabled.contains(name) {
            Ok(())
        } else if self.disabled.contains(name) {
            Err(StoreError::Invalid(format!(
                "tag {name:?} is disabled, so it tags nothing; enable it first"
            )))
        } else {
            let known: Vec<&str> = self.enabled.iter().map(String::as_str).collect();
            Err(StoreError::NotFound(format!(
                "tag {name:?} (enabled tags: {})",
                known.join(", ")
            )))
        }
    }

    /// The enabled tags a CVE of `severity` carries.
    pub fn tags_for(&self, cve: &str, severity: SeverityLevel) -> Vec<String> {
        let mut tags = self.by_cve.get(cve).cloned().unwrap_or_default();
        let auto = match severity {
            SeverityLevel::Critical => self.critical.as_ref(),
            SeverityLevel::High => self.high.as_ref(),
            _ => None,
        };
        if let Some(t) = auto
            && !tags.contains(t)
        {
            tags.push(t.clone());
            tags.sort();
        }
        tags
    }

    /// The active exception that excepts `finding` on `host`, if any.
    pub fn exception_for(&self, host: &HostScope, finding: &Finding) -> Option<&Exception> {
        self.exception_matching(
            host,
            finding.cve(),
            finding.package(),
            finding.matched_name(),
            finding.installed(),
        )
    }

    /// Whether any active exception names `cve` (most CVEs have none, so
    /// fleet views skip the per-host check for them).
    pub fn has_exceptions(&self, cve: &str) -> bool {
        self.exceptions.contains_key(cve)
    }

    /// The active exception for `cve` on a package (its binary name, the
    /// name the statement matched and its installed version) on `host`.
    pub fn exception_matching(
        &self,
        host: &HostScope,
        cve: &str,
        package: &str,
        matched_name: &str,
        installed: &str,
    ) -> Option<&Exception> {
        self.exceptions.get(cve)?.iter().find(|e| {
            (e.package == package || e.package == matched_name)
                && e.version == installed
                && match (&e.site, &e.os_group) {
                    (Some(site), _) => *site == host.site,
                    (None, Some(group)) => host.os_groups.contains(&group.to_lowercase()),
                    (None, None) => false,
                }
        })
    }

    /// Tags and exception of one finding.
    pub fn classify_one(&self, host: &HostScope, finding: &Finding) -> Classified {
        Classified {
            tags: self.tags_for(finding.cve(), finding.severity()),
            exception: self.exception_for(host, finding).cloned(),
        }
    }
}

/// Classifies every finding of one host: the result is parallel to
/// `findings`.
pub fn classify(
    host: &HostScope,
    findings: &[Finding],
    tags: &[CveTag],
    assignments: &[TagAssignment],
    exceptions: &[Exception],
    now: Millis,
) -> Vec<Classified> {
    let triage = Triage::new(tags, assignments, exceptions, now);
    findings
        .iter()
        .map(|f| triage.classify_one(host, f))
        .collect()
}

/// A finding as JSON with its triage: the fields of [`finding_json`],
/// `tags`, and `excepted` (the exception, or null).
pub fn triaged_json(loaded: &LoadedIndex, f: &Finding, c: &Classified) -> Value {
    let mut v = finding_json(loaded, f);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("tags".into(), serde_json::json!(c.tags));
        obj.insert("excepted".into(), serde_json::json!(c.exception));
    }
    v
}

/// Each host's exception scope, by position in `hosts` (as
/// [`HostFinding::host`] indexes them).
pub fn host_scopes(loaded: &LoadedIndex, hosts: &[HostSummary]) -> Vec<HostScope> {
    hosts
        .iter()
        .map(|h| HostScope::new(&h.site, loaded.index.os_groups(), &h.os))
        .collect()
}

/// One CVE across the fleet, excepted findings left out of the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CveSummary {
    pub cve: String,
    pub severity: SeverityLevel,
    /// Hosts exposed through a finding no exception covers.
    pub hosts: usize,
    pub packages: Vec<String>,
    /// Enabled tags of its findings that are not excepted.
    pub tags: Vec<String>,
    /// Hosts whose every finding for the CVE is excepted.
    pub excepted_hosts: usize,
}

/// Summarises a CVE's fleet findings (from `fleet_findings`).
pub fn summarise(
    cve: &str,
    list: &[HostFinding],
    triage: &Triage,
    scopes: &[HostScope],
) -> CveSummary {
    let mut hosts = BTreeSet::new();
    let mut excepted = BTreeSet::new();
    let mut packages = BTreeSet::new();
    let mut tags = BTreeSet::new();
    let mut severity = SeverityLevel::default();
    for f in list {
        let c = triage.classify_one(&scopes[f.host], &f.finding);
        if c.exception.is_some() {
            excepted.insert(f.host);
            continue;
        }
        hosts.insert(f.host);
        packages.insert(f.finding.package().to_owned());
        severity = severity.max(f.finding.severity());
        tags.extend(c.tags);
    }
    CveSummary {
        cve: cve.to_owned(),
        severity,
        excepted_hosts: excepted.difference(&hosts).count(),
        hosts: hosts.len(),
        packages: packages.into_iter().collect(),
        tags: tags.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use patchwatch_assess::{
        Feed, FindingState, InstalledRef, NameUsed, OsGroupConfig, OsGroupsConfig, Rule, Statement,
    };
    use patchwatch_versions::Scheme;

    use super::*;

    fn finding(cve: &str, severity: SeverityLevel, name: &str, installed: &str) -> Finding {
        let statement = Statement {
            advisory: "DSA-1-1".into(),
            feed: Feed::Oval,
            data: "debian 12".into(),
            cves: vec![Arc::<str>::from(cve)].into(),
            state: FindingState::FixAvailable,
            fixed: Some("9".into()),
            severity,
            severity_raw: None,
            rule: Rule::BelowFixed {
                scheme: Scheme::Deb,
                introduced: None,
            },
        };
        let package = InstalledRef {
            name: name.into(),
            arch: "amd64".into(),
            installed: installed.into(),
            source: Some("openssl".into()),
        };
        Finding::new(
            Arc::new(statement),
            0,
            Arc::new(package),
            NameUsed::Source,
            None,
            false,
        )
    }

    fn tag(name: &str, enabled: bool) -> CveTag {
        CveTag {
            id: 0,
            name: name.into(),
            reason: String::new(),
            enabled,
            created_at: 0,
            cves: 0,
        }
    }

    fn assign(cve: &str, tag: &str) -> TagAssignment {
        TagAssignment {
            cve: cve.into(),
            tag: tag.into(),
            reason: String::new(),
            author: "a".into(),
            created_at: 0,
        }
    }

    fn exception(id: i64, site: Option<&str>, group: Option<&str>) -> Exception {
        Exception {
            id,
            cve: "CVE-2024-0001".into(),
            package: "libssl3".into(),
            version: "3.0.11-1~deb12u2".into(),
            os_group: group.map(Into::into),
            site: site.map(Into::into),
            reason: "r".into(),
            author: "a".into(),
            created_at: 0,
            expires_at: None,
        }
    }

    fn debian(site: &str) -> HostScope {
        let os = OsRelease {
            distro: "debian".into(),
            release: "12.5".into(),
        };
        HostScope::new(site, &OsGroups::none(), &os)
    }

    #[test]
    fn tags_by_assignment_and_by_severity_enabled_only() {
        let tags = [
            tag("Critical", true),
            tag("High", false),
            tag("EGI", true),
            tag("Old", false),
        ];
        let assignments = [
            assign("CVE-2024-0001", "EGI"),
            assign("CVE-2024-0001", "Old"),
            assign("CVE-2024-0002", "Critical"),
        ];
        let t = Triage::new(&tags, &assignments, &[], 0);
        assert_eq!(
            t.tags_for("CVE-2024-0001", SeverityLevel::Critical),
            ["Critical", "EGI"]
        );
        // High is disabled: no automatic tag, and the assignment to the
        // disabled `Old` never shows.
        assert_eq!(t.tags_for("CVE-2024-0001", SeverityLevel::High), ["EGI"]);
        // Assigned by hand and critical: once.
        assert_eq!(
            t.tags_for("CVE-2024-0002", SeverityLevel::Critical),
            ["Critical"]
        );
        assert!(
            t.tags_for("CVE-2024-0003", SeverityLevel::Medium)
                .is_empty()
        );
    }

    #[test]
    fn exceptions_match_cve_package_version_and_scope() {
        let f = finding(
            "CVE-2024-0001",
            SeverityLevel::High,
            "libssl3",
            "3.0.11-1~deb12u2",
        );
        let other_version = finding(
            "CVE-2024-0001",
            SeverityLevel::High,
            "libssl3",
            "3.0.13-1~deb12u1",
        );
        let other_cve = finding(
            "CVE-2024-0002",
            SeverityLevel::High,
            "libssl3",
            "3.0.11-1~deb12u2",
        );
        let by_site = [exception(1, Some("CESNET"), None)];
        let t = Triage::new(&[tag("High", true)], &[], &by_site, 10);
        assert_eq!(
            t.exception_for(&debian("CESNET"), &f).map(|e| e.id),
            Some(1)
        );
        assert!(t.exception_for(&debian("DESY"), &f).is_none());
        assert!(t.exception_for(&debian("CESNET"), &other_version).is_none());
        assert!(t.exception_for(&debian("CESNET"), &other_cve).is_none());

        // OS groups: the data scope and the exact release both count,
        // case-insensitively; another release does not.
        for group in ["Debian 12", "debian 12.5"] {
            let t = Triage::new(&[], &[], &[exception(2, None, Some(group))], 10);
            assert!(t.exception_for(&debian("X"), &f).is_some(), "{group}");
        }
        let t = Triage::new(&[], &[], &[exception(2, None, Some("debian 11"))], 10);
        assert!(t.exception_for(&debian("X"), &f).is_none());

        // The source name the advisory matched counts as the package.
        let mut e = exception(3, Some("X"), None);
        e.package = "openssl".into();
        let t = Triage::new(&[], &[], &[e.clone()], 10);
        assert!(t.exception_for(&debian("X"), &f).is_some());

        // Expired exceptions are ignored.
        e.expires_at = Some(10);
        let t = Triage::new(&[], &[], &[e], 10);
        assert!(t.exception_for(&debian("X"), &f).is_none());
    }

    #[test]
    fn classify_keeps_findings_and_admin_groups_count() {
        let groups = OsGroups::from_config(&OsGroupsConfig {
            groups: vec![OsGroupConfig {
                name: "EL9".into(),
                members: vec!["rocky 9".into()],
                data: vec!["almalinux 9".into()],
            }],
        })
        .unwrap();
        let os = OsRelease {
            distro: "rocky".into(),
            release: "9.3".into(),
        };
        let host = HostScope::new("S", &groups, &os);
        assert_eq!(host.os_groups, ["almalinux 9", "el9", "rocky 9.3"]);
        let mut e = exception(1, None, Some("el9"));
        e.version = "1.0".into();
        let findings = [
            finding("CVE-2024-0001", SeverityLevel::Critical, "libssl3", "1.0"),
            finding("CVE-2024-0001", SeverityLevel::Critical, "libssl3", "2.0"),
        ];
        let out = classify(&host, &findings, &[tag("Critical", true)], &[], &[e], 0);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].exception.as_ref().map(|e| e.id), Some(1));
        assert!(out[1].exception.is_none());
        assert_eq!(out[1].tags, ["Critical"]);
    }
}
