//! `Database::host_keys`: the slim per-host read the fleet's assessment
//! makes on every CVE view, the same as the host list says.

use std::collections::HashMap;

use patchwatch_fleet::{Fleet, Image};
use patchwatch_store::{HostFilter, HostKey};

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
