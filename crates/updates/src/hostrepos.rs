//! Which configured repositories a host uses: those its report names (the
//! native client's, Patchman's and Pakiti's repository lines, matched by
//! name, id or any mirror URL), else the defaults of its OS group (as
//! Patchman's `use_host_repos=False` and Pakiti v2 do).

use patchwatch_assess::{OsGroups, OsScope};
use patchwatch_reports::{OsRelease, Repository as ReportedRepository};
use patchwatch_store::{Repository, RepositoryKind};

fn normalise(url: &str) -> &str {
    url.trim().trim_end_matches('/')
}

/// Whether a repository line of the host's report is this configured
/// repository. Mirrors of one repository are one repository: any of the
/// line's URLs equal to the configured source matches; for apt the line
/// must also name the suite (sources.list lines are per suite).
fn reported_matches(configured: &Repository, reported: &ReportedRepository) -> bool {
    if (!reported.id.is_empty() && reported.id == configured.name)
        || (!reported.name.is_empty() && reported.name == configured.name)
    {
        return true;
    }
    let source = normalise(&configured.source);
    // Patchman sends apt repositories as `BASE/dists/SUITE/COMPONENT/binary-ARCH`.
    let dists = format!("{source}/dists/{}/", configured.suite);
    let url_matches = reported.urls.iter().any(|u| {
        let u = normalise(u);
        u == source
            || u.split_whitespace().next() == Some(source)
            || (!configured.suite.is_empty() && u.starts_with(&dists))
    });
    if !url_matches {
        return false;
    }
    configured.kind != RepositoryKind::Apt
        || configured.suite.is_empty()
        || [&reported.name, &reported.id]
            .into_iter()
            .chain(&reported.urls)
            .any(|t| t.split([' ', '/', '\t']).any(|w| w == configured.suite))
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

/// Indexes into `configured` (enabled repositories with a snapshot, in
/// their stored order) of the repositories the host uses.
pub fn repositories_for_host(
    configured: &[&Repository],
    reported: &[ReportedRepository],
    os: &OsRelease,
    groups: &OsGroups,
) -> Vec<usize> {
    let from_report: Vec<usize> = configured
        .iter()
        .enumerate()
        .filter(|(_, c)| reported.iter().any(|r| reported_matches(c, r)))
        .map(|(i, _)| i)
        .collect();
    if !from_report.is_empty() {
        return from_report;
    }
    let names = os_group_names(os, groups);
    configured
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.default_for
                .iter()
                .any(|g| names.iter().any(|n| n.eq_ignore_ascii_case(g.trim())))
        })
        .map(|(i, _)| i)
        .collect()
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
}
