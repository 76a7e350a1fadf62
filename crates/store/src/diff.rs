//! What changed between two package lists: for `hosts history` and
//! `hosts diff`.

use std::collections::BTreeMap;

use patchwatch_reports::Package;
use serde::Serialize;

/// One line of a diff, keyed by package name and architecture so an upgrade
/// shows as one change rather than a removal and an addition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum PackageChange {
    Added {
        name: String,
        arch: String,
        version: String,
    },
    Removed {
        name: String,
        arch: String,
        version: String,
    },
    Changed {
        name: String,
        arch: String,
        from: String,
        to: String,
    },
}

impl PackageChange {
    pub fn name(&self) -> &str {
        match self {
            PackageChange::Added { name, .. }
            | PackageChange::Removed { name, .. }
            | PackageChange::Changed { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    pub changes: Vec<PackageChange>,
}

impl PackageDiff {
    /// Compares `old` with `new`. Several versions of one name and arch
    /// (kernels) are compared as sets of versions.
    pub fn between(old: &[Package], new: &[Package]) -> PackageDiff {
        type Versions = BTreeMap<(String, String), Vec<String>>;
        fn index(list: &[Package]) -> Versions {
            let mut m: Versions = BTreeMap::new();
            for p in list {
                m.entry((p.name.clone(), p.arch.clone()))
                    .or_default()
                    .push(p.evr());
            }
            for v in m.values_mut() {
                v.sort();
                v.dedup();
            }
            m
        }
        let (old, new) = (index(old), index(new));
        let mut changes = Vec::new();
        let mut keys: Vec<&(String, String)> = old.keys().chain(new.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let (name, arch) = (key.0.clone(), key.1.clone());
            let before = old.get(key).map(Vec::as_slice).unwrap_or_default();
            let after = new.get(key).map(Vec::as_slice).unwrap_or_default();
            if before == after {
                continue;
            }
            let gone: Vec<&String> = before.iter().filter(|v| !after.contains(v)).collect();
            let came: Vec<&String> = after.iter().filter(|v| !before.contains(v)).collect();
            if gone.len() == 1 && came.len() == 1 {
                changes.push(PackageChange::Changed {
                    name,
                    arch,
                    from: gone[0].clone(),
                    to: came[0].clone(),
                });
                continue;
            }
            for v in gone {
                changes.push(PackageChange::Removed {
                    name: name.clone(),
                    arch: arch.clone(),
                    version: v.clone(),
                });
            }
            for v in came {
                changes.push(PackageChange::Added {
                    name: name.clone(),
                    arch: arch.clone(),
                    version: v.clone(),
                });
            }
        }
        PackageDiff { changes }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchwatch_reports::PackageType;

    fn p(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            epoch: String::new(),
            version: version.into(),
            release: String::new(),
            arch: "x86_64".into(),
            kind: PackageType::Rpm,
            source_name: String::new(),
            source_version: String::new(),
        }
    }

    #[test]
    fn upgrades_additions_removals_and_kernels() {
        let old = [
            p("bash", "5.1"),
            p("vim", "9"),
            p("kernel", "1"),
            p("kernel", "2"),
        ];
        let new = [
            p("bash", "5.2"),
            p("curl", "8"),
            p("kernel", "2"),
            p("kernel", "3"),
        ];
        let d = PackageDiff::between(&old, &new);
        assert_eq!(
            d.changes,
            vec![
                PackageChange::Changed {
                    name: "bash".into(),
                    arch: "x86_64".into(),
                    from: "5.1".into(),
                    to: "5.2".into()
                },
                PackageChange::Added {
                    name: "curl".into(),
                    arch: "x86_64".into(),
                    version: "8".into()
                },
                PackageChange::Changed {
                    name: "kernel".into(),
                    arch: "x86_64".into(),
                    from: "1".into(),
                    to: "3".into()
                },
                PackageChange::Removed {
                    name: "vim".into(),
                    arch: "x86_64".into(),
                    version: "9".into()
                },
            ]
        );
        assert!(PackageDiff::between(&old, &old).is_empty());
    }
}
