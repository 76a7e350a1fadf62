//! Host list sorting (web UI, issue 11) and the filters added with it:
//! every order in SQL, ties broken by id, identical on both backends.

use patchwatch_fleet::{Fleet, Image};
use patchwatch_store::{HostFilter, HostSort, SortKey};

use crate::{Db, ingest};

pub async fn host_sorting_and_activity_filters(db: Db) {
    let a = db.create_site("A").await.unwrap();
    let b = db.create_site("B").await.unwrap();
    let debian = Fleet::new(vec![Image::debian12().unwrap()], 3);
    let rhel = Fleet::new(vec![Image::rhel9().unwrap()], 4);
    // (site, hostname, rhel?, reported at, reboot flag, packages dropped)
    let hosts = [
        (a.id, "c.example.org", false, 3_000, Some(true), 0),
        (b.id, "a.example.org", true, 1_000, None, 0),
        (a.id, "b.example.org", false, 2_000, Some(false), 5),
        (b.id, "d.example.org", false, 2_000, Some(true), 9),
    ];
    let mut ids = Vec::new();
    for (i, (site, name, is_rhel, at, reboot, drop)) in hosts.into_iter().enumerate() {
        let mut r = if is_rhel {
            rhel.report(i)
        } else {
            debian.report(i)
        };
        r.hostname = name.into();
        r.reboot.required = reboot;
        let packages = r.packages.as_mut().unwrap();
        packages.truncate(packages.len() - drop);
        ids.push(ingest(&db, site, r, at).await.host_id);
    }
    let sorted = |key: SortKey, descending: bool, f: HostFilter| {
        let db = db.clone();
        async move {
            db.hosts(&HostFilter {
                sort: HostSort { key, descending },
                ..f
            })
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|h| h.hostname.chars().next().unwrap())
            .collect::<String>()
        }
    };
    let all = HostFilter::default;
    assert_eq!(sorted(SortKey::Hostname, false, all()).await, "abcd");
    assert_eq!(sorted(SortKey::Hostname, true, all()).await, "dcba");
    assert_eq!(sorted(SortKey::Site, false, all()).await, "bcad");
    assert_eq!(sorted(SortKey::Site, true, all()).await, "dacb");
    // Debian before RHEL, hostnames within.
    assert_eq!(sorted(SortKey::Os, false, all()).await, "bcda");
    // b and d were both last seen at 2000: the id decides, either way.
    assert_eq!(sorted(SortKey::LastSeen, false, all()).await, "abdc");
    assert_eq!(sorted(SortKey::LastSeen, true, all()).await, "cbda");
    for descending in [false, true] {
        let counts: Vec<i64> = db
            .hosts(&HostFilter {
                sort: HostSort {
                    key: SortKey::Packages,
                    descending,
                },
                ..all()
            })
            .await
            .unwrap()
            .items
            .iter()
            .map(|h| h.packages)
            .collect();
        let mut expected = counts.clone();
        expected.sort_unstable();
        if descending {
            expected.reverse();
        }
        assert_eq!(counts, expected);
        assert_ne!(counts[0], counts[3]);
    }
    // Paging a sorted list: no host twice, none skipped.
    let mut paged = String::new();
    for offset in 0..4 {
        paged += &sorted(
            SortKey::LastSeen,
            true,
            HostFilter {
                limit: Some(1),
                offset,
                ..all()
            },
        )
        .await;
    }
    assert_eq!(paged, "cbda");

    let with = |f: HostFilter| sorted(SortKey::Hostname, false, f);
    assert_eq!(
        with(HostFilter {
            seen_since: Some(2_000),
            ..all()
        })
        .await,
        "bcd"
    );
    assert_eq!(
        with(HostFilter {
            reboot_required: Some(true),
            ..all()
        })
        .await,
        "cd"
    );
    // Unknown (the RHEL host's NULL) counts as not required.
    assert_eq!(
        with(HostFilter {
            reboot_required: Some(false),
            ..all()
        })
        .await,
        "ab"
    );
    assert_eq!(
        with(HostFilter {
            host_ids: Some(vec![ids[3], ids[1]]),
            ..all()
        })
        .await,
        "ad"
    );
    let none = db
        .hosts(&HostFilter {
            host_ids: Some(vec![]),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len()), (0, 0));
    // The scope still applies to a list of ids.
    let scoped = db
        .hosts(&HostFilter {
            site_ids: Some(vec![a.id]),
            host_ids: Some(ids.clone()),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(scoped.total, 2);
}
