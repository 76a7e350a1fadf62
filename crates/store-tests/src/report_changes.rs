//! `report_changes_since`: what each host ran over a time window (the web
//! UI's trends).

use patchwatch_store::ReportChange;

use crate::{Db, fleet, ingest};

pub async fn report_changes_over_time(db: Db) {
    let site = db.create_site("TRENDS").await.unwrap();
    let other = db.create_site("QUIET").await.unwrap();
    let fleet = fleet();
    let first = fleet.report(1);
    let a1 = ingest(&db, site.id, first.clone(), 1_000).await;
    // The same report again, then new packages, then only a new kernel.
    ingest(&db, site.id, first.clone(), 2_000).await;
    let mut changed = first.clone();
    changed.packages.as_mut().unwrap().pop();
    let a3 = ingest(&db, site.id, changed.clone(), 3_000).await;
    let mut rebooted = changed.clone();
    rebooted.kernel.release = "9.9.9-rebooted".into();
    ingest(&db, site.id, rebooted, 4_000).await;
    ingest(&db, site.id, changed.clone(), 4_500).await;
    let b = ingest(&db, other.id, fleet.report(2), 500).await;
    assert_ne!(a1.package_set_id, a3.package_set_id);

    let key = |c: &ReportChange| (c.host_id, c.site_id, c.received_at, c.package_set_id);
    let all: Vec<_> = db.report_changes_since(0).await.unwrap();
    assert_eq!(
        all.iter().map(key).collect::<Vec<_>>(),
        vec![
            (b.host_id, other.id, 500, b.package_set_id),
            (a1.host_id, site.id, 1_000, a1.package_set_id),
            (a1.host_id, site.id, 3_000, a3.package_set_id),
            (a1.host_id, site.id, 4_000, a3.package_set_id),
            (a1.host_id, site.id, 4_500, a3.package_set_id),
        ]
    );
    assert_eq!(all[3].kernel, "9.9.9-rebooted");
    assert_eq!(all[4].kernel, first.kernel.release);
    assert!(!all[1].os.distro.is_empty());

    // From 2,500 on: each host's state when the window opens (the repeat
    // at 2,000 for A, the only report for B), then A's changes.
    let window = db.report_changes_since(2_500).await.unwrap();
    assert_eq!(
        window.iter().map(key).collect::<Vec<_>>(),
        vec![
            (b.host_id, other.id, 500, b.package_set_id),
            (a1.host_id, site.id, 2_000, a1.package_set_id),
            (a1.host_id, site.id, 3_000, a3.package_set_id),
            (a1.host_id, site.id, 4_000, a3.package_set_id),
            (a1.host_id, site.id, 4_500, a3.package_set_id),
        ]
    );
    // After everything: only the states the window opens with.
    assert_eq!(db.report_changes_since(10_000).await.unwrap().len(), 2);
    // A deleted host's history is gone.
    assert!(db.delete_host(b.host_id).await.unwrap());
    assert_eq!(db.report_changes_since(10_000).await.unwrap().len(), 1);
}
