//! Two stores on one schema, as two server processes sharing PostgreSQL:
//! each keeps its own id caches, and must not trust them once the other
//! has pruned.

mod common;

use std::sync::Arc;

use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::{Report, os};
use patchwatch_store::{Database, HostFilter, IngestRequest};
use patchwatch_store_postgres::PostgresOptions;

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
        vec![Image::debian12().unwrap(), Image::rhel9().unwrap()],
        11,
    )
}

/// Every stored set of every host reads back whole.
async fn assert_sets_whole(db: &dyn Database) {
    for host in db.hosts(&HostFilter::default()).await.unwrap().items {
        let set = db
            .package_set(host.package_set_id)
            .await
            .expect("set reads back");
        assert_eq!(set.len() as i64, host.packages, "host {}", host.hostname);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn caches_are_dropped_after_another_process_prunes() {
    let Some(a) = common::open(PostgresOptions::default()).await else {
        return;
    };
    let b = a.another_process().await;
    let site = a.create_site("S").await.unwrap();
    let fleet = fleet().with_drift(0);

    // A learns the ids of host 1's packages and set.
    let base = fleet.report(1);
    let first = a
        .ingest(request(site.id, base.clone(), 1_000))
        .await
        .unwrap();
    // B deletes the host and prunes: the set and its packages are gone.
    assert!(b.delete_host(first.host_id).await.unwrap());
    let stats = b.prune(i64::MAX).await.unwrap();
    assert!(stats.package_sets >= 1 && stats.packages > 0, "{stats:?}");

    // A new set of mostly the same packages: A must not reuse the ids it
    // remembers, and the very same set must be stored again.
    let mut more = base.clone();
    let mut extra = more.packages.as_ref().unwrap()[0].clone();
    extra.name = "site-extra".into();
    more.packages.as_mut().unwrap().push(extra);
    more.hostname = "other.example.org".into();
    let second = a.ingest(request(site.id, more, 2_000)).await.unwrap();
    let again = a.ingest(request(site.id, base, 3_000)).await.unwrap();
    assert_eq!(
        a.package_set(second.package_set_id).await.unwrap().len() as i64,
        second.packages
    );
    assert_eq!(
        a.package_set(again.package_set_id).await.unwrap().len() as i64,
        again.packages
    );
    assert_sets_whole(&a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_ingest_while_one_prunes() {
    let Some(a) = common::open(PostgresOptions::default()).await else {
        return;
    };
    let a = Arc::new(a);
    let b = Arc::new(a.another_process().await);
    let site = a.create_site("S").await.unwrap();
    let fleet = Arc::new(fleet());

    let mut tasks = Vec::new();
    for t in 0..8usize {
        let db: Arc<dyn Database> = if t % 2 == 0 { a.clone() } else { b.clone() };
        let fleet = fleet.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..4i64 {
                // Both processes report the same hosts, with drifting sets.
                for i in 0..12usize {
                    let report = fleet.report(i + 12 * (round as usize % 2) + t % 3);
                    let mut report = report;
                    report.hostname = format!("h{i}.example.org");
                    let at = 1_000 * (round + 1) + t as i64;
                    db.ingest(request(site.id, report, at))
                        .await
                        .expect("ingest");
                }
            }
        }));
    }
    let pruner = {
        let b = b.clone();
        tokio::spawn(async move {
            for round in 1..=6i64 {
                b.prune(1_000 * round).await.expect("prune");
                tokio::task::yield_now().await;
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    pruner.await.unwrap();
    assert_eq!(a.hosts(&HostFilter::default()).await.unwrap().total, 12);
    assert_sets_whole(&*a).await;
    assert_sets_whole(&*b).await;
    // A last prune leaves every remaining set whole too.
    a.prune(i64::MAX).await.unwrap();
    assert_sets_whole(&*b).await;
}

/// The host keys version counts every key change of both processes, each
/// once, however their ingests interleave, and none for reports that
/// change nothing: a process that kept the keys it read at one version
/// can trust them while the other process's reads still give it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn host_keys_version_counts_every_change_of_two_processes() {
    let Some(a) = common::open(PostgresOptions::default()).await else {
        return;
    };
    let a = Arc::new(a);
    let b = Arc::new(a.another_process().await);
    let site_id = a.create_site("S").await.unwrap().id;
    let fleet = Arc::new(fleet().with_drift(0));
    const HOSTS: usize = 12;

    // Each process reports every host; `kernel` picks the running kernel.
    let round = |kernel: &'static str, at: i64| {
        let processes: [Arc<dyn Database>; 2] = [a.clone(), b.clone()];
        let tasks: Vec<_> = processes
            .into_iter()
            .enumerate()
            .map(|(p, db)| {
                let fleet = fleet.clone();
                tokio::spawn(async move {
                    for i in (p..HOSTS).step_by(2) {
                        let mut report = fleet.report(i);
                        report.hostname = format!("h{i}.example.org");
                        report.kernel.release = kernel.into();
                        db.ingest(request(site_id, report, at + i as i64))
                            .await
                            .expect("ingest");
                    }
                })
            })
            .collect();
        async move {
            for t in tasks {
                t.await.unwrap();
            }
        }
    };
    let before = a.host_keys_version().await.unwrap();
    round("6.1.0-1-amd64", 1_000).await;
    let added = b.host_keys_version().await.unwrap();
    assert_eq!(added - before, HOSTS as i64, "one bump per new host");
    round("6.1.0-1-amd64", 2_000).await;
    assert_eq!(
        a.host_keys_version().await.unwrap(),
        added,
        "reports that change nothing"
    );
    round("6.1.0-2-amd64", 3_000).await;
    let rebooted = a.host_keys_version().await.unwrap();
    assert_eq!(rebooted - added, HOSTS as i64, "one bump per new kernel");
    let keys = b.host_keys().await.unwrap();
    assert_eq!(keys.version, rebooted);
    assert!(keys.hosts.iter().all(|h| h.kernel == "6.1.0-2-amd64"));
}
