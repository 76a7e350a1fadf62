//! The server-derived kernel flag (migration 11): stored with each report,
//! kept by a report whose packages are "unchanged", filled in later for
//! hosts that have none, and OR-ed with the client's flag by the
//! `reboot_required` filter.

use patchwatch_fleet::{Fleet, Image};
use patchwatch_store::{HostFilter, KernelVerdict};

use crate::{Db, request};

pub async fn kernel_verdicts_stored_and_filtered(db: Db) {
    let site = db.create_site("S").await.unwrap();
    let fleet = Fleet::new(vec![Image::debian12().unwrap()], 3);
    // (hostname, the client's flag, the derived flag)
    let hosts = [
        ("derived.example.org", None, Some(true)),
        ("client.example.org", Some(true), Some(false)),
        ("current.example.org", None, Some(false)),
        ("old.example.org", Some(false), None),
    ];
    let mut ids = Vec::new();
    for (i, (name, reported, derived)) in hosts.into_iter().enumerate() {
        let mut r = fleet.report(i);
        r.hostname = name.into();
        r.reboot.required = reported;
        let req = request(site.id, r, 1_000 + i as i64).with_kernel_outdated(derived);
        ids.push(db.ingest(req).await.unwrap().host_id);
    }
    let summary = db.host(ids[0]).await.unwrap().unwrap().summary;
    assert_eq!(
        (summary.reboot_required, summary.reboot_required_derived),
        (None, Some(true))
    );
    assert!(summary.must_reboot());
    let old = db.host(ids[3]).await.unwrap().unwrap().summary;
    assert_eq!(old.reboot_required_derived, None);
    assert!(!old.must_reboot());

    let listed = |reboot: Option<bool>| {
        let db = db.clone();
        async move {
            let page = db
                .hosts(&HostFilter {
                    reboot_required: reboot,
                    ..HostFilter::default()
                })
                .await
                .unwrap();
            let mut ids: Vec<i64> = page.items.iter().map(|h| h.id).collect();
            ids.sort_unstable();
            assert_eq!(page.total as usize, ids.len());
            ids
        }
    };
    assert_eq!(listed(Some(true)).await, [ids[0], ids[1]]);
    assert_eq!(listed(Some(false)).await, [ids[2], ids[3]]);
    assert_eq!(listed(None).await.len(), 4);

    // Only the host without a verdict awaits the background pass, paged
    // by id.
    let unchecked = db.hosts_without_kernel_verdict(0, 10).await.unwrap();
    assert_eq!(
        unchecked.iter().map(|c| c.host_id).collect::<Vec<_>>(),
        [ids[3]]
    );
    assert!(
        db.hosts_without_kernel_verdict(ids[3], 10)
            .await
            .unwrap()
            .is_empty()
    );
    let check = unchecked[0].clone();
    assert_eq!(check.package_set_id, old.package_set_id);
    assert_eq!(check.kernel, old.kernel);
    // A verdict for a kernel the host no longer runs is not stored.
    let mut stale = check.clone();
    stale.kernel.push_str("-gone");
    let verdict = |check, outdated| KernelVerdict { check, outdated };
    assert_eq!(
        db.set_kernel_verdicts(&[verdict(stale, false)])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.set_kernel_verdicts(&[verdict(check.clone(), true)])
            .await
            .unwrap(),
        1
    );
    // Never over a verdict already there.
    assert_eq!(
        db.set_kernel_verdicts(&[verdict(check, false)])
            .await
            .unwrap(),
        0
    );
    assert_eq!(listed(Some(true)).await, [ids[0], ids[1], ids[3]]);
    assert!(
        db.hosts_without_kernel_verdict(0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A report without packages ("unchanged") and no verdict keeps the
    // host's verdict while the kernel is the same, and forgets it when the
    // kernel changed (a reboot): then the pass has to derive it again.
    let mut unchanged = fleet.report(0);
    unchanged.hostname = hosts[0].0.into();
    unchanged.packages = None;
    db.ingest(request(site.id, unchanged.clone(), 5_000))
        .await
        .unwrap();
    let kept = db.host(ids[0]).await.unwrap().unwrap().summary;
    assert_eq!(kept.reboot_required_derived, Some(true));
    unchanged.kernel.release.push_str("-rebooted");
    db.ingest(request(site.id, unchanged, 6_000)).await.unwrap();
    let forgotten = db.host(ids[0]).await.unwrap().unwrap().summary;
    assert_eq!(forgotten.reboot_required_derived, None);
    assert_eq!(
        db.hosts_without_kernel_verdict(0, 10)
            .await
            .unwrap()
            .iter()
            .map(|c| c.host_id)
            .collect::<Vec<_>>(),
        [ids[0]]
    );
    // A full report with a verdict replaces whatever was there.
    let mut full = fleet.report(0);
    full.hostname = hosts[0].0.into();
    let req = request(site.id, full, 7_000).with_kernel_outdated(Some(false));
    db.ingest(req).await.unwrap();
    let replaced = db.host(ids[0]).await.unwrap().unwrap().summary;
    assert_eq!(replaced.reboot_required_derived, Some(false));
}
