//! The kept fleet assessment: a feed change matches again only the
//! packages it names, and the result is the same as assessing everything
//! afresh.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::start;
use patchwatch_assess::OsGroups;
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;
use patchwatch_store::{Database, FeedKind, HostFilter, NewAssignment, NewException, NewFeed};
use patchwatch_vulndb::{
    CveSummary, FleetAssessment, FleetHosts, LoadedIndex, Triage, fleet_findings, host_scopes,
    load_index_since, summarise,
};

async fn import(db: &dyn Database, name: &str, kind: FeedKind, doc: Vec<u8>) {
    let advisories = patchwatch_vulndb::parse_document(kind, name, &doc, |_| {}).unwrap();
    let feed = match db.feed(name).await.unwrap() {
        Some(f) => f,
        None => db
            .add_feed(&NewFeed {
                name: name.into(),
                kind,
                source: name.into(),
                releases: String::new(),
            })
            .await
            .unwrap(),
    };
    let sha = patchwatch_vulndb::sha256_hex(&doc);
    db.import_generation(feed.id, doc, &sha, advisories as i64)
        .await
        .unwrap();
}

/// The real AlmaLinux OSV database as feed "alma".
async fn import_alma(db: &dyn Database) {
    let path = shared_data_dir().join("osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz");
    import(db, "alma", FeedKind::Osv, std::fs::read(path).unwrap()).await;
}

/// One OSV advisory for `httpd` on AlmaLinux 9, fixed in a version no host
/// has yet: every AlmaLinux host with httpd becomes exposed.
fn httpd_advisory(fixed: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": "ALSA-2099:0001",
        "summary": "Important: httpd security update",
        "aliases": ["CVE-2099-0001"],
        "affected": [{
            "package": {"ecosystem": "AlmaLinux:9", "name": "httpd"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }],
        "database_specific": {"severity": "Important"},
    }))
    .unwrap()
}

fn cves(fleet: &FleetAssessment, hosts: &FleetHosts) -> Vec<CveSummary> {
    fleet.summaries(hosts, |_| true, &Triage::default(), &OsGroups::none())
}

async fn fresh_cves(db: &dyn Database, loaded: &Arc<LoadedIndex>) -> Vec<CveSummary> {
    let hosts = FleetHosts::read(db).await.unwrap();
    let mut fresh = FleetAssessment::new();
    fresh.catch_up(db, loaded, &hosts).await.unwrap();
    cves(&fresh, &hosts)
}

#[tokio::test]
async fn feed_changes_reassess_only_the_packages_they_name() {
    let s = start(ServerConfig::default()).await;
    let db = s.db.as_ref();
    let alma = Image::almalinux9().unwrap();
    let mut fleet = Fleet::new(vec![alma, Image::debian12().unwrap()], 7).with_drift(1000);
    fleet.site = "SITE".into();
    let reports: Vec<_> = (0..24).map(|i| fleet.report(i)).collect();
    for r in &reports {
        let resp = s.post(&s.ingest, None, native::to_json(r)).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.json);
    }
    let hosts = FleetHosts::read(db).await.unwrap();
    assert_eq!(hosts.len(), 24);
    let with_httpd = reports
        .iter()
        .filter(|r| {
            r.packages
                .as_ref()
                .unwrap()
                .iter()
                .any(|p| p.name == "httpd")
        })
        .count();
    let debian = reports.iter().filter(|r| r.os.id == "debian").count();
    assert!(with_httpd >= 10 && debian >= 1, "{with_httpd} {debian}");

    import_alma(db).await;
    let (first, changes) = load_index_since(db, None).await.unwrap();
    assert!(changes.is_none(), "nothing to compare the first load with");
    let first = Arc::new(first);
    let mut kept = FleetAssessment::new();
    let stats = kept.catch_up(db, &first, &hosts).await.unwrap();
    // Every host differs (drift 1000): one assessment each.
    assert_eq!((stats.hosts, stats.assessed), (24, 24));
    // Caught up: nothing left to do.
    assert_eq!(kept.catch_up(db, &first, &hosts).await.unwrap().assessed, 0);
    let before = cves(&kept, &hosts);
    assert!(before.iter().any(|c| c.cve == "CVE-2024-12797"));
    assert!(!before.iter().any(|c| c.cve == "CVE-2099-0001"));

    // A feed update with one new advisory: only the sets holding httpd.
    import(db, "extra", FeedKind::Osv, httpd_advisory("0:99.0-1.el9")).await;
    let (second, changes) = load_index_since(db, Some(first.clone())).await.unwrap();
    let changes = changes.expect("compared with the first load");
    assert_eq!(
        changes.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["ALSA-2099:0001"]
    );
    let second = Arc::new(second);
    let touched = first.index.names_touched(&changes);
    let stats = kept.reassess_touched(&second, &touched);
    // Only the packages named httpd or built from it, in the sets that
    // have them, were matched again.
    let httpd_packages: usize = reports
        .iter()
        .map(|r| {
            r.packages
                .as_ref()
                .unwrap()
                .iter()
                .filter(|p| p.name == "httpd" || p.source_name == "httpd")
                .count()
        })
        .sum();
    assert!(httpd_packages > with_httpd, "{httpd_packages}");
    assert_eq!(
        (stats.assessed, stats.packages_matched),
        (with_httpd, httpd_packages)
    );
    assert_eq!(
        kept.catch_up(db, &second, &hosts).await.unwrap().assessed,
        0
    );
    let after = cves(&kept, &hosts);
    let new = after
        .iter()
        .find(|c| c.cve == "CVE-2099-0001")
        .expect("new CVE listed");
    assert_eq!(
        (new.hosts, new.packages.as_slice()),
        (with_httpd, &["httpd".to_owned()][..])
    );
    assert_eq!(after, fresh_cves(db, &second).await);

    // The vendor fixes its advisory: changed content, same id.
    import(db, "extra", FeedKind::Osv, httpd_advisory("0:1.0-1.el9")).await;
    let (third, changes) = load_index_since(db, Some(second.clone())).await.unwrap();
    let changes = changes.unwrap();
    assert_eq!(changes.len(), 1);
    let third = Arc::new(third);
    let touched = second.index.names_touched(&changes);
    assert_eq!(kept.reassess_touched(&third, &touched).assessed, with_httpd);
    let now = cves(&kept, &hosts);
    assert!(!now.iter().any(|c| c.cve == "CVE-2099-0001"));
    assert_eq!(now, before, "back to the first assessment");
    assert_eq!(now, fresh_cves(db, &third).await);

    // A removed feed: its advisories count as withdrawn.
    assert!(db.delete_feed("extra").await.unwrap());
    let (fourth, changes) = load_index_since(db, Some(third.clone())).await.unwrap();
    let changes = changes.unwrap();
    assert!(
        changes
            .iter()
            .all(|a| a.withdrawn && a.id == "ALSA-2099:0001")
    );
    assert!(third.index.names_touched(&changes).binary.contains("httpd"));
    assert_eq!(fresh_cves(db, &Arc::new(fourth)).await, before);
}

/// The kept assessment's CVE list, with tags and exceptions, is what the
/// full assessment and `summarise` give.
#[tokio::test]
async fn kept_summaries_agree_with_the_full_triage() {
    let s = start(ServerConfig::default()).await;
    let db = s.db.as_ref();
    let alma = Image::almalinux9().unwrap();
    let mut fleet = Fleet::new(vec![alma], 3).with_drift(500);
    fleet.site = "SITE".into();
    for i in 0..16 {
        let resp = s
            .post(&s.ingest, None, native::to_json(&fleet.report(i)))
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.json);
    }
    import_alma(db).await;
    // One exception by site (hosts whose openssl-libs drifted keep the
    // finding), one by OS group, and a tag by hand.
    for (cve, package, version, site, group) in [
        (
            "CVE-2024-12797",
            "openssl-libs",
            "1:3.2.2-6.el9_5",
            Some("SITE"),
            None,
        ),
        (
            "CVE-2024-12797",
            "openssl",
            "1:3.2.2-6.el9_5",
            Some("SITE"),
            None,
        ),
        (
            "CVE-2024-2511",
            "openssl-libs",
            "1:3.2.2-6.el9_5",
            None,
            Some("almalinux 9"),
        ),
    ] {
        db.add_exception(&NewException {
            cve: cve.into(),
            package: package.into(),
            version: version.into(),
            os_group: group.map(str::to_owned),
            site: site.map(str::to_owned),
            reason: "mitigated".into(),
            author: "test".into(),
            expires_at: None,
        })
        .await
        .unwrap();
    }
    db.add_tag("Review", "to look at").await.unwrap();
    db.assign_tag(&NewAssignment {
        cve: "CVE-2024-2511".into(),
        tag: "Review".into(),
        reason: String::new(),
        author: "test".into(),
    })
    .await
    .unwrap();
    let triage = Triage::load(db, patchwatch_store::now_millis())
        .await
        .unwrap();
    let loaded = Arc::new(load_index_since(db, None).await.unwrap().0);
    let hosts = FleetHosts::read(db).await.unwrap();
    let mut kept = FleetAssessment::new();
    kept.catch_up(db, &loaded, &hosts).await.unwrap();
    let got = kept.summaries(&hosts, |_| true, &triage, loaded.index.os_groups());

    let (all, by_cve) = fleet_findings(db, &loaded, &HostFilter::default(), None)
        .await
        .unwrap();
    let scopes = host_scopes(&loaded, &all);
    let mut want: Vec<CveSummary> = by_cve
        .iter()
        .map(|(cve, list)| summarise(cve, list, &triage, &scopes))
        .collect();
    want.sort_by(|a, b| {
        (b.severity, b.hosts)
            .cmp(&(a.severity, a.hosts))
            .then_with(|| a.cve.cmp(&b.cve))
    });
    assert_eq!(got, want);
    // No host's openssl drifted: every host's finding is excepted.
    let openssl = got.iter().find(|c| c.cve == "CVE-2024-12797").unwrap();
    assert_eq!(
        (openssl.hosts, openssl.excepted_hosts),
        (0, 16),
        "{openssl:?}"
    );
    // A CVE page's hosts, from the kept results: exactly those the full
    // assessment finds, excepted ones included.
    for (cve, list) in &by_cve {
        let want: std::collections::BTreeSet<i64> = list.iter().map(|hf| all[hf.host].id).collect();
        let got: std::collections::BTreeSet<i64> = kept
            .hosts_with_cve(&hosts, |_| true, cve)
            .into_iter()
            .collect();
        assert_eq!(got, want, "{cve}");
    }
    assert_eq!(
        kept.hosts_with_cve(&hosts, |_| true, "CVE-2024-12797")
            .len(),
        16
    );
    assert!(
        kept.hosts_with_cve(&hosts, |_| true, "CVE-1999-0001")
            .is_empty()
    );
    // Severity tags come by themselves.
    assert!(
        got.iter()
            .any(|c| c.hosts > 0 && c.tags == ["High".to_owned()]),
        "{got:?}"
    );
}

/// Scoped to one site, the kept views give what the full assessment of
/// that site's hosts gives: CVE counts (an exception by site covers only
/// that site's hosts), the hosts a CVE page lists and the hosts filters.
#[tokio::test]
async fn kept_views_of_one_site_agree_with_the_full_assessment() {
    let s = start(ServerConfig::default()).await;
    let db = s.db.as_ref();
    let alma = Image::almalinux9().unwrap();
    // As in the test above: no host's openssl drifted.
    let mut fleet = Fleet::new(vec![alma], 3).with_drift(500);
    for i in 0..12 {
        let (token, site) = if i % 3 == 0 {
            (&s.other_ingest, "OTHER")
        } else {
            (&s.ingest, "SITE")
        };
        fleet.site = site.into();
        let resp = s.post(token, None, native::to_json(&fleet.report(i))).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.json);
    }
    import_alma(db).await;
    for package in ["openssl-libs", "openssl"] {
        db.add_exception(&NewException {
            cve: "CVE-2024-12797".into(),
            package: package.into(),
            version: "1:3.2.2-6.el9_5".into(),
            os_group: None,
            site: Some("SITE".into()),
            reason: "mitigated".into(),
            author: "test".into(),
            expires_at: None,
        })
        .await
        .unwrap();
    }
    let triage = Triage::load(db, patchwatch_store::now_millis())
        .await
        .unwrap();
    let loaded = Arc::new(load_index_since(db, None).await.unwrap().0);
    let hosts = FleetHosts::read(db).await.unwrap();
    assert_eq!((hosts.len(), hosts.site_ids().len()), (12, 2));
    let mut kept = FleetAssessment::new();
    kept.catch_up(db, &loaded, &hosts).await.unwrap();
    let groups = loaded.index.os_groups();
    for site in ["SITE", "OTHER"] {
        let site_id = db.site(site).await.unwrap().unwrap().id;
        let in_site = |id: i64| id == site_id;
        let filter = HostFilter {
            site: Some(site.into()),
            ..HostFilter::default()
        };
        let (all, by_cve) = fleet_findings(db, &loaded, &filter, None).await.unwrap();
        let scopes = host_scopes(&loaded, &all);
        let mut want: Vec<CveSummary> = by_cve
            .iter()
            .map(|(cve, list)| summarise(cve, list, &triage, &scopes))
            .collect();
        want.sort_by(|a, b| {
            (b.severity, b.hosts)
                .cmp(&(a.severity, a.hosts))
                .then_with(|| a.cve.cmp(&b.cve))
        });
        let got = kept.summaries(&hosts, in_site, &triage, groups);
        assert_eq!(got, want, "{site}");
        let openssl = got.iter().find(|c| c.cve == "CVE-2024-12797").unwrap();
        let (open, excepted) = if site == "SITE" { (0, 8) } else { (4, 0) };
        assert_eq!(
            (openssl.hosts, openssl.excepted_hosts),
            (open, excepted),
            "{site}"
        );
        for (cve, list) in &by_cve {
            let mut with: Vec<i64> = list.iter().map(|hf| all[hf.host].id).collect();
            with.sort_unstable();
            with.dedup();
            assert_eq!(kept.hosts_with_cve(&hosts, in_site, cve), with, "{cve}");
            let mut open: Vec<i64> = list
                .iter()
                .filter(|hf| {
                    triage
                        .classify_one(&scopes[hf.host], &hf.finding)
                        .exception
                        .is_none()
                })
                .map(|hf| all[hf.host].id)
                .collect();
            open.sort_unstable();
            open.dedup();
            assert_eq!(
                kept.hosts_exposed(&hosts, in_site, Some(cve), None, &triage, groups),
                open,
                "{cve}"
            );
        }
    }
}
