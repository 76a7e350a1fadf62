//! Which version apk would install for each installed package.
//!
//! apk considers every repository of the host, except that a repository
//! given a tag in `/etc/apk/repositories` (`@edge https://…`) only offers
//! packages pinned to that tag in the world file (`name@edge`). Among the
//! allowed repositories the highest version of the name wins (apk's own
//! version ordering); it must have the installed arch (or be `noarch`).
//! apk ties go to the repository listed first.

use std::cmp::Ordering;
use std::collections::HashMap;

use patchwatch_reports::Package;
use patchwatch_versions::{Scheme, compare};

use crate::{RepoSnapshot, Update};

/// One line of the host's `/etc/apk/repositories`.
#[derive(Debug, Clone, Copy)]
pub struct ApkRepo<'a> {
    pub snapshot: &'a RepoSnapshot,
    /// The `@tag` the line starts with, if any.
    pub tag: Option<&'a str>,
}

/// The pins of a world file (`/etc/apk/world`): `name@tag` -> (name, tag).
/// Version constraints (`name=1.2`, `name>1`) are not pins and are ignored.
pub fn world_pins(world: &str) -> HashMap<String, String> {
    world
        .split_whitespace()
        .filter_map(|dep| {
            let (name, tag) = dep.split_once('@')?;
            let tag = tag.split(['=', '<', '>', '~']).next().unwrap_or(tag);
            Some((name.to_owned(), tag.to_owned()))
        })
        .collect()
}

/// The lines of `/etc/apk/repositories`: (tag, URL or path), comments
/// and blank lines skipped. `@edge https://…` gives `(Some("edge"), …)`.
pub fn repositories_file(text: &str) -> Vec<(Option<String>, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| match l.strip_prefix('@') {
            Some(tagged) => {
                let (tag, url) = tagged.split_once(char::is_whitespace)?;
                Some((Some(tag.to_owned()), url.trim().to_owned()))
            }
            None => Some((None, l.to_owned())),
        })
        .collect()
}

/// The packages of one repository set by name; built once per set.
pub struct ApkIndex<'a> {
    repos: Vec<Option<&'a str>>,
    by_name: HashMap<&'a str, Vec<(&'a Package, usize)>>,
}

impl<'a> ApkIndex<'a> {
    pub fn new(repos: &[ApkRepo<'a>]) -> ApkIndex<'a> {
        let mut by_name: HashMap<&'a str, Vec<(&'a Package, usize)>> = HashMap::new();
        for (i, r) in repos.iter().enumerate() {
            for p in &r.snapshot.packages {
                by_name
                    .entry(p.package.name.as_str())
                    .or_default()
                    .push((&p.package, i));
            }
        }
        ApkIndex {
            repos: repos.iter().map(|r| r.tag).collect(),
            by_name,
        }
    }

    /// apk's candidate for an installed package pinned to `pin` (if any):
    /// the package and the index of its repository.
    pub fn candidate(
        &self,
        name: &str,
        arch: &str,
        pin: Option<&str>,
    ) -> Option<(&'a Package, usize)> {
        let mut best: Option<(&'a Package, usize)> = None;
        for &(p, repo) in self.by_name.get(name)? {
            let allowed = match self.repos[repo] {
                None => true,
                Some(tag) => pin == Some(tag),
            };
            if !allowed || !(p.arch == arch || p.arch == "noarch" || arch.is_empty()) {
                continue;
            }
            if best.is_none_or(|(b, _)| {
                compare(Scheme::Apk, &p.version, &b.version) == Ordering::Greater
            }) {
                best = Some((p, repo));
            }
        }
        best
    }

    /// The updates `apk upgrade` would install, sorted by name. `pins` maps
    /// names to the repository tag the world file pins them to.
    pub fn updates(&self, installed: &[Package], pins: &HashMap<String, String>) -> Vec<Update> {
        let mut updates: Vec<Update> = installed
            .iter()
            .filter_map(|p| {
                let (c, repo) =
                    self.candidate(&p.name, &p.arch, pins.get(&p.name).map(String::as_str))?;
                if compare(Scheme::Apk, &c.version, &p.version) != Ordering::Greater {
                    return None;
                }
                Some(Update {
                    name: p.name.clone(),
                    arch: p.arch.clone(),
                    installed: p.version.clone(),
                    candidate: c.version.clone(),
                    repository: repo,
                    security: false,
                    cves: Vec::new(),
                    advisories: Vec::new(),
                    phased: false,
                })
            })
            .collect();
        updates.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
        updates
    }
}

/// Convenience for one host.
pub fn updates(
    installed: &[Package],
    repos: &[ApkRepo<'_>],
    pins: &HashMap<String, String>,
) -> Vec<Update> {
    ApkIndex::new(repos).updates(installed, pins)
}
