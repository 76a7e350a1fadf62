//! OVAL definitions and their metadata.

use crate::criteria::Criteria;

/// `class` attribute of a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Vulnerability,
    Patch,
    Inventory,
    Compliance,
    Miscellaneous,
}

impl Class {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "vulnerability" => Self::Vulnerability,
            "patch" => Self::Patch,
            "inventory" => Self::Inventory,
            "compliance" => Self::Compliance,
            "miscellaneous" => Self::Miscellaneous,
            _ => return None,
        })
    }
}

/// `<reference source=".." ref_id=".." ref_url="..">`: CVE, RHSA, USN, DSA ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub source: String,
    pub ref_id: String,
    pub ref_url: Option<String>,
}

/// One `<definition>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub id: String,
    pub version: Option<String>,
    pub class: Class,
    pub title: String,
    pub description: String,
    /// `<advisory><severity>` (Red Hat, Ubuntu), or the Ubuntu `<cve
    /// priority="..">` when no severity element is present. Debian has none.
    pub severity: Option<String>,
    pub references: Vec<Reference>,
    /// CVE ids named by `<reference source="CVE">` and `<advisory><cve>`,
    /// deduplicated, in document order.
    pub cves: Vec<String>,
    /// Advisory ids (`RHSA-…`, `USN-…`, `DSA-…`, `RHBA-…`, `DLA-…`).
    pub advisories: Vec<String>,
    /// `<affected><platform>` values.
    pub platforms: Vec<String>,
    /// Red Hat (v2 and late v1) `<affected_cpe_list><cpe>`.
    pub affected_cpes: Vec<String>,
    /// `<issued date="..">` (Red Hat, Ubuntu USN) or Debian `<date>`.
    pub issued: Option<String>,
    /// `<updated date="..">`.
    pub updated: Option<String>,
    /// `None` for a definition without criteria (deprecated stubs): it
    /// evaluates to not-evaluated / unknown.
    pub criteria: Option<Criteria>,
}

impl Definition {
    pub(crate) fn new(id: String, class: Class) -> Self {
        Definition {
            id,
            version: None,
            class,
            title: String::new(),
            description: String::new(),
            severity: None,
            references: Vec::new(),
            cves: Vec::new(),
            advisories: Vec::new(),
            platforms: Vec::new(),
            affected_cpes: Vec::new(),
            issued: None,
            updated: None,
            criteria: None,
        }
    }

    pub(crate) fn add_cve(&mut self, cve: &str) {
        let cve = cve.trim();
        if !cve.is_empty() && !self.cves.iter().any(|c| c == cve) {
            self.cves.push(cve.to_owned());
        }
    }

    pub(crate) fn add_advisory(&mut self, id: &str) {
        let id = id.trim();
        if !id.is_empty() && !self.advisories.iter().any(|c| c == id) {
            self.advisories.push(id.to_owned());
        }
    }
}
