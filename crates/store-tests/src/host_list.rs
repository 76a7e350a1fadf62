//! Host list pages (issue 11, migration 9): every sort key, with and
//! without filters, paged to past the end; counts that join only what the
//! filter needs; a list of 10,000 host ids bound as one value. The
//! expected order is computed here from the hosts' own fields. Host
//! references list the same hosts in the same order.

use std::cmp::Ordering;

use patchwatch_fleet::{Fleet, Image};
use patchwatch_store::{HostFilter, HostRef, HostSort, HostSummary, LARGE_SELECTION, SortKey};

use crate::{Db, ingest};

/// Which hosts a filter should keep, written out in Rust.
type Keep = Box<dyn Fn(&HostSummary) -> bool>;

/// The order a sort key promises: its columns, then the id ascending.
fn compare(key: SortKey, descending: bool, a: &HostSummary, b: &HostSummary) -> Ordering {
    let by_key = match key {
        SortKey::Site => (&a.site, &a.hostname).cmp(&(&b.site, &b.hostname)),
        SortKey::Hostname => a.hostname.cmp(&b.hostname),
        SortKey::Os => (&a.os.distro, &a.os.release, &a.hostname).cmp(&(
            &b.os.distro,
            &b.os.release,
            &b.hostname,
        )),
        SortKey::LastSeen => a.last_seen.cmp(&b.last_seen),
        SortKey::Packages => a.packages.cmp(&b.packages),
    };
    let by_key = if descending { by_key.reverse() } else { by_key };
    by_key.then(a.id.cmp(&b.id))
}

pub async fn host_list_pages_sorts_and_counts(db: Db) {
    let sites = [
        db.create_site("SA").await.unwrap(),
        db.create_site("SB").await.unwrap(),
        db.create_site("SC").await.unwrap(),
    ];
    let debian = Fleet::new(vec![Image::debian12().unwrap()], 3);
    let rhel = Fleet::new(vec![Image::rhel9().unwrap()], 4);
    // Hostnames repeat across sites, report times and package counts
    // repeat: every key has ties for the id to break.
    for i in 0..30usize {
        let site = sites[i % 3].id;
        let mut r = if i % 4 == 0 {
            rhel.report(i)
        } else {
            debian.report(i)
        };
        // Hosts i and i + 20 share a hostname, in different sites.
        let domain = if (i / 10) % 2 == 0 {
            "example.org"
        } else {
            "example.com"
        };
        r.hostname = format!("node{:02}.{domain}", (i * 7) % 10);
        let packages = r.packages.as_mut().unwrap();
        packages.truncate(packages.len() - (i % 5));
        ingest(&db, site, r, 1_000 * (i as i64 % 6)).await;
    }
    let everything = db.hosts(&HostFilter::default()).await.unwrap();
    assert_eq!(everything.total, 30);
    let all = everything.items;
    assert_eq!(all.len(), 30);

    let some_ids: Vec<i64> = all.iter().step_by(3).map(|h| h.id).collect();
    // Past `LARGE_SELECTION` ids the list is walked and picked from, not
    // bound: the same pages and counts.
    let mut large: Vec<i64> = (1..=LARGE_SELECTION as i64)
        .map(|n| 5_000_000 + n)
        .collect();
    let other_ids: Vec<i64> = all.iter().skip(1).step_by(2).map(|h| h.id).collect();
    large.extend(&other_ids);
    large.reverse();
    let filters: Vec<(&str, HostFilter, Keep)> = vec![
        ("none", HostFilter::default(), Box::new(|_| true)),
        (
            "site",
            HostFilter {
                site: Some("SB".into()),
                ..HostFilter::default()
            },
            Box::new(|h| h.site == "SB"),
        ),
        (
            "os",
            HostFilter {
                os: Some("debian".into()),
                ..HostFilter::default()
            },
            Box::new(|h| h.os.distro == "debian"),
        ),
        (
            "domain and scope",
            HostFilter {
                site_ids: Some(vec![sites[0].id, sites[2].id]),
                domains: vec![".example.org".into()],
                ..HostFilter::default()
            },
            Box::new(|h| h.site != "SB" && h.hostname.ends_with(".example.org")),
        ),
        (
            "host ids and activity",
            HostFilter {
                host_ids: Some(some_ids.clone()),
                seen_since: Some(2_000),
                ..HostFilter::default()
            },
            Box::new(move |h| some_ids.contains(&h.id) && h.last_seen >= 2_000),
        ),
        (
            "large selection and os",
            HostFilter {
                host_ids: Some(large),
                os: Some("debian".into()),
                ..HostFilter::default()
            },
            Box::new(move |h| other_ids.contains(&h.id) && h.os.distro == "debian"),
        ),
    ];
    for (name, filter, keep) in &filters {
        for key in SortKey::ALL {
            for descending in [false, true] {
                let sort = HostSort { key, descending };
                let mut expected: Vec<&HostSummary> = all.iter().filter(|h| keep(h)).collect();
                expected.sort_by(|a, b| compare(key, descending, a, b));
                let expected: Vec<i64> = expected.iter().map(|h| h.id).collect();
                assert!(!expected.is_empty(), "{name}");
                let what = format!("{name}, {} desc={descending}", key.as_str());

                let whole = db
                    .hosts(&HostFilter {
                        sort,
                        ..filter.clone()
                    })
                    .await
                    .unwrap();
                assert_eq!(whole.total, expected.len() as u64, "{what}");
                let ids: Vec<i64> = whole.items.iter().map(|h| h.id).collect();
                assert_eq!(ids, expected, "{what}");
                let refs: Vec<HostRef> = db
                    .host_refs(&HostFilter {
                        sort,
                        ..filter.clone()
                    })
                    .await
                    .unwrap();
                assert_eq!(
                    refs.iter().map(|r| r.id).collect::<Vec<_>>(),
                    expected,
                    "{what}, refs"
                );
                for r in &refs {
                    let h = all.iter().find(|h| h.id == r.id).unwrap();
                    assert_eq!(
                        (r.site_id, r.package_set_id, r.last_report_id),
                        (h.site_id, h.package_set_id, h.last_report_id),
                        "{what}"
                    );
                }

                // Pages of 4 up to one page past the end: each host once,
                // in order, the total on every page.
                let mut paged = Vec::new();
                for page in 0..=(expected.len() as u32 / 4 + 1) {
                    let p = db
                        .hosts(&HostFilter {
                            sort,
                            limit: Some(4),
                            offset: page * 4,
                            ..filter.clone()
                        })
                        .await
                        .unwrap();
                    assert_eq!(p.total, expected.len() as u64, "{what} page {page}");
                    assert!(p.items.len() <= 4);
                    paged.extend(p.items.iter().map(|h| h.id));
                }
                assert_eq!(paged, expected, "{what}, paged");
                let far = db
                    .hosts(&HostFilter {
                        sort,
                        limit: Some(50),
                        offset: 50_000,
                        ..filter.clone()
                    })
                    .await
                    .unwrap();
                assert_eq!((far.total, far.items.len()), (expected.len() as u64, 0));
            }
        }
    }

    // The summaries of a page are the hosts' own, whichever joins chose it.
    let page = db
        .hosts(&HostFilter {
            sort: HostSort {
                key: SortKey::Packages,
                descending: true,
            },
            limit: Some(7),
            offset: 3,
            ..HostFilter::default()
        })
        .await
        .unwrap();
    for h in &page.items {
        assert_eq!(Some(h), all.iter().find(|a| a.id == h.id));
    }

    // 10,000 ids, most of them of no host, bound as one value.
    let wanted: Vec<i64> = all.iter().skip(1).step_by(2).map(|h| h.id).collect();
    let mut ids: Vec<i64> = (1..=9_985).map(|n| 1_000_000 + n).collect();
    ids.extend(&wanted);
    ids.reverse();
    assert_eq!(ids.len(), 10_000);
    let listed = db
        .hosts(&HostFilter {
            host_ids: Some(ids.clone()),
            sort: HostSort {
                key: SortKey::Hostname,
                descending: false,
            },
            ..HostFilter::default()
        })
        .await
        .unwrap();
    let mut expected: Vec<&HostSummary> = all.iter().filter(|h| wanted.contains(&h.id)).collect();
    expected.sort_by(|a, b| compare(SortKey::Hostname, false, a, b));
    let expected: Vec<i64> = expected.iter().map(|h| h.id).collect();
    assert_eq!(listed.total, 15);
    assert_eq!(
        listed.items.iter().map(|h| h.id).collect::<Vec<_>>(),
        expected
    );
    let details = db
        .host_details(&HostFilter {
            host_ids: Some(ids),
            ..HostFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(details.len(), 15);
}
