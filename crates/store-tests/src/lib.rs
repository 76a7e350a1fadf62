//! The conformance tests every storage backend must pass.
//!
//! Each backend's test file calls [`conformance_tests!`] with a function
//! that opens a fresh, empty database, so SQLite and PostgreSQL are held to
//! exactly the same assertions.
#![forbid(unsafe_code)]

mod sync;

use std::sync::Arc;

use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::{OsRelease, Package, Report, os};
use patchwatch_store::{
    Database, FeedKind, HostFilter, ImportOutcome, IngestOutcome, IngestRequest, NewFeed, NewToken,
    PackageDiff, RepeatRequest, Revocation, StoreError, TokenKind, token,
};

pub use sync::{feed_sync_state_recorded, feeds_enable_and_disable};
mod triage;

pub use triage::{exceptions_add_list_remove, tags_and_assignments};
mod host_keys;
mod host_list;
mod host_sort;
mod kernel_verdicts;
mod report_changes;
mod repos;
mod sessions;
mod tokens;
mod users;

pub use host_keys::{host_keys_match_the_host_list, host_keys_version_moves_with_the_keys};
pub use host_list::host_list_pages_sorts_and_counts;
pub use host_sort::host_sorting_and_activity_filters;
pub use kernel_verdicts::kernel_verdicts_stored_and_filtered;
pub use report_changes::report_changes_over_time;
pub use repos::{repo_snapshots_switch_atomically, repositories_add_list_enable_remove};
pub use sessions::web_sessions;
pub use tokens::token_use_and_revocation;
pub use users::{scoped_tokens_and_host_scope, users_groups_and_grants};

pub type Db = Arc<dyn Database>;

/// Generates one `#[tokio::test]` per conformance check. `$open` is an
/// async fn returning `Option<Db>` (None: backend unavailable, skip).
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::conformance_tests!(@each $open,
            sites_and_tokens, ingest_and_read_back, identical_hosts_share_one_set,
            repeat_records_history_cheaply, history_and_diff, filters,
            concurrent_reports_for_one_new_host, unchanged_packages_keep_the_set,
            delete_and_prune, feeds_add_list_delete, feed_generations_switch_atomically,
            concurrent_imports_of_one_feed, feed_sync_state_recorded, feeds_enable_and_disable,
            tags_and_assignments, exceptions_add_list_remove, package_sets_in_bulk,
            users_groups_and_grants, scoped_tokens_and_host_scope, web_sessions,
            repositories_add_list_enable_remove, repo_snapshots_switch_atomically,
            report_changes_over_time,
            host_sorting_and_activity_filters, host_list_pages_sorts_and_counts,
            host_details_in_bulk, kernel_verdicts_stored_and_filtered, token_use_and_revocation,
            host_keys_match_the_host_list, host_keys_version_moves_with_the_keys);
    };
    (@each $open:path, $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                if let Some(db) = $open().await {
                    $crate::$name(db).await;
                }
            }
        )*
    };
}

fn request(site_id: i64, report: Report, at: i64) -> IngestRequest {
    let normalised = os::normalise(&report.os, &report.os_string);
    IngestRequest::new(
        site_id,
        report,
        normalised,
        at,
        "127.0.0.1".into(),
        "test".into(),
    )
}

fn fleet() -> Fleet {
    Fleet::new(
        vec![
            Image::debian12().expect("shared data"),
            Image::rhel9().expect("shared data"),
        ],
        7,
    )
}

async fn ingest(db: &Db, site_id: i64, report: Report, at: i64) -> IngestOutcome {
    db.ingest(request(site_id, report, at))
        .await
        .expect("ingest")
}

pub async fn sites_and_tokens(db: Db) {
    let site = db.create_site("CESNET").await.unwrap();
    assert!(matches!(
        db.create_site("CESNET").await,
        Err(StoreError::AlreadyExists(_))
    ));
    let t = NewToken::generate("cesnet-ingest", TokenKind::Ingest, Some(site.id));
    let rec = db.add_token(&t).await.unwrap();
    assert_eq!(rec.site.as_deref(), Some("CESNET"));
    let found = db
        .token_by_hash(&token::hash(&t.secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.kind, found.site_id),
        (rec.id, TokenKind::Ingest, Some(site.id))
    );
    assert!(
        db.token_by_hash(&token::hash("pwi_wrong"))
            .await
            .unwrap()
            .is_none()
    );
    let api = NewToken::generate("reader", TokenKind::Api, None);
    db.add_token(&api).await.unwrap();
    assert_eq!(db.tokens().await.unwrap().len(), 2);
    assert_eq!(
        db.revoke_token("reader", None).await.unwrap(),
        Revocation::Revoked
    );
    assert_eq!(
        db.revoke_token("reader", None).await.unwrap(),
        Revocation::AlreadyRevoked
    );
    assert!(db.token_by_hash(&api.hash).await.unwrap().is_none());
    assert_eq!(
        db.tokens().await.unwrap().len(),
        2,
        "a revoked token stays listed"
    );
    let sites = db.sites().await.unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(db.site("CESNET").await.unwrap().unwrap().id, site.id);
    assert!(db.site("nope").await.unwrap().is_none());
}

pub async fn ingest_and_read_back(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let fleet = fleet();
    let mut report = fleet.report(1);
    report.hostname = "Node1.Example.ORG".into();
    let mut expected = report.packages.clone().unwrap();
    let out = ingest(&db, site.id, report, 1_000).await;
    assert!(out.new_host && out.packages_changed);
    assert_eq!(out.packages as usize, expected.len());

    let host = db.host(out.host_id).await.unwrap().unwrap();
    assert_eq!(host.summary.hostname, "node1.example.org");
    assert_eq!(host.summary.site, "S");
    assert_eq!(
        host.summary.os,
        OsRelease {
            distro: "debian".into(),
            release: "12".into()
        }
    );
    assert_eq!(host.os_release.version_codename, "bookworm");
    assert_eq!(host.summary.last_report_id, out.report_id);
    let mut stored = db.package_set(out.package_set_id).await.unwrap();
    patchwatch_store::sort_packages(&mut expected);
    expected.dedup();
    stored.dedup();
    assert_eq!(
        stored, expected,
        "the stored set is exactly what was reported"
    );
    assert!(db.host(out.host_id + 1000).await.unwrap().is_none());
}

pub async fn identical_hosts_share_one_set(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let fleet = fleet().with_drift(0);
    let mut sets = std::collections::HashSet::new();
    for i in 0..20 {
        let out = ingest(&db, site.id, fleet.report(i), 1_000 + i as i64).await;
        sets.insert(out.package_set_id);
    }
    // Two images, no drift: at most two distinct sets for twenty hosts.
    assert!(sets.len() <= 2, "{} sets", sets.len());
    assert_eq!(db.hosts(&HostFilter::default()).await.unwrap().total, 20);
}

/// The bulk reads give exactly what `package_set` gives, set by set.
pub async fn package_sets_in_bulk(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let fleet = fleet().with_drift(1000);
    let mut sets = Vec::new();
    for i in 0..6 {
        let out = ingest(&db, site.id, fleet.report(i), 1_000 + i as i64).await;
        if !sets.contains(&out.package_set_id) {
            sets.push(out.package_set_id);
        }
    }
    assert!(sets.len() >= 4, "{sets:?}");
    let mut asked = sets.clone();
    asked.push(987_654_321);
    let members = db.package_set_members(&asked).await.unwrap();
    assert_eq!(members.len(), sets.len(), "unknown ids are left out");
    let mut ids: Vec<i64> = members.iter().flat_map(|(_, m)| m.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.push(987_654_321);
    let packages: std::collections::HashMap<i64, Package> =
        db.packages_by_id(&ids).await.unwrap().into_iter().collect();
    assert_eq!(packages.len(), ids.len() - 1);
    for (set, member_ids) in members {
        assert!(
            member_ids.windows(2).all(|w| w[0] < w[1]),
            "sorted, distinct"
        );
        let mut got: Vec<Package> = member_ids.iter().map(|id| packages[id].clone()).collect();
        patchwatch_store::sort_packages(&mut got);
        assert_eq!(got, db.package_set(set).await.unwrap(), "set {set}");
    }
    assert!(db.package_set_members(&[]).await.unwrap().is_empty());
    assert!(db.packages_by_id(&[]).await.unwrap().is_empty());
}

/// `host_details` answers for a whole filter what `host` answers for one
/// host: reported repositories and kernels included, scope and paging
/// applied, in `hosts`' order.
pub async fn host_details_in_bulk(db: Db) {
    let a = db.create_site("A").await.unwrap();
    let b = db.create_site("B").await.unwrap();
    let fleet = fleet();
    for i in 0..5 {
        let mut report = fleet.report(i);
        report.repositories = Some(vec![patchwatch_reports::Repository {
            kind: patchwatch_reports::PackageType::Deb,
            name: format!("repo-{i}"),
            id: String::new(),
            priority: Some(500),
            urls: vec![format!("http://mirror.example/debian bookworm-{i}/main")],
            suites: Vec::new(),
            components: Vec::new(),
            architectures: Vec::new(),
            enabled: None,
            mirrorlist: String::new(),
            metalink: String::new(),
            cost: None,
            tag: String::new(),
        }]);
        let site = if i % 2 == 0 { a.id } else { b.id };
        ingest(&db, site, report, 1_000 + i as i64).await;
    }
    // A later report without a repository field keeps the ones reported.
    let mut later = fleet.report(0);
    later.repositories = None;
    ingest(&db, a.id, later, 5_000).await;

    let all = db.host_details(&HostFilter::default()).await.unwrap();
    let summaries = db.hosts(&HostFilter::default()).await.unwrap().items;
    assert_eq!(all.len(), 5);
    assert_eq!(
        all.iter().map(|d| d.summary.id).collect::<Vec<_>>(),
        summaries.iter().map(|h| h.id).collect::<Vec<_>>(),
        "hosts' order"
    );
    for detail in &all {
        let one = db.host(detail.summary.id).await.unwrap().unwrap();
        assert_eq!(detail, &one);
        assert_eq!(detail.repositories.len(), 1);
    }
    let first = all
        .iter()
        .find(|d| d.summary.hostname == fleet.report(0).hostname)
        .unwrap();
    assert_eq!(first.repositories[0].name, "repo-0");

    let scoped = db
        .host_details(&HostFilter {
            site_ids: Some(vec![b.id]),
            ..HostFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(scoped.len(), 2);
    assert!(scoped.iter().all(|d| d.summary.site == "B"));
    let page = db
        .host_details(&HostFilter {
            limit: Some(2),
            offset: 1,
            ..HostFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(page, all[1..3]);
    let none = db
        .host_details(&HostFilter {
            site_ids: Some(vec![]),
            ..HostFilter::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn repeat_records_history_cheaply(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let first = ingest(&db, site.id, fleet().report(3), 1_000).await;
    let again = db
        .ingest_repeat(RepeatRequest {
            host_id: first.host_id,
            repeats_report_id: first.report_id,
            received_at: 2_000,
            sender: "10.0.0.1".into(),
            user_agent: "curl".into(),
        })
        .await
        .unwrap()
        .expect("the repeat is accepted");
    assert!(!again.packages_changed && !again.new_host);
    assert_eq!(again.package_set_id, first.package_set_id);
    // Repeating a report that is no longer the latest is refused.
    let stale = db
        .ingest_repeat(RepeatRequest {
            host_id: first.host_id,
            repeats_report_id: first.report_id,
            received_at: 3_000,
            sender: String::new(),
            user_agent: String::new(),
        })
        .await
        .unwrap();
    assert!(stale.is_none());
    let reports = db.reports(first.host_id, 10, 0).await.unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        (reports[0].received_at, reports[0].unchanged),
        (2_000, true)
    );
    assert_eq!(reports[0].sender, "10.0.0.1");
    assert_eq!(reports[1].received_at, 1_000);
    let host = db.host(first.host_id).await.unwrap().unwrap();
    assert_eq!(host.summary.last_seen, 2_000);
    assert_eq!(host.summary.first_seen, 1_000);
}

pub async fn history_and_diff(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let fleet = fleet().with_drift(0);
    let a = fleet.report(1);
    let mut b = a.clone();
    {
        let pkgs = b.packages.as_mut().unwrap();
        let libc = pkgs.iter_mut().find(|p| p.name == "libc6").unwrap();
        libc.release = "9+deb12u99".into();
        pkgs.retain(|p| p.name != "adduser");
    }
    let r1 = ingest(&db, site.id, a, 1_000).await;
    let r2 = ingest(&db, site.id, b, 2_000).await;
    assert_eq!(r1.host_id, r2.host_id);
    assert!(r2.packages_changed);
    let reports = db.reports(r1.host_id, 10, 0).await.unwrap();
    let old = db.package_set(reports[1].package_set_id).await.unwrap();
    let new = db.package_set(reports[0].package_set_id).await.unwrap();
    let diff = PackageDiff::between(&old, &new);
    let names: Vec<&str> = diff.changes.iter().map(|c| c.name()).collect();
    assert_eq!(names, vec!["adduser", "libc6"]);
    assert_eq!(reports[1].packages - 1, reports[0].packages);
}

pub async fn filters(db: Db) {
    let a = db.create_site("A").await.unwrap();
    let b = db.create_site("B").await.unwrap();
    let fleet = fleet();
    let mut cz = fleet.report(1);
    cz.hostname = "ui.farm.cz".into();
    cz.tags = vec!["prod".into(), "grid".into()];
    let mut de = fleet.report(2);
    de.hostname = "wn1.desy.de".into();
    de.tags = vec!["test".into()];
    let mut rh = Fleet::new(vec![Image::rhel9().unwrap()], 1).report(3);
    rh.hostname = "rh.example_x.org".into();
    ingest(&db, a.id, cz, 1_000).await;
    ingest(&db, b.id, de, 5_000).await;
    ingest(&db, a.id, rh, 9_000).await;
    let names = |f: HostFilter| {
        let db = db.clone();
        async move {
            db.hosts(&f)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|h| h.hostname)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names(HostFilter {
            site: Some("B".into()),
            ..Default::default()
        })
        .await,
        ["wn1.desy.de"]
    );
    assert_eq!(
        names(HostFilter {
            os: Some("rhel".into()),
            ..Default::default()
        })
        .await,
        ["rh.example_x.org"]
    );
    assert_eq!(
        names(HostFilter {
            os: Some("Debian 12".into()),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        names(HostFilter {
            os: Some("debian 11".into()),
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert_eq!(
        names(HostFilter {
            tag: Some("grid".into()),
            ..Default::default()
        })
        .await,
        ["ui.farm.cz"]
    );
    assert_eq!(
        names(HostFilter {
            domains: vec![".cz".into(), ".de".into()],
            ..Default::default()
        })
        .await,
        ["ui.farm.cz", "wn1.desy.de"]
    );
    // `_` is not a wildcard in a domain suffix.
    assert_eq!(
        names(HostFilter {
            domains: vec!["desy_de".into()],
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    assert_eq!(
        names(HostFilter {
            domains: vec!["e_x.org".into()],
            ..Default::default()
        })
        .await,
        ["rh.example_x.org"]
    );
    assert_eq!(
        names(HostFilter {
            last_seen_before: Some(6_000),
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        names(HostFilter {
            hostname: Some("UI.farm.cz".into()),
            ..Default::default()
        })
        .await,
        ["ui.farm.cz"]
    );
    let page = db
        .hosts(&HostFilter {
            limit: Some(2),
            offset: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (3, 2));
    assert_eq!(page.items[0].hostname, "ui.farm.cz");
    assert_eq!(db.sites().await.unwrap()[0].hosts, 2);
}

pub async fn concurrent_reports_for_one_new_host(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let report = fleet().report(5);
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let db = db.clone();
            let r = request(site.id, report.clone(), 1_000 + i);
            tokio::spawn(async move { db.ingest(r).await })
        })
        .collect();
    let mut hosts = std::collections::HashSet::new();
    for t in tasks {
        hosts.insert(
            t.await
                .unwrap()
                .expect("every concurrent report is stored")
                .host_id,
        );
    }
    assert_eq!(hosts.len(), 1, "one host, however many reports race");
    let host_id = *hosts.iter().next().unwrap();
    assert_eq!(db.hosts(&HostFilter::default()).await.unwrap().total, 1);
    assert_eq!(db.reports(host_id, 100, 0).await.unwrap().len(), 32);
    let host = db.host(host_id).await.unwrap().unwrap();
    assert_eq!(host.summary.last_seen, 1_031);
}

pub async fn unchanged_packages_keep_the_set(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let full = fleet().report(8);
    let first = ingest(&db, site.id, full.clone(), 1_000).await;
    let mut hook = full;
    hook.packages = None;
    hook.repositories = None;
    hook.kernel.release = "6.1.0-28-amd64".into();
    let second = ingest(&db, site.id, hook, 2_000).await;
    assert_eq!(second.package_set_id, first.package_set_id);
    assert!(!second.packages_changed);
    let host = db.host(first.host_id).await.unwrap().unwrap();
    assert_eq!(host.summary.kernel, "6.1.0-28-amd64");
    assert_eq!(host.summary.packages, first.packages);
    // A brand-new host that says "unchanged" gets an empty set.
    let mut new = fleet().report(9);
    new.packages = None;
    let out = ingest(&db, site.id, new, 3_000).await;
    assert_eq!(out.packages, 0);
}

pub async fn delete_and_prune(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let fleet = fleet();
    let mut old = fleet.report(1);
    old.packages.as_mut().unwrap().truncate(10);
    let h1 = ingest(&db, site.id, old, 1_000).await;
    let h1b = ingest(&db, site.id, fleet.report(1), 2_000).await;
    let h2 = ingest(&db, site.id, fleet.report(2), 2_000).await;
    let stats = db.prune(1_500).await.unwrap();
    assert_eq!(stats.reports, 1, "the old report goes, the latest stays");
    assert_eq!(stats.package_sets, 1, "so does its set");
    assert_eq!(db.reports(h1.host_id, 10, 0).await.unwrap().len(), 1);
    assert!(db.package_set(h1.package_set_id).await.is_err());
    assert_eq!(
        db.package_set(h1b.package_set_id).await.unwrap().len() as i64,
        h1b.packages
    );

    assert!(db.delete_host(h2.host_id).await.unwrap());
    assert!(!db.delete_host(h2.host_id).await.unwrap());
    assert!(db.host(h2.host_id).await.unwrap().is_none());
    assert_eq!(db.hosts(&HostFilter::default()).await.unwrap().total, 1);
    // After pruning, ingest still works (caches were dropped with the rows).
    let again = ingest(&db, site.id, fleet.report(2), 3_000).await;
    assert!(again.new_host);
    assert_eq!(
        db.package_set(again.package_set_id).await.unwrap().len() as i64,
        again.packages
    );
}

fn new_feed(name: &str, kind: FeedKind) -> NewFeed {
    NewFeed {
        name: name.into(),
        kind,
        source: format!("/srv/feeds/{name}.json"),
        releases: "bookworm".into(),
    }
}

/// A well-formed digest that differs per document (the store does not
/// hash; it compares what the caller computed).
fn digest(doc: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in doc {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}").repeat(4)
}

pub async fn feeds_add_list_delete(db: Db) {
    let alma = db.add_feed(&new_feed("alma", FeedKind::Osv)).await.unwrap();
    assert_eq!(alma.kind, FeedKind::Osv);
    assert!(alma.current.is_none() && alma.enabled);
    db.add_feed(&new_feed("debian", FeedKind::DebianTracker))
        .await
        .unwrap();
    assert!(matches!(
        db.add_feed(&new_feed("alma", FeedKind::DebianDsa)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        db.add_feed(&new_feed("bad name", FeedKind::Osv)).await,
        Err(StoreError::Invalid(_))
    ));
    let all = db.feeds().await.unwrap();
    let names: Vec<&str> = all.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["alma", "debian"]);
    assert_eq!(all[1].kind, FeedKind::DebianTracker);
    assert_eq!(all[1].source, "/srv/feeds/debian.json");
    assert_eq!(all[1].releases, "bookworm");
    let found = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(found.id, alma.id);
    assert!(db.feed("nope").await.unwrap().is_none());
    // A feed without a generation has no document to read.
    assert!(db.current_documents().await.unwrap().is_empty());

    db.import_generation(alma.id, b"doc".to_vec(), &digest(b"doc"), 1)
        .await
        .unwrap();
    assert!(db.delete_feed("alma").await.unwrap());
    assert!(!db.delete_feed("alma").await.unwrap());
    assert!(db.feed("alma").await.unwrap().is_none());
    assert!(db.current_documents().await.unwrap().is_empty());
    assert!(matches!(
        db.import_generation(alma.id, b"x".to_vec(), &digest(b"x"), 1)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        db.import_generation(found.id, b"x".to_vec(), "not-hex", 1)
            .await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn feed_generations_switch_atomically(db: Db) {
    let feed = db.add_feed(&new_feed("alma", FeedKind::Osv)).await.unwrap();
    let other = db
        .add_feed(&new_feed("other", FeedKind::AlpineSecdb))
        .await
        .unwrap();
    // Binary documents are stored exactly (compressed files stay so).
    let first: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let ImportOutcome::Imported {
        generation: g1,
        previous,
    } = db
        .import_generation(feed.id, first.clone(), &digest(&first), 10)
        .await
        .unwrap()
    else {
        panic!("first import must be stored");
    };
    assert_eq!(previous, None);
    assert_eq!((g1.size, g1.advisories), (70_000, 10));
    assert_eq!(g1.sha256, digest(&first));

    // The same document again: nothing written.
    let again = db
        .import_generation(feed.id, first.clone(), &digest(&first), 10)
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportOutcome::Unchanged {
            generation: g1.clone()
        }
    );
    assert_eq!(db.feed("alma").await.unwrap().unwrap().generations, 1);

    let second = b"second".to_vec();
    let out = db
        .import_generation(feed.id, second.clone(), &digest(&second), 20)
        .await
        .unwrap();
    let ImportOutcome::Imported {
        generation: g2,
        previous,
    } = out
    else {
        panic!("a new document is stored");
    };
    assert_eq!(previous, Some(g1.id));
    let listed = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(listed.current.as_ref(), Some(&g2));
    assert_eq!(listed.generations, 2, "the previous generation stays");

    // A third generation pushes the first out: two are kept.
    let third = b"third".to_vec();
    db.import_generation(feed.id, third.clone(), &digest(&third), 30)
        .await
        .unwrap();
    let listed = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(listed.generations, 2);
    assert_eq!(listed.current.as_ref().map(|g| g.advisories), Some(30));

    // Going back to an older document is a new generation, not "unchanged".
    assert!(matches!(
        db.import_generation(feed.id, second.clone(), &digest(&second), 20)
            .await
            .unwrap(),
        ImportOutcome::Imported { .. }
    ));

    let docs = db.current_documents().await.unwrap();
    assert_eq!(docs.len(), 1, "feeds without a generation are skipped");
    assert_eq!(docs[0].0.name, "alma");
    assert_eq!(docs[0].1, second);
    db.import_generation(other.id, first.clone(), &digest(&first), 5)
        .await
        .unwrap();
    let docs = db.current_documents().await.unwrap();
    let names: Vec<&str> = docs.iter().map(|(f, _)| f.name.as_str()).collect();
    assert_eq!(names, ["alma", "other"]);
    assert_eq!(docs[1].1, first);
}

pub async fn concurrent_imports_of_one_feed(db: Db) {
    let feed = db.add_feed(&new_feed("alma", FeedKind::Osv)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let doc = vec![i; 100];
            db.import_generation(feed.id, doc.clone(), &digest(&doc), i64::from(i))
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), ImportOutcome::Imported { .. }));
    }
    let listed = db.feed("alma").await.unwrap().unwrap();
    assert_eq!(listed.generations, 2);
    let current = listed.current.expect("exactly one current generation");
    let docs = db.current_documents().await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].1, vec![current.advisories as u8; 100]);
}
