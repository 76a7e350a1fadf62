//! The advisory index: every statement, built once, keyed by (data scope,
//! package name) so that assessing a package set costs one hash lookup per
//! installed package and name kind.
//!
//! Each row keeps what matching needs (scheme, bounds, fixed version,
//! architectures, module flag) and a shared [`Statement`] that its findings
//! point at; CVE ids are interned in string order. Version strings are
//! compared in place with [`patchwatch_versions::compare`], which never
//! allocates.
//!
//! Withdrawn advisories (OSV `withdrawn`, Debian `REJECTED`) are dropped at
//! build time. Rows whose version scheme has no ordering (Gentoo) are
//! dropped and counted.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use patchwatch_advisories::{Advisory, FixState, NameKind, Source};
use patchwatch_reports::model::{OsRelease, PackageType};
use patchwatch_versions::Scheme;

use crate::finding::{Feed, FindingState, Rule, Statement};
use crate::os_group::{OsGroups, OsScope};

/// Handle of a data scope inside one index.
pub type ScopeId = u32;

/// The vendor's statement for one package, as the matcher needs it.
#[derive(Debug, Clone)]
pub(crate) enum RowState {
    Fixed(Arc<str>),
    /// Never affected: a "clear" statement that can overrule a lower-ranked
    /// feed for the same CVE.
    NotAffected,
    Vulnerable(FindingState),
}

#[derive(Debug, Clone)]
pub(crate) struct RuleRow {
    pub adv: u32,
    pub scheme: Scheme,
    pub state: RowState,
    pub introduced: Option<Arc<str>>,
    pub last_affected: Option<Arc<str>>,
    /// Empty: every architecture.
    pub arch: Box<[Box<str>]>,
    pub modular: bool,
    /// What findings from this row say (shared by all of them).
    pub statement: Arc<Statement>,
}

#[derive(Debug, Clone)]
pub(crate) struct AdvMeta {
    /// Interned CVE ids, in string order after [`IndexBuilder::build`];
    /// position `i` is the statement's `cves[i]`. The advisory's own id
    /// when it names no CVE.
    pub cves: Box<[u32]>,
    pub rank: u8,
}

#[derive(Debug, Default)]
pub(crate) struct ScopeData {
    pub label: Arc<str>,
    pub by_source: HashMap<Box<str>, Vec<u32>>,
    pub by_binary: HashMap<Box<str>, Vec<u32>>,
}

/// Counts from the build, for logs and the performance report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub advisories: usize,
    pub withdrawn_dropped: usize,
    pub rows: usize,
    /// Rows whose scheme has no version ordering (Gentoo).
    pub unsupported_rows: usize,
    pub scopes: usize,
    pub cves: usize,
}

/// Package names a set of advisories talks about, for incremental
/// re-assessment (see [`crate::SetIndex`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TouchedNames {
    /// Source package names (Debian, Ubuntu, Alpine data).
    pub source: BTreeSet<String>,
    /// Binary package names (rpm data).
    pub binary: BTreeSet<String>,
}

impl TouchedNames {
    pub fn is_empty(&self) -> bool {
        self.source.is_empty() && self.binary.is_empty()
    }

    pub fn len(&self) -> usize {
        self.source.len() + self.binary.len()
    }
}

/// How much a feed's statement counts when several feeds speak about the
/// same CVE and package: the Debian tracker is per CVE and current, so it
/// overrules the older per-advisory DSA/DLA lists.
pub(crate) fn rank(source: Source) -> u8 {
    match source {
        Source::DebianTracker => 3,
        Source::DebianCveList | Source::UbuntuCveTracker => 2,
        Source::Osv
        | Source::DebianDsa
        | Source::DebianDla
        | Source::DebianDtsa
        | Source::AlpineSecdb => 1,
    }
}

pub(crate) fn scheme_of(kind: PackageType) -> Option<Scheme> {
    match kind {
        PackageType::Deb => Some(Scheme::Deb),
        PackageType::Rpm => Some(Scheme::Rpm),
        PackageType::Apk => Some(Scheme::Apk),
        PackageType::Pacman => Some(Scheme::Pacman),
        PackageType::Gentoo => None,
    }
}

/// Collects advisories; [`IndexBuilder::build`] freezes them into an index.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    index: AdvisoryIndex,
    cve_ids: HashMap<Arc<str>, u32>,
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    fn intern_cve(&mut self, cve: &str) -> u32 {
        if let Some(&i) = self.cve_ids.get(cve) {
            return i;
        }
        let arc: Arc<str> = Arc::from(cve);
        let i = self.index.cves.len() as u32;
        self.index.cves.push(arc.clone());
        self.cve_ids.insert(arc, i);
        i
    }

    fn scope(&mut self, distro: &str, release: &str) -> ScopeId {
        let key = OsScope::new(distro, release);
        if let Some(&id) = self.index.scope_ids.get(&key) {
            return id;
        }
        let id = self.index.scopes.len() as ScopeId;
        self.index.scopes.push(ScopeData {
            label: Arc::from(key.to_string()),
            ..ScopeData::default()
        });
        self.index.scope_ids.insert(key, id);
        id
    }

    /// Adds one advisory; a withdrawn one is counted and dropped.
    pub fn add(&mut self, adv: Advisory) {
        if adv.withdrawn {
            self.index.stats.withdrawn_dropped += 1;
            return;
        }
        let adv_idx = self.index.advisories.len() as u32;
        let id: Arc<str> = Arc::from(adv.id.as_str());
        let mut cves: Vec<u32> = adv.cves.iter().map(|c| self.intern_cve(c)).collect();
        if cves.is_empty() {
            cves.push(self.intern_cve(&adv.id));
        }
        cves.sort_unstable();
        cves.dedup();
        let cve_names: Arc<[Arc<str>]> = cves
            .iter()
            .map(|&c| self.index.cves[c as usize].clone())
            .collect();
        let adv_severity_raw: Option<Arc<str>> = adv.severity.raw.as_deref().map(Arc::from);
        let mut names = Vec::new();
        for row in adv.affected {
            let Some(scheme) = scheme_of(row.scheme) else {
                self.index.stats.unsupported_rows += 1;
                continue;
            };
            let state = match row.state {
                FixState::Fixed { version } => RowState::Fixed(Arc::from(version)),
                FixState::NotAffected => RowState::NotAffected,
                FixState::Affected => RowState::Vulnerable(FindingState::Affected),
                FixState::NoAdvisory => RowState::Vulnerable(FindingState::NoAdvisory),
                FixState::Deferred => RowState::Vulnerable(FindingState::Deferred),
                FixState::WillNotFix => RowState::Vulnerable(FindingState::WillNotFix),
                FixState::UnderInvestigation => {
                    RowState::Vulnerable(FindingState::UnderInvestigation)
                }
                FixState::EndOfLife => RowState::Vulnerable(FindingState::EndOfLife),
            };
            let (severity, severity_raw) = match &row.severity {
                Some(s) => (s.level, s.raw.as_deref().map(Arc::from)),
                None => (adv.severity.level, adv_severity_raw.clone()),
            };
            let introduced: Option<Arc<str>> = row.introduced.as_deref().map(Arc::from);
            let last_affected: Option<Arc<str>> = row.last_affected.as_deref().map(Arc::from);
            let scope = self.scope(&row.distro, &row.release);
            let (finding_state, fixed, rule) = match &state {
                RowState::Fixed(v) => (
                    FindingState::FixAvailable,
                    Some(v.clone()),
                    Rule::BelowFixed {
                        scheme,
                        introduced: introduced.clone(),
                    },
                ),
                // Not-affected rows never make a finding; the state is unused.
                RowState::NotAffected | RowState::Vulnerable(_) => (
                    match &state {
                        RowState::Vulnerable(s) => *s,
                        _ => FindingState::Affected,
                    },
                    None,
                    Rule::State {
                        scheme,
                        vendor_status: Arc::from(row.vendor_status.as_str()),
                        introduced: introduced.clone(),
                        last_affected: last_affected.clone(),
                    },
                ),
            };
            let statement = Arc::new(Statement {
                advisory: id.clone(),
                feed: Feed::Advisory(adv.source),
                data: self.index.scopes[scope as usize].label.clone(),
                cves: cve_names.clone(),
                state: finding_state,
                fixed,
                severity,
                severity_raw,
                rule,
            });
            let rule = RuleRow {
                adv: adv_idx,
                scheme,
                state,
                introduced,
                last_affected,
                arch: row.arch.iter().map(|a| Box::from(a.as_str())).collect(),
                modular: row.modular,
                statement,
            };
            let rule_idx = self.index.rules.len() as u32;
            self.index.rules.push(rule);
            let data = &mut self.index.scopes[scope as usize];
            let map = match row.name_kind {
                NameKind::Source => &mut data.by_source,
                NameKind::Binary => &mut data.by_binary,
            };
            match map.get_mut(row.package.as_str()) {
                Some(v) => v.push(rule_idx),
                None => {
                    map.insert(Box::from(row.package.as_str()), vec![rule_idx]);
                }
            }
            names.push((row.name_kind, row.package));
            self.index.stats.rows += 1;
        }
        self.index.advisories.push(AdvMeta {
            cves: cves.into_boxed_slice(),
            rank: rank(adv.source),
        });
        let touched = self
            .index
            .touched_by_id
            .entry((adv.source, id))
            .or_default();
        for (kind, name) in names {
            match kind {
                NameKind::Source => touched.source.insert(name),
                NameKind::Binary => touched.binary.insert(name),
            };
        }
        self.index.stats.advisories += 1;
    }

    pub fn build(mut self) -> AdvisoryIndex {
        // Renumber CVEs in string order, so that ordering findings by CVE id
        // is ordering them by CVE name (results come out sorted for free).
        let mut order: Vec<u32> = (0..self.index.cves.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            self.index.cves[a as usize].cmp(&self.index.cves[b as usize])
        });
        let mut new_id = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_id[old as usize] = new as u32;
        }
        self.index.cves = order
            .iter()
            .map(|&old| self.index.cves[old as usize].clone())
            .collect();
        for adv in &mut self.index.advisories {
            for c in adv.cves.iter_mut() {
                *c = new_id[*c as usize];
            }
        }
        self.cve_ids.clear();
        self.index.stats.scopes = self.index.scopes.len();
        self.index.stats.cves = self.index.cves.len();
        for s in &mut self.index.scopes {
            s.by_source.shrink_to_fit();
            s.by_binary.shrink_to_fit();
        }
        self.index.rules.shrink_to_fit();
        self.index
    }
}

/// All statements, keyed by data scope and package name, plus the OS groups
/// that say which scopes a host reads.
#[derive(Debug, Default)]
pub struct AdvisoryIndex {
    pub(crate) scopes: Vec<ScopeData>,
    scope_ids: HashMap<OsScope, ScopeId>,
    pub(crate) rules: Vec<RuleRow>,
    pub(crate) advisories: Vec<AdvMeta>,
    pub(crate) cves: Vec<Arc<str>>,
    /// Names each (feed, advisory id) touched: same-id statements from one
    /// feed (the tracker's one-CVE-per-source-package entries) are merged,
    /// which can only widen an incremental re-assessment, never narrow it.
    touched_by_id: HashMap<(Source, Arc<str>), TouchedNames>,
    groups: OsGroups,
    stats: IndexStats,
}

impl AdvisoryIndex {
    pub fn builder() -> IndexBuilder {
        IndexBuilder::new()
    }

    /// Builds an index from advisories in one go.
    pub fn build(advisories: impl IntoIterator<Item = Advisory>) -> AdvisoryIndex {
        let mut b = IndexBuilder::new();
        advisories.into_iter().for_each(|a| b.add(a));
        b.build()
    }

    /// Replaces the OS groups (admin configuration); the statements stay.
    pub fn with_os_groups(mut self, groups: OsGroups) -> AdvisoryIndex {
        self.groups = groups;
        self
    }

    pub fn set_os_groups(&mut self, groups: OsGroups) {
        self.groups = groups;
    }

    pub fn os_groups(&self) -> &OsGroups {
        &self.groups
    }

    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// The scope handle of `distro release`, if the index has data for it.
    pub fn scope_id(&self, scope: &OsScope) -> Option<ScopeId> {
        self.scope_ids.get(scope).copied()
    }

    /// Data scopes the index holds, with their handles.
    pub fn scopes(&self) -> impl Iterator<Item = (&OsScope, ScopeId)> {
        self.scope_ids.iter().map(|(s, &i)| (s, i))
    }

    /// The data scopes with statements that apply to `os` (OS groups first,
    /// then the automatic mapping). Empty: nothing applies.
    pub fn scopes_for(&self, os: &OsRelease) -> Vec<ScopeId> {
        let mut ids: Vec<ScopeId> = self
            .groups
            .scopes_for(os)
            .iter()
            .filter_map(|s| self.scope_id(s))
            .collect();
        ids.dedup();
        ids
    }

    pub(crate) fn bucket(&self, scope: ScopeId, kind: NameKind, name: &str) -> &[u32] {
        let Some(data) = self.scopes.get(scope as usize) else {
            return &[];
        };
        let map = match kind {
            NameKind::Source => &data.by_source,
            NameKind::Binary => &data.by_binary,
        };
        map.get(name).map_or(&[], Vec::as_slice)
    }

    /// Package names the `changed` advisories name, now or (for an id
    /// already in the index) before the change, so that a feed update
    /// re-assesses only the sets holding one of them. Withdrawn advisories
    /// count: withdrawing one clears findings.
    pub fn names_touched(&self, changed: &[Advisory]) -> TouchedNames {
        let mut out = TouchedNames::default();
        for adv in changed {
            for row in &adv.affected {
                let set = match row.name_kind {
                    NameKind::Source => &mut out.source,
                    NameKind::Binary => &mut out.binary,
                };
                if !set.contains(&row.package) {
                    set.insert(row.package.clone());
                }
            }
            if let Some(old) = self
                .touched_by_id
                .get(&(adv.source, Arc::from(adv.id.as_str())))
            {
                out.source.extend(old.source.iter().cloned());
                out.binary.extend(old.binary.iter().cloned());
            }
        }
        out
    }
}
