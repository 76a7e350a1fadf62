use super::*;
use crate::model::{AvailablePackage, RepoKind};

fn pkg(name: &str, evr: &str, arch: &str) -> Package {
    let (epoch, version, release) = Package::split_evr(PackageType::Deb, evr);
    Package {
        name: name.into(),
        epoch,
        version,
        release,
        arch: arch.into(),
        kind: PackageType::Deb,
        source_name: name.into(),
        source_version: evr.into(),
    }
}

fn repo(suite: &str, packages: &[(&str, &str, &str)]) -> RepoSnapshot {
    RepoSnapshot {
        kind: RepoKind::Apt,
        meta: RepoMeta {
            suite: suite.into(),
            codename: suite.replace("stable", "bookworm"),
            origin: "Debian".into(),
            components: vec!["main".into()],
            ..RepoMeta::default()
        },
        packages: packages
            .iter()
            .map(|(n, v, a)| AvailablePackage {
                package: pkg(n, v, a),
                module: None,
                phased_percentage: None,
                multi_arch: String::new(),
            })
            .collect(),
        advisories: Vec::new(),
        modules: Vec::new(),
    }
}

fn candidates(repos: &[&RepoSnapshot], config: &AptConfig, installed: &[Package]) -> Vec<String> {
    AptIndex::build(repos, config)
        .updates(installed)
        .into_iter()
        .map(|u| {
            format!(
                "{} {}->{} r{}{}{}",
                u.update.name,
                u.update.installed,
                u.update.candidate,
                u.update.repository,
                if u.update.security { " security" } else { "" },
                if u.update.phased { " phased" } else { "" },
            )
        })
        .collect()
}

fn amd64() -> AptConfig {
    AptConfig::new("amd64")
}

#[test]
fn highest_version_among_equal_priorities() {
    let main = repo("stable", &[("a", "1.0-2", "amd64")]);
    let updates = repo("stable-updates", &[("a", "1.0-3", "amd64")]);
    let got = candidates(&[&main, &updates], &amd64(), &[pkg("a", "1.0-1", "amd64")]);
    assert_eq!(got, ["a 1.0-1->1.0-3 r1"]);
}

#[test]
fn not_automatic_is_never_an_upgrade_but_automatic_upgrades_is() {
    let main = repo(
        "stable",
        &[("a", "1.0-1", "amd64"), ("b", "1.0-1", "amd64")],
    );
    let mut experimental = repo("experimental", &[("a", "2.0-1", "amd64")]);
    experimental.meta.not_automatic = true;
    let mut backports = repo("stable-backports", &[("b", "2.0-1", "amd64")]);
    backports.meta.not_automatic = true;
    backports.meta.but_automatic_upgrades = true;
    let installed = [pkg("a", "1.0-1", "amd64"), pkg("b", "1.0-1", "amd64")];
    let got = candidates(&[&main, &experimental, &backports], &amd64(), &installed);
    // Installed (100, and 500 from main) beats experimental's 1; main's 500
    // beats backports' 100 for `b`, installed from main.
    assert!(got.is_empty(), "{got:?}");
    // Installed from backports only: 100 each, the higher version wins.
    let installed = [pkg("b", "2.0-0", "amd64")];
    let got = candidates(&[&main, &backports], &amd64(), &installed);
    assert_eq!(got, ["b 2.0-0->2.0-1 r1"]);
    // A version only in experimental above the installed one: installed
    // (status file, 100) beats 1 even though it is the lower version.
    let installed = [pkg("a", "0.9-1", "amd64")];
    let got = candidates(&[&experimental], &amd64(), &installed);
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn no_downgrade_below_priority_1000() {
    let main = repo("stable", &[("a", "1.0-1", "amd64")]);
    let installed = [pkg("a", "2.0-1", "amd64")];
    assert!(candidates(&[&main], &amd64(), &installed).is_empty());
    let mut config = amd64();
    config.pins.push(Pin {
        packages: vec!["a".into()],
        target: PinTarget::Version("1.0*".into()),
        priority: 1001,
    });
    let index = AptIndex::build(&[&main], &config);
    // The pin makes 1.0-1 apt's candidate, but a downgrade is no update.
    assert!(index.updates(&installed).is_empty());
}

#[test]
fn pins_choose_between_repositories() {
    let main = repo("stable", &[("a", "1.0-2", "amd64")]);
    let testing = repo("testing", &[("a", "1.5-1", "amd64")]);
    let installed = [pkg("a", "1.0-1", "amd64")];
    let mut config = amd64();
    config.pins.push(Pin {
        packages: Vec::new(),
        target: PinTarget::Release(ReleaseMatch {
            archive: Some("testing".into()),
            ..ReleaseMatch::default()
        }),
        priority: 50,
    });
    assert_eq!(
        candidates(&[&main, &testing], &config, &installed),
        ["a 1.0-1->1.0-2 r0"]
    );
    config.pins.insert(
        0,
        Pin {
            packages: vec!["a*".into()],
            target: PinTarget::Release(ReleaseMatch {
                codename: Some("testing".into()),
                ..ReleaseMatch::default()
            }),
            priority: 600,
        },
    );
    assert_eq!(
        candidates(&[&main, &testing], &config, &installed),
        ["a 1.0-1->1.5-1 r1"]
    );
    // A pin to a negative priority forbids the repository.
    let mut config = amd64();
    config.pins.push(Pin {
        packages: Vec::new(),
        target: PinTarget::Release(ReleaseMatch {
            archive: Some("test*".into()),
            ..ReleaseMatch::default()
        }),
        priority: -1,
    });
    assert_eq!(
        candidates(&[&main, &testing], &config, &installed),
        ["a 1.0-1->1.0-2 r0"]
    );
}

#[test]
fn architecture_all_competes_with_native_only() {
    let main = repo(
        "stable",
        &[
            ("a", "2.0-1", "all"),
            ("b", "1.1-1", "amd64"),
            ("c", "1.1-1", "i386"),
        ],
    );
    let installed = [
        pkg("a", "1.0-1", "amd64"),
        pkg("b", "1.0-1", "all"),
        pkg("c", "1.0-1", "amd64"),
        pkg("c", "1.0-1", "i386"),
    ];
    let index = AptIndex::build(&[&main], &amd64());
    let got: Vec<_> = index
        .updates(&installed)
        .into_iter()
        .map(|u| {
            format!(
                "{}:{} {} {}",
                u.update.name, u.update.arch, u.update.candidate, u.candidate_arch
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "a:amd64 2.0-1 all",
            "b:all 1.1-1 amd64",
            "c:i386 1.1-1 i386"
        ]
    );
}

#[test]
fn security_when_the_candidate_or_a_skipped_version_is_from_security() {
    let main = repo(
        "stable",
        &[("a", "1.0-1", "amd64"), ("b", "1.0-1", "amd64")],
    );
    let security = repo(
        "stable-security",
        &[("a", "1.0-2", "amd64"), ("b", "1.0-2", "amd64")],
    );
    let updates = repo("stable-updates", &[("a", "1.0-3", "amd64")]);
    let installed = [pkg("a", "1.0-1", "amd64"), pkg("b", "1.0-1", "amd64")];
    let got = candidates(&[&main, &security, &updates], &amd64(), &installed);
    assert_eq!(
        got,
        ["a 1.0-1->1.0-3 r2 security", "b 1.0-1->1.0-2 r1 security"]
    );
    // Already past the security version: a plain update.
    let installed = [pkg("a", "1.0-2", "amd64")];
    let got = candidates(&[&main, &security, &updates], &amd64(), &installed);
    assert_eq!(got, ["a 1.0-2->1.0-3 r2"]);
}

#[test]
fn phased_updates_are_flagged_unless_security() {
    let mut updates = repo(
        "jammy-updates",
        &[("a", "1.0-2", "amd64"), ("b", "1.0-2", "amd64")],
    );
    for p in &mut updates.packages {
        p.phased_percentage = Some(10);
    }
    let mut security = repo("jammy-security", &[("b", "1.0-2", "amd64")]);
    security.packages[0].phased_percentage = Some(10);
    let installed = [pkg("a", "1.0-1", "amd64"), pkg("b", "1.0-1", "amd64")];
    let got = candidates(&[&updates, &security], &amd64(), &installed);
    assert_eq!(
        got,
        ["a 1.0-1->1.0-2 r0 phased", "b 1.0-1->1.0-2 r0 security"]
    );
}

#[test]
fn identical_hosts_share_one_result() {
    let main = repo("stable", &[("a", "1.0-2", "amd64")]);
    let index = AptIndex::build(&[&main], &amd64());
    let one = vec![pkg("a", "1.0-1", "amd64")];
    let two = vec![pkg("a", "1.0-2", "amd64")];
    let hosts: Vec<&[Package]> = vec![&one, &two, &one];
    let r = index.updates_many(&hosts);
    assert_eq!(r.sets.len(), 3);
    assert_eq!(r.updates.len(), 1);
    let first: Vec<_> = r.set(0).map(|u| u.update.candidate.as_str()).collect();
    assert_eq!(first, ["1.0-2"]);
    assert_eq!(r.set(1).count(), 0);
    assert!(std::sync::Arc::ptr_eq(&r.sets[0], &r.sets[2]));
    assert_eq!(index.updates(&one), r.set(0).cloned().collect::<Vec<_>>());

    // The same as stored sets: packages by id, sets as member ids.
    let packages = vec![(7, one[0].clone()), (9, two[0].clone())];
    let sets = vec![(1, vec![7]), (2, vec![9]), (3, vec![7, 9, 404])];
    let r = index.updates_for_sets(&packages, &sets);
    assert_eq!(r.updates.len(), 1);
    assert_eq!(r.set(0).count(), 1);
    assert_eq!(r.set(1).count(), 0);
    assert_eq!(r.set(2).next(), r.set(0).next());
}

#[test]
fn globs() {
    assert!(glob("*", ""));
    assert!(glob("a*c", "abc"));
    assert!(glob("a*b*c", "aXbYc"));
    assert!(!glob("a*b*c", "aXc"));
    assert!(!glob("ab*b", "ab"));
    assert!(glob("1.0*", "1.0-1"));
}

#[test]
fn origin_of_installed_versions() {
    let main = repo("stable", &[("a", "1.0-1", "amd64"), ("b", "1.0-1", "all")]);
    let security = repo("stable-security", &[("a", "1.0-1", "amd64")]);
    let index = AptIndex::build(&[&main, &security], &amd64());
    assert_eq!(
        index.installed_origin(&pkg("a", "1.0-1", "amd64")),
        InstalledOrigin::Repositories(vec![0, 1])
    );
    assert_eq!(
        index.installed_origin(&pkg("b", "1.0-1", "all")),
        InstalledOrigin::Repositories(vec![0])
    );
    assert_eq!(
        index.installed_origin(&pkg("a", "1.0-1+local1", "amd64")),
        InstalledOrigin::NotOffered { newer: true }
    );
    assert_eq!(
        index.installed_origin(&pkg("a", "0.9-1", "amd64")),
        InstalledOrigin::NotOffered { newer: false }
    );
    assert_eq!(
        index.installed_origin(&pkg("site-tool", "1", "amd64")),
        InstalledOrigin::Unknown
    );
}
