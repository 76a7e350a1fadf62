//! Which configured repositories a host uses: those its report names (the
//! native client's, Patchman's and Pakiti's repository lines), else the
//! defaults of its OS group (as Patchman's `use_host_repos=False` and
//! Pakiti v2 do); and how the host's package manager is configured to use
//! them (dnf module streams, priorities and costs, apk tags).
//!
//! Mirrors of one repository are one repository. A reported line is a
//! configured repository when it names it (id or name), or when one of its
//! URLs is the configured source or a mirror of it:
//!
//! * apt: the same path after the host (`/debian`, `/debian-security`) and
//!   the configured suite among the line's suites, with a component in
//!   common;
//! * rpm-md: the same `baseurl` path after the mirror host, or one path the
//!   whole tail of the other (`/pub/centos-stream/9-stream/BaseOS/x86_64/os`
//!   and `/9-stream/BaseOS/x86_64/os`), or the same mirrorlist/metalink URL;
//!   `$releasever`, `$basearch` and `$arch` are expanded for the host first;
//! * apk: the same branch and repository (`v3.21/main`), the URL's last two
//!   parts.
//!
//! Disabled lines (`enabled: false`) never match.
//!
//! apt pins come from the reported preferences files, parsed as apt reads
//! them; a file that does not parse is ignored whole (its pins are not
//! applied) and named with the reason in [`HostSources::ignored_preferences`],
//! so the report is still stored and `hosts updates` says why.

use std::collections::BTreeMap;

use patchwatch_assess::{OsGroups, OsScope};
use patchwatch_reports::{
    ApkPin, AptPreferences, ModuleStream, OsRelease, PackageType, Repository as ReportedRepository,
};
use patchwatch_repos::apt::{Pin, parse_preferences};
use patchwatch_store::{Repository, RepositoryKind};

/// The pins of a host's reported apt preferences files, and each file that
/// does not parse (left out whole, as apt would refuse it) named with the
/// reason: what `hosts updates`, the host updates API and the web host
/// page show.
pub fn apt_pins(files: &[AptPreferences]) -> (Vec<Pin>, Vec<String>) {
    let mut pins = Vec::new();
    let mut ignored = Vec::new();
    for p in files {
        match parse_preferences(&p.file, &p.content) {
            Ok(found) => pins.extend(found),
            Err(e) => ignored.push(e.to_string()),
        }
    }
    (pins, ignored)
}

/// The reported apt preferences files that do not parse, each with the
/// reason (see [`apt_pins`]).
pub fn ignored_preferences(files: &[AptPreferences]) -> Vec<String> {
    apt_pins(files).1
}

fn normalise(url: &str) -> &str {
    url.trim().trim_end_matches('/')
}

/// What the host is, for expanding dnf variables in its URLs.
#[derive(Debug, Clone, Copy)]
pub struct HostFacts<'a> {
    pub os: &'a OsRelease,
    /// As reported (`uname -m`: `x86_64`; dpkg's `amd64` is mapped).
    pub arch: &'a str,
    /// apk world pins (`name@tag`).
    pub apk_pins: &'a [ApkPin],
    /// apt preferences files, in the order apt reads them.
    pub apt_preferences: &'a [AptPreferences],
}

/// How the host's package manager uses one of the repositories it maps
/// to, from the report line that matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RepositoryUse {
    /// apk: the line's `@tag`.
    pub tag: Option<String>,
    /// dnf `priority=` on the host, overriding the configured one.
    pub priority: Option<i64>,
    /// dnf `cost=` on the host.
    pub cost: Option<i64>,
}

/// The repositories a host uses and how: what its candidates are computed
/// from. Two hosts with equal sources share one candidate index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct HostSources {
    /// Indexes into the configured repositories, in their stored order.
    pub repositories: Vec<usize>,
    /// One per repository, in the same order.
    pub uses: Vec<RepositoryUse>,
    /// Enabled dnf module streams as `name:stream`, sorted.
    pub module_streams: Vec<String>,
    /// apk world pins: package name -> tag.
    pub apk_pins: BTreeMap<String, String>,
    /// apt pins of the host's preferences files, in apt's order (the
    /// first matching pin wins).
    pub apt_pins: Vec<Pin>,
    /// Preferences files whose pins are not applied: `file: reason`.
    pub ignored_preferences: Vec<String>,
}

impl HostSources {
    pub fn is_empty(&self) -> bool {
        self.repositories.is_empty()
    }

    /// How the host uses its `position`th repository.
    pub fn use_of(&self, position: usize) -> Option<&RepositoryUse> {
        self.uses.get(position)
    }
}

fn reported_kind(kind: RepositoryKind) -> PackageType {
    match kind {
        RepositoryKind::Apt => PackageType::Deb,
        RepositoryKind::RpmMd => PackageType::Rpm,
        RepositoryKind::Apk => PackageType::Apk,
    }
}

/// `scheme://host/path?query` -> (`path` segments, `query`), lower-casing
/// nothing: paths are case-sensitive on mirrors.
fn path_after_host(url: &str) -> Option<Vec<&str>> {
    let (_, rest) = url.split_once("://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    Some(path.split('/').filter(|s| !s.is_empty()).collect())
}

/// The host's value of a dnf variable: `$basearch` and `$arch` from its
/// architecture, `$releasever` from its OS release (the major one, as the
/// release packages of RHEL and its rebuilds provide it).
fn dnf_variable<'a>(name: &str, host: &HostFacts<'a>) -> Option<&'a str> {
    let arch = match host.arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    };
    match name {
        "basearch" => Some(match arch {
            "i686" | "i586" | "i486" | "athlon" => "i386",
            a if a.starts_with("armv7") => "armhfp",
            a => a,
        }),
        "arch" => Some(arch),
        "releasever" if !host.os.is_unknown() && !host.os.release.is_empty() => {
            Some(host.os.major())
        }
        _ => None,
    }
    .filter(|v| !v.is_empty())
}

/// `$name` and `${name}` replaced where the host's value is known; the
/// others stay as they are.
fn expand(url: &str, host: &HostFacts<'_>) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let (name, skip) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after.find(|c| !is_name(c)).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match dnf_variable(name, host).filter(|_| !name.is_empty() && name.chars().all(is_name)) {
            Some(value) => {
                out.push_str(value);
                rest = &after[skip..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether one path is the other's whole tail (mirrors put a repository
/// under different prefixes). Two segments at least, so `os` alone never
/// makes two repositories one.
fn same_tail(a: &[&str], b: &[&str]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return false;
    }
    if short.len() == long.len() {
        return short == long;
    }
    short.len() >= 2 && long.ends_with(short)
}

/// apt: a reported URL is the configured archive or a mirror of it; a
/// Patchman-style `BASE/dists/SUITE/COMPONENT/binary-ARCH` URL names its
/// suite too, returned.
fn apt_url_matches<'u>(source: &str, url: &'u str) -> Option<Option<&'u str>> {
    let url = normalise(url);
    // Pakiti and older clients: `URL SUITE/COMPONENT` in one string.
    let first = url.split_whitespace().next().unwrap_or(url);
    let first = normalise(first);
    let (base, suite) = match first.split_once("/dists/") {
        Some((base, rest)) => (base, rest.split('/').next()),
        None => (first, None),
    };
    if base == source {
        return Some(suite);
    }
    let (Some(a), Some(b)) = (path_after_host(base), path_after_host(source)) else {
        return None;
    };
    (!a.is_empty() && a == b).then_some(suite)
}

fn apt_matches(configured: &Repository, reported: &ReportedRepository) -> bool {
    let source = normalise(&configured.source);
    let mut dists_suites = Vec::new();
    let mut any_url = false;
    for u in &reported.urls {
        if let Some(suite) = apt_url_matches(source, u) {
            any_url = true;
            dists_suites.extend(suite);
        }
    }
    if !any_url {
        return false;
    }
    if configured.suite.is_empty() {
        return true;
    }
    let suite = configured.suite.as_str();
    let suite_named = if reported.suites.is_empty() {
        // Lines without `suites` (older clients, Patchman, Pakiti) name the
        // suite somewhere in their name, id or URL.
        dists_suites.contains(&suite)
            || [&reported.name, &reported.id]
                .into_iter()
                .chain(&reported.urls)
                .any(|t| t.split([' ', '/', '\t']).any(|w| w == suite))
    } else {
        reported.suites.iter().any(|s| s == suite)
    };
    if !suite_named {
        return false;
    }
    // The index read is `main` when no component is configured.
    let main = ["main".to_owned()];
    let wanted = if configured.components.is_empty() {
        &main[..]
    } else {
        &configured.components[..]
    };
    reported.components.is_empty() || reported.components.iter().any(|c| wanted.contains(c))
}

fn rpm_matches(
    configured: &Repository,
    reported: &ReportedRepository,
    host: &HostFacts<'_>,
) -> bool {
    let source = normalise(&configured.source);
    let source_path = path_after_host(source);
    let base_matches = reported.urls.iter().any(|u| {
        let u = expand(u, host);
        let u = normalise(&u);
        u == source
            || u.split_whitespace().next() == Some(source)
            || match (path_after_host(u), &source_path) {
                (Some(a), Some(b)) => same_tail(&a, b),
                _ => false,
            }
    });
    base_matches
        || [&reported.mirrorlist, &reported.metalink]
            .into_iter()
            .filter(|u| !u.is_empty())
            .any(|u| normalise(&expand(u, host)) == source)
}

/// `.../v3.21/main` -> `v3.21/main`; an `APKINDEX.tar.gz` and the
/// architecture directory above it are not part of it.
fn apk_branch(url: &str) -> Option<(&str, &str)> {
    let mut parts: Vec<&str> = normalise(url)
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    if parts.last() == Some(&"APKINDEX.tar.gz") {
        parts.pop();
        parts.pop();
    }
    let n = parts.len();
    (n >= 3).then(|| (parts[n - 2], parts[n - 1]))
}

fn apk_matches(configured: &Repository, reported: &ReportedRepository) -> bool {
    let Some(wanted) = apk_branch(&configured.source) else {
        return false;
    };
    reported
        .urls
        .iter()
        .any(|u| normalise(u) == normalise(&configured.source) || apk_branch(u) == Some(wanted))
}

/// Whether a repository line of the host's report is this configured
/// repository (see the module documentation).
fn reported_matches(
    configured: &Repository,
    reported: &ReportedRepository,
    host: &HostFacts<'_>,
) -> bool {
    if !reported.is_enabled() {
        return false;
    }
    if (!reported.id.is_empty() && reported.id == configured.name)
        || (!reported.name.is_empty() && reported.name == configured.name)
    {
        return true;
    }
    if reported.kind != reported_kind(configured.kind) {
        return false;
    }
    match configured.kind {
        RepositoryKind::Apt => apt_matches(configured, reported),
        RepositoryKind::RpmMd => rpm_matches(configured, reported, host),
        RepositoryKind::Apk => apk_matches(configured, reported),
    }
}

/// The names an OS answers to for `default_for`: its OS group's name, its
/// data scopes (`debian 12`) and its exact release (`debian 12.5`).
pub fn os_group_names(os: &OsRelease, groups: &OsGroups) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(g) = groups.group_of(os) {
        names.push(g.name.to_ascii_lowercase());
    }
    for scope in groups.scopes_for(os) {
        names.push(format!("{} {}", scope.distro, scope.release));
    }
    if let Some(scope) = OsScope::automatic(os) {
        names.push(format!("{} {}", scope.distro, scope.release));
    }
    names.push(format!("{} {}", os.distro, os.release).to_ascii_lowercase());
    names.dedup();
    names
}

/// The repositories a host uses and how (see the module documentation):
/// `configured` are the enabled repositories with a snapshot, in their
/// stored order.
pub fn host_sources(
    configured: &[&Repository],
    reported: &[ReportedRepository],
    module_streams: &[ModuleStream],
    host: &HostFacts<'_>,
    groups: &OsGroups,
) -> HostSources {
    let mut sources = HostSources {
        apk_pins: host
            .apk_pins
            .iter()
            .map(|p| (p.name.clone(), p.tag.clone()))
            .collect(),
        module_streams: module_streams
            .iter()
            .map(|m| format!("{}:{}", m.name, m.stream))
            .collect(),
        ..HostSources::default()
    };
    sources.module_streams.sort();
    sources.module_streams.dedup();
    let (pins, ignored) = apt_pins(host.apt_preferences);
    sources.apt_pins = pins;
    sources.ignored_preferences = ignored;
    for (i, c) in configured.iter().enumerate() {
        let mut lines = reported.iter().filter(|r| reported_matches(c, r, host));
        let Some(first) = lines.next() else {
            continue;
        };
        // An untagged line wins over a tagged one for the same repository:
        // apk then offers it to every package.
        let line = std::iter::once(first)
            .chain(lines)
            .find(|r| r.tag.is_empty())
            .unwrap_or(first);
        sources.repositories.push(i);
        sources.uses.push(RepositoryUse {
            tag: (!line.tag.is_empty()).then(|| line.tag.clone()),
            priority: line.priority.filter(|_| c.kind == RepositoryKind::RpmMd),
            cost: line.cost.filter(|_| c.kind == RepositoryKind::RpmMd),
        });
    }
    if !sources.repositories.is_empty() {
        return sources;
    }
    let names = os_group_names(host.os, groups);
    for (i, c) in configured.iter().enumerate() {
        if c.default_for
            .iter()
            .any(|g| names.iter().any(|n| n.eq_ignore_ascii_case(g.trim())))
        {
            sources.repositories.push(i);
            sources.uses.push(RepositoryUse::default());
        }
    }
    sources
}

/// Indexes into `configured` of the repositories the host uses, for
/// callers that know neither its architecture nor its module streams
/// (`$basearch` in a reported URL then stays unexpanded).
pub fn repositories_for_host(
    configured: &[&Repository],
    reported: &[ReportedRepository],
    os: &OsRelease,
    groups: &OsGroups,
) -> Vec<usize> {
    let host = HostFacts {
        os,
        arch: "",
        apk_pins: &[],
        apt_preferences: &[],
    };
    host_sources(configured, reported, &[], &host, groups).repositories
}

#[cfg(test)]
mod tests;
