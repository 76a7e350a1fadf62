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

use std::collections::BTreeMap;

use patchwatch_assess::{OsGroups, OsScope};
use patchwatch_reports::{
    ApkPin, ModuleStream, OsRelease, PackageType, Repository as ReportedRepository,
};
use patchwatch_store::{Repository, RepositoryKind};

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
    };
    host_sources(configured, reported, &[], &host, groups).repositories
}

#[cfg(test)]
mod tests {
    use patchwatch_reports::PackageType;
    use patchwatch_store::repos::created_repository;
    use patchwatch_store::{NewRepository, RepositoryKind};

    use super::*;

    fn repo(name: &str, kind: RepositoryKind, source: &str, suite: &str) -> Repository {
        created_repository(
            1,
            &NewRepository {
                name: name.into(),
                kind,
                source: source.into(),
                suite: suite.into(),
                components: vec![],
                architectures: vec![],
                priority: 0,
                cost: 1000,
                default_for: vec!["debian 12".into(), "rocky".into()],
            },
            0,
        )
    }

    fn reported(kind: PackageType, name: &str, urls: &[&str]) -> ReportedRepository {
        ReportedRepository {
            kind,
            name: name.into(),
            id: String::new(),
            priority: None,
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            ..ReportedRepository::new(kind)
        }
    }

    fn os(distro: &str, release: &str) -> OsRelease {
        OsRelease {
            distro: distro.into(),
            release: release.into(),
        }
    }

    #[test]
    fn report_lines_match_by_name_or_any_mirror_and_apt_needs_the_suite() {
        let security = repo(
            "deb-sec",
            RepositoryKind::Apt,
            "http://deb.debian.org/debian-security/",
            "bookworm-security",
        );
        let appstream = repo(
            "appstream",
            RepositoryKind::RpmMd,
            "https://mirror.example/9/AppStream/x86_64/os",
            "",
        );
        let configured = [&security, &appstream];
        let none = OsGroups::none();
        let debian = os("debian", "12.5");
        let line = reported(
            PackageType::Deb,
            "",
            &["http://deb.debian.org/debian-security bookworm-security/main"],
        );
        assert_eq!(
            repositories_for_host(&configured, &[line], &debian, &none),
            [0]
        );
        // The same archive, another suite: not this repository, so the
        // OS defaults apply (both are defaults for debian 12).
        let other_suite = reported(
            PackageType::Deb,
            "",
            &["http://deb.debian.org/debian-security trixie-security/main"],
        );
        assert_eq!(
            repositories_for_host(&configured, &[other_suite], &debian, &none),
            [0, 1]
        );
        // A mirror list: any URL matches; and by name.
        let mirrors = reported(
            PackageType::Rpm,
            "",
            &[
                "https://other.example/x",
                "https://mirror.example/9/AppStream/x86_64/os/",
            ],
        );
        assert_eq!(
            repositories_for_host(&configured, &[mirrors], &os("rocky", "9.5"), &none),
            [1]
        );
        let by_name = reported(PackageType::Rpm, "appstream", &[]);
        assert_eq!(
            repositories_for_host(&configured, &[by_name], &debian, &none),
            [1]
        );
        // No match and no default: none.
        assert!(repositories_for_host(&configured, &[], &os("alpine", "3.21.2"), &none).is_empty());
        assert_eq!(os_group_names(&debian, &none), ["debian 12", "debian 12.5"]);
    }

    fn apt_line(urls: &[&str], suites: &[&str], components: &[&str]) -> ReportedRepository {
        ReportedRepository {
            suites: suites.iter().map(|s| (*s).to_owned()).collect(),
            components: components.iter().map(|s| (*s).to_owned()).collect(),
            ..reported(PackageType::Deb, "", urls)
        }
    }

    #[test]
    fn apt_mirrors_are_one_repository_by_suite_and_component() {
        let mut main = repo(
            "bookworm",
            RepositoryKind::Apt,
            "http://deb.debian.org/debian",
            "bookworm",
        );
        main.default_for.clear();
        let mut security = repo(
            "bookworm-security",
            RepositoryKind::Apt,
            "http://deb.debian.org/debian-security/",
            "bookworm-security",
        );
        security.default_for.clear();
        let configured = [&main, &security];
        let none = OsGroups::none();
        let debian = os("debian", "12.5");
        let host = HostFacts {
            os: &debian,
            arch: "x86_64",
            apk_pins: &[],
        };
        let sources = |lines: &[ReportedRepository]| {
            host_sources(&configured, lines, &[], &host, &none).repositories
        };
        // A national mirror, several URIs and suites in one stanza.
        let stanza = apt_line(
            &["http://ftp.cz.debian.org/debian/", "http://other.example/x"],
            &["bookworm", "bookworm-updates"],
            &["main", "contrib"],
        );
        assert_eq!(sources(std::slice::from_ref(&stanza)), [0]);
        // security.debian.org is a mirror of deb.debian.org/debian-security.
        let sec = apt_line(
            &["http://security.debian.org/debian-security"],
            &["bookworm-security"],
            &["main"],
        );
        assert_eq!(sources(&[stanza.clone(), sec.clone()]), [0, 1]);
        // Disabled, another component only, another suite, another archive:
        // none of them.
        let disabled = ReportedRepository {
            enabled: Some(false),
            ..stanza.clone()
        };
        let contrib_only = apt_line(
            &["http://deb.debian.org/debian"],
            &["bookworm"],
            &["contrib"],
        );
        let trixie = apt_line(&["http://deb.debian.org/debian"], &["trixie"], &["main"]);
        let ubuntu = apt_line(
            &["http://archive.ubuntu.com/ubuntu"],
            &["bookworm"],
            &["main"],
        );
        for line in [disabled, contrib_only, trixie, ubuntu] {
            assert!(sources(std::slice::from_ref(&line)).is_empty(), "{line:?}");
        }
        // Patchman's per-index URL on a mirror names the suite itself.
        let patchman = reported(
            PackageType::Deb,
            "Debian 12 amd64",
            &["http://ftp.cz.debian.org/debian/dists/bookworm/main/binary-amd64"],
        );
        assert_eq!(sources(&[patchman]), [0]);
    }

    #[test]
    fn rpm_mirrors_by_path_tail_and_metalink_with_variables_expanded() {
        let baseos = repo(
            "c9s-baseos",
            RepositoryKind::RpmMd,
            "https://mirror.stream.centos.org/9-stream/BaseOS/x86_64/os/",
            "",
        );
        let appstream = repo(
            "c9s-appstream",
            RepositoryKind::RpmMd,
            "https://mirrors.centos.org/metalink?repo=centos-appstream-9-stream&arch=x86_64",
            "",
        );
        let rocky = repo(
            "rocky9-baseos",
            RepositoryKind::RpmMd,
            "https://dl.rockylinux.org/pub/rocky/9/BaseOS/x86_64/os",
            "",
        );
        let configured = [&baseos, &appstream, &rocky];
        let none = OsGroups::none();
        let centos = os("centos", "9");
        let host = HostFacts {
            os: &centos,
            arch: "x86_64",
            apk_pins: &[],
        };
        let line = |urls: &[&str], metalink: &str| ReportedRepository {
            id: "some-id".into(),
            metalink: metalink.into(),
            priority: Some(10),
            cost: Some(500),
            ..reported(PackageType::Rpm, "", urls)
        };
        let streams = [ModuleStream {
            name: "nodejs".into(),
            stream: "18".into(),
        }];
        let got = host_sources(
            &configured,
            &[
                line(
                    &[
                        "http://mirror.example.cz/pub/centos-stream/$releasever-stream/BaseOS/$basearch/os/",
                    ],
                    "",
                ),
                line(
                    &[],
                    "https://mirrors.centos.org/metalink?repo=centos-appstream-$releasever-stream&arch=${basearch}",
                ),
            ],
            &streams,
            &host,
            &none,
        );
        assert_eq!(got.repositories, [0, 1]);
        assert_eq!(got.module_streams, ["nodejs:18"]);
        assert_eq!(
            got.uses[0],
            RepositoryUse {
                tag: None,
                priority: Some(10),
                cost: Some(500)
            }
        );
        // Rocky's BaseOS shares the tail `BaseOS/x86_64/os` only: another
        // repository.
        let rocky_line = line(&["https://mirror.example/9-stream/BaseOS/x86_64/os"], "");
        assert_eq!(
            host_sources(&configured, &[rocky_line], &[], &host, &none).repositories,
            [0]
        );
        assert_eq!(
            expand("a/$releasever/${basearch}/$unknown/${x/$", &host),
            "a/9/x86_64/$unknown/${x/$"
        );
    }

    #[test]
    fn apk_lines_match_by_branch_and_keep_their_tag() {
        let main = repo(
            "alpine-main",
            RepositoryKind::Apk,
            "https://dl-cdn.alpinelinux.org/alpine/v3.21/main",
            "",
        );
        let testing = repo(
            "edge-testing",
            RepositoryKind::Apk,
            "/srv/mirror/alpine/edge/testing/x86_64/APKINDEX.tar.gz",
            "",
        );
        let configured = [&main, &testing];
        let alpine = os("alpine", "3.21.2");
        let host = HostFacts {
            os: &alpine,
            arch: "x86_64",
            apk_pins: &[],
        };
        let lines = [
            reported(
                PackageType::Apk,
                "v3.21/main",
                &["http://mirror.example.edu/alpine/v3.21/main/"],
            ),
            ReportedRepository {
                tag: "testing".into(),
                ..reported(
                    PackageType::Apk,
                    "@testing edge/testing",
                    &["https://dl-cdn.alpinelinux.org/alpine/edge/testing"],
                )
            },
            reported(
                PackageType::Apk,
                "v3.20/main",
                &["https://dl-cdn.alpinelinux.org/alpine/v3.20/main"],
            ),
        ];
        let got = host_sources(&configured, &lines, &[], &host, &OsGroups::none());
        assert_eq!(got.repositories, [0, 1]);
        assert_eq!(got.uses[0].tag, None);
        assert_eq!(got.uses[1].tag.as_deref(), Some("testing"));
    }
}
