//! The kept fleet updates on the real data: a fleet built from the real
//! Debian 12 and RHEL 9 inventories, the real bookworm suites and the real
//! CentOS Stream 9 BaseOS. After one repository's snapshot changes, only
//! the groups using it are computed again, and the result equals a full
//! recomputation from scratch.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::os;
use patchwatch_repos::RepoSnapshot;
use patchwatch_store::{Database, HostFilter, IngestRequest, NewRepository, RepositoryKind};
use patchwatch_store_sqlite::SqliteStore;
use patchwatch_updates::{
    Catalogue, FleetUpdates, ImportSpec, KeptUpdates, PackageState, encode, fleet_updates,
    package_fleet, package_rows, package_view, read_snapshot,
};

const HOSTS: usize = 300;

fn lists() -> PathBuf {
    shared_data_dir().join("debian/apt-lists")
}

fn suite(name: &str) -> RepoSnapshot {
    read_snapshot(&ImportSpec {
        kind: RepositoryKind::Apt,
        path: &lists(),
        suite: name,
        components: &[],
        arch: "amd64",
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn add(db: &dyn Database, name: &str, kind: RepositoryKind, default_for: &str) -> i64 {
    db.add_repository(&NewRepository {
        name: name.into(),
        kind,
        source: format!("/srv/mirror/{name}"),
        suite: if kind == RepositoryKind::Apt {
            name.into()
        } else {
            String::new()
        },
        components: vec![],
        architectures: vec![],
        priority: 0,
        cost: 1000,
        default_for: vec![default_for.into()],
    })
    .await
    .unwrap()
    .id
}

async fn import(db: &dyn Database, id: i64, snapshot: &RepoSnapshot) {
    let (document, sha256) = encode(snapshot).unwrap();
    db.import_repo_snapshot(id, document, &sha256, snapshot.packages.len() as i64)
        .await
        .unwrap();
}

async fn catalogue(db: &dyn Database) -> Catalogue {
    Catalogue::new(db.current_repo_snapshots().await.unwrap()).unwrap()
}

/// (host, repositories, updates) of every host, for comparison.
fn view(f: &FleetUpdates) -> Vec<(i64, Vec<String>, Vec<patchwatch_updates::HostUpdate>)> {
    f.hosts
        .iter()
        .map(|h| {
            (
                h.host_id,
                h.repositories.clone(),
                h.updates.as_ref().clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_repository_changed_recomputes_only_its_groups_and_equals_a_full_recompute() {
    let scratch = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> =
        Arc::new(SqliteStore::open(scratch.path().join("pw.sqlite")).unwrap());
    let site = db.create_site("S").await.unwrap();
    let fleet = Fleet::new(
        vec![Image::debian12().unwrap(), Image::rhel9().unwrap()],
        11,
    )
    .with_drift(300);
    for i in 0..HOSTS {
        let report = fleet.report(i);
        let normalised = os::normalise(&report.os, &report.os_string);
        db.ingest(IngestRequest::new(
            site.id,
            report,
            normalised,
            1_000,
            "127.0.0.1".into(),
            "test".into(),
        ))
        .await
        .unwrap();
    }
    let hosts = db.hosts(&HostFilter::default()).await.unwrap().items;
    let rhel = hosts.iter().find(|h| h.os.distro != "debian").unwrap();
    let rhel_os = format!("{} {}", rhel.os.distro, rhel.os.release);

    // The security suite first without openssl's and libssl3's updates,
    // as it was before a DSA.
    let security = suite("bookworm-security");
    let mut before_dsa = security.clone();
    before_dsa
        .packages
        .retain(|p| !p.package.name.contains("ssl"));
    assert!(before_dsa.packages.len() < security.packages.len());
    for name in ["bookworm", "bookworm-updates"] {
        let id = add(db.as_ref(), name, RepositoryKind::Apt, "debian 12").await;
        import(db.as_ref(), id, &suite(name)).await;
    }
    let security_id = add(
        db.as_ref(),
        "bookworm-security",
        RepositoryKind::Apt,
        "debian 12",
    )
    .await;
    import(db.as_ref(), security_id, &before_dsa).await;
    let baseos_id = add(db.as_ref(), "baseos", RepositoryKind::RpmMd, &rhel_os).await;
    let baseos = read_snapshot(&ImportSpec {
        kind: RepositoryKind::RpmMd,
        path: &shared_data_dir().join("repos/centos-stream-9/baseos-x86_64-2022-02-07"),
        suite: "",
        components: &[],
        arch: "x86_64",
    })
    .unwrap();
    import(db.as_ref(), baseos_id, &baseos).await;

    let groups = OsGroups::none();
    let mut kept = KeptUpdates::new(Arc::new(catalogue(db.as_ref()).await));
    let before = fleet_updates(db.as_ref(), &HostFilter::default(), &mut kept, &groups)
        .await
        .unwrap();
    assert_eq!(before.hosts.len(), HOSTS);
    let rhel_hosts = before
        .hosts
        .iter()
        .filter(|h| h.repositories == ["baseos"])
        .count();
    assert!(rhel_hosts > 0 && rhel_hosts < HOSTS, "{rhel_hosts}");
    assert!(
        before
            .hosts
            .iter()
            .filter(|h| h.repositories == ["baseos"])
            .any(|h| !h.updates.is_empty()),
        "the RHEL hosts have BaseOS updates"
    );
    let openssl_from_security = |f: &FleetUpdates| {
        f.hosts
            .iter()
            .flat_map(|h| h.updates.iter())
            .filter(|u| u.name == "openssl" && u.repository == "bookworm-security")
            .count()
    };
    assert_eq!(openssl_from_security(&before), 0);

    // The DSA arrives: only the security suite changed.
    import(db.as_ref(), security_id, &security).await;
    let reloaded = kept
        .catalogue()
        .reload(db.current_repo_snapshots().await.unwrap())
        .unwrap();
    let stats = kept.switch(Arc::new(reloaded));
    assert_eq!(stats.changed_repositories, 1, "{stats:?}");
    assert_eq!(stats.groups_recomputed, 1, "{stats:?}");
    assert_eq!(stats.groups_kept, 1, "the BaseOS group is kept: {stats:?}");
    let debian_sets: std::collections::HashSet<i64> = before
        .hosts
        .iter()
        .filter(|h| h.repositories.len() == 3)
        .map(|h| h.package_set_id)
        .collect();
    assert_eq!(stats.sets_recomputed, debian_sets.len());
    let after = fleet_updates(db.as_ref(), &HostFilter::default(), &mut kept, &groups)
        .await
        .unwrap();
    assert!(openssl_from_security(&after) > 0);
    for name in ["openssl", "libssl3", "no-such-package"] {
        package_fleet_agrees(db.as_ref(), &mut kept, &groups, &fleet, &after, name).await;
    }

    // From scratch: the same.
    let mut fresh = KeptUpdates::new(Arc::new(catalogue(db.as_ref()).await));
    let full = fleet_updates(db.as_ref(), &HostFilter::default(), &mut fresh, &groups)
        .await
        .unwrap();
    assert_eq!(view(&after), view(&full));
    assert_eq!(after.distinct, full.distinct);

    // A repository disabled: its groups are dropped, the hosts move to
    // the set without it, computed on request, again as from scratch.
    assert!(
        db.set_repository_enabled("bookworm-updates", false)
            .await
            .unwrap()
    );
    let reloaded = kept
        .catalogue()
        .reload(db.current_repo_snapshots().await.unwrap())
        .unwrap();
    let stats = kept.switch(Arc::new(reloaded));
    assert_eq!(stats.changed_repositories, 1, "{stats:?}");
    let after = fleet_updates(db.as_ref(), &HostFilter::default(), &mut kept, &groups)
        .await
        .unwrap();
    let mut fresh = KeptUpdates::new(Arc::new(catalogue(db.as_ref()).await));
    let full = fleet_updates(db.as_ref(), &HostFilter::default(), &mut fresh, &groups)
        .await
        .unwrap();
    assert_eq!(view(&after), view(&full));
    assert!(
        after
            .hosts
            .iter()
            .all(|h| !h.repositories.contains(&"bookworm-updates".to_owned()))
    );
}

/// The fleet view of one package against what each host's own updates
/// (`fleet_updates`) and its report say: every host's state, the page
/// order (outdated with a security update first, then by site, hostname
/// and id, as the package page sorted before it was computed apart), the
/// counts, the versions, the rows of a page in the middle, and the whole
/// view in list order.
async fn package_fleet_agrees(
    db: &dyn Database,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
    fleet: &Fleet,
    updates: &FleetUpdates,
    name: &str,
) {
    let reported: HashMap<String, Vec<(String, String)>> = (0..HOSTS)
        .map(|i| {
            let report = fleet.report(i);
            let instances = report
                .packages
                .iter()
                .flatten()
                .filter(|p| p.name == name)
                .map(|p| (p.evr(), p.arch.clone()))
                .collect();
            (report.hostname, instances)
        })
        .collect();
    // (state, !security, site, hostname, id), candidate, repository, instances
    type Expected = (
        (PackageState, bool, String, String, i64),
        Option<String>,
        Option<String>,
        Vec<(String, String)>,
    );
    let expected: Vec<Expected> = updates
        .hosts
        .iter()
        .map(|h| {
            let mut instances = reported[&h.hostname].clone();
            instances.sort();
            let update = h.updates.iter().find(|u| u.name == name);
            let state = match update {
                _ if instances.is_empty() => PackageState::Missing,
                Some(_) => PackageState::Outdated,
                None if !h.repositories.is_empty() => PackageState::Current,
                None => PackageState::Unknown,
            };
            let security = update.is_some_and(|u| u.security);
            (
                (
                    state,
                    !security,
                    h.site.clone(),
                    h.hostname.clone(),
                    h.host_id,
                ),
                update.map(|u| u.candidate.clone()),
                update.map(|u| u.repository.clone()),
                instances,
            )
        })
        .collect();
    let mut page_order: Vec<&Expected> = expected
        .iter()
        .filter(|e| e.0.0 != PackageState::Missing)
        .collect();
    page_order.sort_by(|a, b| a.0.cmp(&b.0));

    let got = package_fleet(db, &HostFilter::default(), kept, groups, name)
        .await
        .unwrap();
    let ids = |e: &[&Expected]| e.iter().map(|e| e.0.4).collect::<Vec<i64>>();
    assert_eq!(got.installed(), ids(&page_order), "{name}");
    let missing: Vec<&Expected> = expected
        .iter()
        .filter(|e| e.0.0 == PackageState::Missing)
        .collect();
    assert_eq!(got.missing(), ids(&missing), "{name}");
    for state in [
        PackageState::Outdated,
        PackageState::Current,
        PackageState::Unknown,
        PackageState::Missing,
    ] {
        let n = expected.iter().filter(|e| e.0.0 == state).count();
        assert_eq!(got.counts().of(state), n, "{name} {state:?}");
    }
    let mut versions: BTreeMap<String, usize> = BTreeMap::new();
    for e in &expected {
        for (version, _) in &e.3 {
            *versions.entry(version.clone()).or_default() += 1;
        }
    }
    let got_versions: Vec<(String, usize)> = got
        .versions()
        .iter()
        .map(|v| (v.version.clone(), v.hosts))
        .collect();
    assert_eq!(
        got_versions,
        versions.into_iter().collect::<Vec<_>>(),
        "{name}"
    );

    let row_of = |e: &Expected| {
        (
            e.0.4,
            e.0.3.clone(),
            e.0.0,
            e.1.clone(),
            e.2.clone(),
            !e.0.1,
            e.3.clone(),
        )
    };
    let middle = &page_order[page_order.len().min(40)..page_order.len().min(90)];
    let rows = package_rows(db, &HostFilter::default(), &got, &ids(middle))
        .await
        .unwrap();
    let shown = |rows: &[patchwatch_updates::PackageHost]| {
        rows.iter()
            .map(|r| {
                let mut instances: Vec<(String, String)> = r
                    .installed
                    .iter()
                    .map(|v| (v.version.clone(), v.arch.clone()))
                    .collect();
                instances.sort();
                (
                    r.host_id,
                    r.hostname.clone(),
                    r.state,
                    r.candidate.clone(),
                    r.repository.clone(),
                    r.security,
                    instances,
                )
            })
            .collect::<Vec<_>>()
    };
    let expected_rows: Vec<_> = middle.iter().map(|e| row_of(e)).collect();
    assert_eq!(shown(&rows), expected_rows, "{name}");

    let view = package_view(db, &HostFilter::default(), kept, groups, name, false)
        .await
        .unwrap();
    let all: Vec<_> = expected.iter().map(row_of).collect();
    assert_eq!(shown(&view), all, "{name}");
}

fn deb(name: &str, version: &str, arch: &str) -> patchwatch_reports::Package {
    patchwatch_reports::Package {
        name: name.into(),
        epoch: String::new(),
        version: version.into(),
        release: String::new(),
        arch: arch.into(),
        kind: patchwatch_reports::PackageType::Deb,
        source_name: String::new(),
        source_version: String::new(),
    }
}

/// The packages of one name in kept sets come from the name index, in
/// package id order, and the index follows sets being forgotten.
#[test]
fn packages_of_one_name_in_kept_sets() {
    let mut kept = KeptUpdates::new(Arc::new(Catalogue::empty()));
    kept.add_sets(
        vec![(1, vec![10, 11, 12]), (2, vec![11, 13]), (3, vec![12])],
        vec![
            (13, deb("openssl", "3.0.16-1", "i386")),
            (10, deb("openssl", "3.0.15-1", "amd64")),
            (11, deb("libssl3", "3.0.15-1", "amd64")),
            (12, deb("openssl-provider", "3.0.15-1", "amd64")),
        ],
    );
    let versions = |kept: &KeptUpdates, sets: &[i64]| {
        let mut found: Vec<(i64, Vec<String>)> = kept
            .named_in_sets("openssl", sets.iter().copied())
            .into_iter()
            .map(|(set, packages)| {
                (
                    set,
                    packages
                        .iter()
                        .map(|p| format!("{} {}", p.evr(), p.arch))
                        .collect(),
                )
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        versions(&kept, &[1, 2, 3, 4, 1]),
        vec![
            (1, vec!["3.0.15-1 amd64".to_owned()]),
            (2, vec!["3.0.16-1 i386".to_owned()]),
        ]
    );
    assert!(kept.named_in_sets("libssl", [1, 2]).is_empty());
    kept.retain_sets(&[2, 3].into_iter().collect());
    assert_eq!(
        versions(&kept, &[1, 2, 3]),
        vec![(2, vec!["3.0.16-1 i386".to_owned()])]
    );
    // A set kept again after being forgotten is found again.
    kept.add_sets(
        vec![(1, vec![10])],
        vec![(10, deb("openssl", "3.0.15-1", "amd64"))],
    );
    assert_eq!(
        versions(&kept, &[1]),
        vec![(1, vec!["3.0.15-1 amd64".to_owned()])]
    );
}
