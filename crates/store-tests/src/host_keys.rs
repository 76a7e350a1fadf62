//! `Database::host_keys`: the slim per-host read the fleet's assessment
//! makes on every CVE view, the same as the host list says; and
//! `Database::host_keys_version`, which says when to read it again.

use std::collections::HashMap;

use patchwatch_fleet::{Fleet, Image};
use patchwatch_store::{HostFilter, HostKey, KernelVerdict, RepeatRequest};

use crate::{Db, ingest};

pub async fn host_keys_match_the_host_list(db: Db) {
    assert_eq!(db.host_keys().await.unwrap().hosts, Vec::<HostKey>::new());
    let a = db.create_site("A").await.unwrap();
    let b = db.create_site("B").await.unwrap();
    // A site without hosts is listed too: scopes name sites, not hosts.
    let empty = db.create_site("EMPTY").await.unwrap();
    let debian = Fleet::new(vec![Image::debian12().unwrap()], 3);
    let rhel = Fleet::new(vec![Image::rhel9().unwrap()], 4);
    let mut ids = Vec::new();
    for i in 0..6 {
        let mut report = if i % 2 == 0 {
            debian.report(i)
        } else {
            rhel.report(i)
        };
        report.hostname = format!("h{i}.example.org");
        let site = if i < 4 { a.id } else { b.id };
        ids.push(ingest(&db, site, report, 1_000 + i as i64).await.host_id);
    }
    // A host's new report changes its kernel: the keys say the new one.
    let mut newer = debian.report(0);
    newer.hostname = "h0.example.org".into();
    newer.kernel.release = "6.1.0-99-amd64".into();
    ingest(&db, a.id, newer, 9_000).await;

    let keys = db.host_keys().await.unwrap();
    let summaries = db.hosts(&HostFilter::default()).await.unwrap().items;
    let mut by_id = summaries.clone();
    by_id.sort_by_key(|h| h.id);
    assert_eq!(
        keys.hosts.iter().map(|k| k.id).collect::<Vec<_>>(),
        by_id.iter().map(|h| h.id).collect::<Vec<_>>(),
        "every host once, by id"
    );
    let os: HashMap<_, _> = keys.os_releases.iter().cloned().collect();
    let sites: HashMap<_, _> = keys.sites.iter().cloned().collect();
    assert_eq!(keys.os_releases.len(), os.len(), "each OS release once");
    for (k, h) in keys.hosts.iter().zip(&by_id) {
        assert_eq!(
            (k.site_id, k.package_set_id, &k.kernel),
            (h.site_id, h.package_set_id, &h.kernel)
        );
        assert_eq!(os[&k.os_release_id], h.os);
        assert_eq!(sites[&k.site_id], h.site);
    }
    assert_eq!(keys.hosts[0].kernel, "6.1.0-99-amd64");
    assert_eq!(
        keys.sites,
        vec![
            (a.id, "A".to_owned()),
            (b.id, "B".to_owned()),
            (empty.id, "EMPTY".to_owned())
        ]
    );
    let mut distros: Vec<&str> = os.values().map(|o| o.distro.as_str()).collect();
    distros.sort_unstable();
    distros.dedup();
    assert_eq!(distros.len(), 2, "{distros:?}");

    // A deleted host is gone from the keys at once.
    assert!(db.delete_host(ids[1]).await.unwrap());
    let after = db.host_keys().await.unwrap();
    assert_eq!(after.hosts.len(), 5);
    assert!(after.hosts.iter().all(|k| k.id != ids[1]));
}

/// `Database::host_keys_version` moves exactly when what `host_keys`
/// reads moves, and `host_keys` carries the version of its own snapshot.
pub async fn host_keys_version_moves_with_the_keys(db: Db) {
    let version = || {
        let db = db.clone();
        async move {
            let version = db.host_keys_version().await.unwrap();
            assert_eq!(
                db.host_keys().await.unwrap().version,
                version,
                "host_keys reads the version it holds"
            );
            version
        }
    };
    let empty = version().await;

    let site = db.create_site("A").await.unwrap();
    let with_site = version().await;
    assert_ne!(with_site, empty, "a new site");

    let debian = Fleet::new(vec![Image::debian12().unwrap()], 3).with_drift(0);
    let report = |at: i64| {
        let mut r = debian.report(0);
        r.hostname = "h.example.org".into();
        r.tags = vec![format!("tag-{at}")];
        r
    };
    let first = ingest(&db, site.id, report(1_000), 1_000).await;
    let with_host = version().await;
    assert_ne!(with_host, with_site, "a new host");

    // Same packages, OS and kernel: only last_seen (and the tags, which are
    // no key) move.
    let same = ingest(&db, site.id, report(2_000), 2_000).await;
    assert!(!same.packages_changed);
    let host = db.host(first.host_id).await.unwrap().unwrap();
    assert_eq!(host.summary.last_seen, 2_000);
    assert_eq!(host.summary.tags, ["tag-2000"]);
    assert_eq!(version().await, with_host, "a report that changes nothing");
    // Nor does a report that says "packages unchanged", a resubmission, or
    // the derived reboot verdict.
    let mut unchanged = report(2_000);
    unchanged.packages = None;
    let unchanged = ingest(&db, site.id, unchanged, 3_000).await;
    assert_eq!(unchanged.package_set_id, first.package_set_id);
    db.ingest_repeat(RepeatRequest {
        host_id: first.host_id,
        repeats_report_id: unchanged.report_id,
        received_at: 4_000,
        sender: String::new(),
        user_agent: String::new(),
    })
    .await
    .unwrap()
    .expect("the repeat is accepted");
    let checks = db.hosts_without_kernel_verdict(0, 10).await.unwrap();
    assert_eq!(checks.len(), 1);
    let verdict = KernelVerdict {
        check: checks[0].clone(),
        outdated: true,
    };
    assert_eq!(db.set_kernel_verdicts(&[verdict]).await.unwrap(), 1);
    assert_eq!(
        db.host(first.host_id)
            .await
            .unwrap()
            .unwrap()
            .summary
            .last_seen,
        4_000
    );
    assert_eq!(version().await, with_host, "nothing a key is made of");

    // Only the kernel changes.
    let mut newer_kernel = report(5_000);
    newer_kernel.kernel.release = "6.1.0-99-amd64".into();
    ingest(&db, site.id, newer_kernel.clone(), 5_000).await;
    let kernel_changed = version().await;
    assert_ne!(kernel_changed, with_host, "a new kernel");
    assert_eq!(
        db.host_keys().await.unwrap().hosts[0].kernel,
        "6.1.0-99-amd64"
    );

    // The package set changes (one package fewer).
    let mut fewer = newer_kernel;
    fewer.packages.as_mut().unwrap().pop();
    let changed = ingest(&db, site.id, fewer, 6_000).await;
    assert!(changed.packages_changed);
    let set_changed = version().await;
    assert_ne!(set_changed, kernel_changed, "a new package set");

    // A host deleted; deleting a host that is not there changes nothing.
    assert!(db.delete_host(first.host_id).await.unwrap());
    let deleted = version().await;
    assert_ne!(deleted, set_changed, "a host deleted");
    assert!(!db.delete_host(first.host_id).await.unwrap());
    assert_eq!(version().await, deleted);
    assert!(db.host_keys().await.unwrap().hosts.is_empty());

    let distinct = [
        empty,
        with_site,
        with_host,
        kernel_changed,
        set_changed,
        deleted,
    ];
    let mut seen = distinct.to_vec();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen.len(),
        distinct.len(),
        "never back to an earlier value: {distinct:?}"
    );
}
