//! The dashboard, sites, groups, OS, feeds, repositories and package pages
//! and the host page's pending updates, over real HTTP on the real data:
//! counts and trends checked against what was stored, every page cut to
//! the user's sites, hostile strings escaped, bad parameters refused.

mod common;

use common::{Running, alma_report, start};
use patchwatch_fleet::hosts::debian12 as debian_report;
use patchwatch_reports::{Report, os};
use patchwatch_store::{FeedKind, IngestRequest, NewAssignment, SyncState, now_millis};
use patchwatch_updates::testing::BOOKWORM_SUITES;
use reqwest::StatusCode;

const DAY: i64 = 86_400_000;

/// Stores a report as received `days_ago`, through the store (the HTTP
/// endpoint stamps the present).
async fn report_at(s: &Running, site: &str, report: Report, days_ago: i64) -> i64 {
    let site = s.db.site(site).await.unwrap().unwrap();
    let normalised = os::normalise(&report.os, &report.os_string);
    let at = now_millis() - days_ago * DAY;
    let req = IngestRequest::new(site.id, report, normalised, at, "t".into(), "t".into());
    s.db.ingest(req).await.unwrap().host_id
}

/// The three real bookworm indexes as repositories, defaults for Debian 12.
async fn add_bookworm(s: &Running) {
    patchwatch_updates::testing::add_bookworm(s.db.as_ref(), &BOOKWORM_SUITES)
        .await
        .unwrap();
}

async fn import_alma(s: &Running) {
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
}

/// Tags the OpenSSL CVE every AlmaLinux host of the inventory has.
async fn tag_openssl_cve(s: &Running) {
    s.db.assign_tag(&NewAssignment {
        cve: "CVE-2024-12797".into(),
        tag: "Critical".into(),
        reason: "watched".into(),
        author: "test".into(),
    })
    .await
    .unwrap();
}

/// The count a state row links to (`<th scope="row">LABEL...<a href=...>N</a>`).
fn state_count(body: &str, label: &str) -> String {
    let at = body
        .find(&format!("<th scope=\"row\">{label}"))
        .unwrap_or_else(|| panic!("no row {label:?} in {body}"));
    let row = &body[at..body[at..].find("</tr>").unwrap() + at];
    let link = row.find("<a href=\"").expect("a link") + 9;
    let href = row[link..].split('"').next().unwrap().replace("&#38;", "&");
    let n = row[link..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    format!("{n} {href}")
}

/// The trend table's rows: (day, hosts, exposed, tagged CVEs).
fn trend_rows(body: &str) -> Vec<(String, u64, u64, u64)> {
    let at = body.find("<table id=\"trend-data\">").expect("trend table");
    let table = &body[at..at + body[at..].find("</table>").unwrap()];
    let tbody = &table[table.find("<tbody>").unwrap()..];
    tbody
        .split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row
                .split("<td>")
                .skip(1)
                .map(|c| c.split("</td>").next().unwrap())
                .collect();
            (
                cells[0].to_owned(),
                cells[1].parse().unwrap(),
                cells[2].parse().unwrap(),
                cells[3].parse().unwrap(),
            )
        })
        .collect()
}

/// The `points` of the `n`th polyline of the chart with `id`.
fn polyline(body: &str, id: &str, n: usize) -> String {
    let at = body
        .find(&format!("aria-labelledby=\"{id}-title {id}-desc\""))
        .expect("chart");
    let svg = &body[at..at + body[at..].find("</svg>").unwrap()];
    let p = svg
        .split("<polyline points=\"")
        .nth(n + 1)
        .expect("polyline");
    p.split('"').next().unwrap().to_owned()
}

/// What the chart must draw for `values` on an axis for values up to
/// `max` (the chart's geometry: x from 56 to 624, y from 184 down to 16,
/// the axis top a round number).
fn expected_points(values: &[u64], max: u64) -> String {
    let top = patchwatch_web::chart::axis_max(max) as f64;
    let n = (values.len().max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            format!(
                "{:.1},{:.1}",
                56.0 + 568.0 * i as f64 / n,
                184.0 - 168.0 * v as f64 / top
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_counts_and_trends_within_scope() {
    let s = start().await;
    // SITE: an AlmaLinux host reporting for 12 days (the same packages),
    // a Debian host asking for a reboot, a Debian host silent for 20
    // days. OTHER: an AlmaLinux host.
    let alma = alma_report("SITE", 1);
    report_at(&s, "SITE", alma.clone(), 12).await;
    report_at(&s, "SITE", alma, 0).await;
    let mut reboot = debian_report("SITE", 2);
    reboot.reboot.required = Some(true);
    s.report(&s.ingest, &reboot).await;
    report_at(&s, "SITE", debian_report("SITE", 3), 20).await;
    s.report(&s.other_ingest, &alma_report("OTHER", 4)).await;
    import_alma(&s).await;
    tag_openssl_cve(&s).await;

    let mut b = s.browser();
    b.login("site").await;
    let page = b.get("/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert_eq!(state_count(body, "All hosts"), "3 /hosts");
    assert_eq!(
        state_count(body, "Vulnerable to a tagged CVE"),
        "1 /hosts?tagged=yes"
    );
    assert_eq!(state_count(body, "Reboot required"), "1 /hosts?reboot=yes");
    assert_eq!(
        state_count(body, "Stale (no report for 7 days)"),
        "1 /hosts?not_seen_days=7"
    );
    // No Debian feed: both Debian hosts are uncovered.
    assert_eq!(
        state_count(body, "Not covered by any feed"),
        "2 /hosts?covered=no"
    );
    assert!(body.contains("unknown: no repository snapshot imported"));
    // The most widespread CVEs count the user's one AlmaLinux host.
    assert!(body.contains("<a href=\"/cves/CVE-2024-12797\">CVE-2024-12797</a>"));
    assert!(body.contains("<a href=\"/hosts?cve=CVE-2024-12797\">1</a>"));
    assert!(body.contains("<td>alma</td>") || body.contains(">alma<"));

    // Trends: 30 days, today last; hosts appear as their first report
    // arrives (20 and 12 days ago, then today).
    let rows = trend_rows(body);
    assert_eq!(rows.len(), 30);
    let today = patchwatch_store::format_millis(now_millis())[..10].to_owned();
    assert_eq!(rows[29].0, today);
    let at = |days_ago: usize| &rows[29 - days_ago];
    assert_eq!((at(25).1, at(25).2), (0, 0));
    assert_eq!((at(20).1, at(20).2), (1, 0), "the Debian host: not exposed");
    assert_eq!((at(12).1, at(12).2), (2, 1), "the AlmaLinux host: exposed");
    assert!(at(12).3 >= 1, "CVE-2024-12797 is tagged and open");
    assert_eq!((at(0).1, at(0).2), (3, 1));
    // The charts draw exactly the table's numbers.
    let hosts: Vec<u64> = rows.iter().map(|r| r.1).collect();
    let exposed: Vec<u64> = rows.iter().map(|r| r.2).collect();
    let tagged: Vec<u64> = rows.iter().map(|r| r.3).collect();
    // Both series of a chart share its axis.
    let top = hosts.iter().chain(&exposed).copied().max().unwrap();
    assert_eq!(polyline(body, "exposed", 0), expected_points(&hosts, top));
    assert_eq!(polyline(body, "exposed", 1), expected_points(&exposed, top));
    let top = tagged.iter().copied().max().unwrap();
    assert_eq!(polyline(body, "tagged", 0), expected_points(&tagged, top));
    assert!(body.contains("<title id=\"exposed-title\">Exposed hosts per day</title>"));

    // 90 days on request; anything else is refused.
    assert_eq!(trend_rows(&b.get("/?days=90").await.body).len(), 90);
    for bad in ["/?days=7", "/?days=x", "/?colour=red"] {
        let r = b.get(bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // A viewer of OTHER sees one host, its own.
    let mut v = s.browser();
    v.login("viewer").await;
    let theirs = v.get("/").await;
    assert_eq!(state_count(&theirs.body, "All hosts"), "1 /hosts");
    assert_eq!(
        state_count(&theirs.body, "Stale (no report for 7 days)"),
        "0 /hosts?not_seen_days=7"
    );
    let rows = trend_rows(&theirs.body);
    assert_eq!((rows[29].1, rows[29].2), (1, 1));
    assert_eq!(rows[17].1, 0, "SITE's history is not counted");
    assert!(
        theirs
            .body
            .contains("<a href=\"/hosts?cve=CVE-2024-12797\">1</a>")
    );

    // An admin counts both sites.
    let mut a = s.browser();
    a.login("admin").await;
    let every = a.get("/").await;
    assert_eq!(state_count(&every.body, "All hosts"), "4 /hosts");
    assert!(
        every
            .body
            .contains("<a href=\"/hosts?cve=CVE-2024-12797\">2</a>")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_group_and_os_pages_within_scope() {
    let s = start().await;
    s.report(&s.ingest, &alma_report("SITE", 1)).await;
    s.report(&s.ingest, &debian_report("SITE", 2)).await;
    s.report(&s.other_ingest, &alma_report("OTHER", 3)).await;
    s.db.add_site_group("NGI_X", None).await.unwrap();
    s.db.set_group_member("NGI_X", "OTHER", true).await.unwrap();
    s.db.add_site_group("NGI_Y", None).await.unwrap();
    s.db.set_group_member("NGI_Y", "SITE", true).await.unwrap();
    import_alma(&s).await;
    tag_openssl_cve(&s).await;

    let mut v = s.browser();
    v.login("viewer").await;
    let sites = v.get("/sites").await;
    assert_eq!(sites.status, StatusCode::OK, "{}", sites.body);
    assert!(sites.body.contains("<a href=\"/sites/OTHER\">OTHER</a>"));
    assert!(!sites.body.contains("/sites/SITE"), "{}", sites.body);
    let site = v.get("/sites/OTHER").await;
    assert_eq!(site.status, StatusCode::OK, "{}", site.body);
    assert_eq!(state_count(&site.body, "All hosts"), "1 /hosts?site=OTHER");
    assert_eq!(
        state_count(&site.body, "Vulnerable to a tagged CVE"),
        "1 /hosts?tagged=yes&site=OTHER"
    );
    assert!(site.body.contains("NGI_X"));
    // Another site answers exactly as an unknown one.
    let other = v.get("/sites/SITE").await;
    let unknown = v.get("/sites/NOPE").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.body.replace("SITE", "N"),
        unknown.body.replace("NOPE", "N")
    );
    let groups = v.get("/groups").await;
    assert!(groups.body.contains("NGI_X"));
    assert!(!groups.body.contains("NGI_Y"), "{}", groups.body);
    let os = v.get("/os").await;
    assert_eq!(os.status, StatusCode::OK, "{}", os.body);
    assert!(os.body.contains("almalinux 9"), "{}", os.body);
    assert!(
        !os.body.contains("debian"),
        "SITE's Debian host is not counted"
    );

    let mut a = s.browser();
    a.login("admin").await;
    let site = a.get("/sites/SITE").await;
    assert_eq!(state_count(&site.body, "All hosts"), "2 /hosts?site=SITE");
    assert_eq!(
        state_count(&site.body, "Not covered by any feed"),
        "1 /hosts?covered=no&site=SITE"
    );
    let groups = a.get("/groups").await;
    assert!(groups.body.contains("NGI_X") && groups.body.contains("NGI_Y"));
    let os = a.get("/os").await;
    assert!(
        os.body.contains("no imported feed has data for it"),
        "{}",
        os.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_page_and_host_updates() {
    let s = start().await;
    let deb = s.report(&s.ingest, &debian_report("SITE", 1)).await;
    let alma = s.report(&s.other_ingest, &alma_report("OTHER", 2)).await;
    let mut b = s.browser();
    b.login("site").await;

    // No repository yet: updates are unknown, not "none".
    let host = b.get(&format!("/hosts/{deb}")).await;
    assert!(
        host.body.contains("pending updates are unknown"),
        "{}",
        host.body
    );

    add_bookworm(&s).await;
    let host = b.get(&format!("/hosts/{deb}")).await;
    assert_eq!(host.status, StatusCode::OK, "{}", host.body);
    assert!(host.body.contains("Pending updates (132)"), "{}", host.body);
    // Security first: the 82 security updates, then the others.
    let at = host.body.find("id=\"updates\"").unwrap();
    let updates = &host.body[at..at + host.body[at..].find("</table>").unwrap()];
    let flags: Vec<bool> = updates
        .split("<tr>")
        .skip(2)
        .map(|row| row.contains("<strong>security</strong>"))
        .collect();
    assert_eq!(flags.len(), 132);
    assert_eq!(flags.iter().filter(|f| **f).count(), 82);
    assert!(flags[..82].iter().all(|f| *f), "security updates first");
    assert!(updates.contains("bookworm-security"));

    // The package page: the user's Debian host is outdated by a security
    // update; OTHER's AlmaLinux host is neither listed nor counted.
    let openssl = b.get("/packages/openssl").await;
    assert_eq!(openssl.status, StatusCode::OK, "{}", openssl.body);
    assert!(openssl.body.contains("Outdated (1)"), "{}", openssl.body);
    assert!(openssl.body.contains(&format!("href=\"/hosts/{deb}\"")));
    assert!(!openssl.body.contains(&format!("href=\"/hosts/{alma}\"")));
    assert!(openssl.body.contains("<strong>yes</strong>"));
    assert!(
        openssl
            .body
            .contains("0 of your hosts do not have openssl.")
    );
    // Paged: the one host with it is on page 1, there is no page 2.
    assert!(openssl.body.contains("Hosts 1–1 of 1"), "{}", openssl.body);
    assert!(!openssl.body.contains("rel=\"next\""));
    let first = b.get("/packages/openssl?page=1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains(&format!("href=\"/hosts/{deb}\"")));
    let beyond = b.get("/packages/openssl?page=2").await;
    assert_eq!(beyond.status, StatusCode::NOT_FOUND, "{}", beyond.body);
    assert!(beyond.body.contains("no page 2"), "{}", beyond.body);
    for bad in ["page=0", "page=x", "page=10001", "sort=x"] {
        let r = b.get(&format!("/packages/openssl?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    // A package only OTHER's host has answers as one nobody has.
    let theirs = b.get("/packages/openssl-libs").await;
    let nobody = b.get("/packages/no-such-package").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        theirs.body.replace("openssl-libs", "N"),
        nobody.body.replace("no-such-package", "N")
    );
    // The admin sees it, and the Debian host lacks it.
    let mut a = s.browser();
    a.login("admin").await;
    let libs = a.get("/packages/openssl-libs").await;
    assert_eq!(libs.status, StatusCode::OK, "{}", libs.body);
    assert!(
        libs.body.contains("Unknown (1)"),
        "no repository for AlmaLinux"
    );
    assert!(
        libs.body
            .contains("1 of your hosts do not have openssl-libs.")
    );
    // The dashboard counts security updates now.
    let dash = a.get("/").await;
    assert_eq!(
        state_count(&dash.body, "Security updates pending"),
        "1 /hosts?security_updates=yes"
    );

    // The search form, and bad names.
    assert_eq!(b.get("/packages").await.status, StatusCode::OK);
    let found = b.get("/packages?name=openssl").await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(found.location(), "/packages/openssl");
    for bad in [
        "/packages/a%20b",
        "/packages/x%1B%5B31m",
        "/packages?name=a%20b",
    ] {
        let r = b.get(bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert!(!r.body.contains('\u{1b}'), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_and_repositories_with_hostile_strings() {
    let s = start().await;
    let evil = "<script>alert(1)</script>\"'&";
    let mut report = alma_report("SITE", 1);
    report.packages.as_mut().unwrap()[0].name = format!("pkg{evil}");
    let evil_name = report.packages.as_ref().unwrap()[0].name.clone();
    s.report(&s.ingest, &report).await;
    import_alma(&s).await;
    add_bookworm(&s).await;
    let feed = s.db.feed("alma").await.unwrap().unwrap();
    s.db.record_sync(
        feed.id,
        &SyncState {
            error: Some(format!("HTTP 500 {evil}")),
            synced_at: Some(now_millis()),
            ..SyncState::default()
        },
    )
    .await
    .unwrap();
    let repo = s.db.repository("bookworm").await.unwrap().unwrap();
    s.db.record_repo_sync(
        repo.id,
        &SyncState {
            error: Some(format!("timeout {evil}")),
            synced_at: Some(now_millis()),
            ..SyncState::default()
        },
    )
    .await
    .unwrap();

    let mut b = s.browser();
    b.login("viewer").await;
    let feeds = b.get("/feeds").await;
    assert_eq!(feeds.status, StatusCode::OK, "{}", feeds.body);
    assert!(
        feeds.body.contains("<td>alma</td><td>osv</td><td>#1</td>"),
        "{}",
        feeds.body
    );
    assert!(feeds.body.contains("HTTP 500 &#60;script&#62;"));
    let repos = b.get("/repos").await;
    assert!(repos.body.contains("bookworm-security"), "{}", repos.body);
    assert!(
        repos
            .body
            .contains("http://deb.debian.org/debian bookworm main")
    );
    assert!(repos.body.contains("timeout &#60;script&#62;"));
    let dash = b.get("/").await;
    for page in [&feeds, &repos, &dash] {
        assert!(!page.body.contains("<script>"), "{}", page.body);
    }
    assert!(dash.body.contains("HTTP 500 &#60;script&#62;"));

    // A hostile package name, on its page (as the site's triager).
    let mut t = s.browser();
    t.login("site").await;
    let path = format!(
        "/packages/{}",
        patchwatch_web::pages::hosts::encode(&evil_name)
    );
    let page = t.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("<script>"));
    assert!(
        page.body
            .contains("pkg&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;")
    );
}

/// The dashboard keeps each key's exposure between requests, yet an
/// exception counts at the next request, and so does its removal (on the
/// most widespread CVEs and the trend of open tagged CVEs); the
/// computed hosts filters see a host that reported after the fleet
/// snapshot was read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_follows_exceptions_and_new_reports_at_once() {
    let s = start().await;
    let alma = alma_report("SITE", 1);
    let alma_id = s.report(&s.ingest, &alma).await;
    import_alma(&s).await;
    tag_openssl_cve(&s).await;
    let mut a = s.browser();
    a.login("admin").await;
    let open = "<a href=\"/hosts?cve=CVE-2024-12797\">1</a>";

    let dash = a.get("/").await;
    assert_eq!(dash.status, StatusCode::OK, "{}", dash.body);
    assert_eq!(
        state_count(&dash.body, "Vulnerable to a tagged CVE"),
        "1 /hosts?tagged=yes"
    );
    assert!(dash.body.contains(open), "{}", dash.body);
    // Other CVEs may carry the severity tags: the one excepted below
    // counts one.
    let tagged_today = trend_rows(&dash.body)[29].3;
    assert!(tagged_today >= 1);
    // Kept: the same answer again.
    assert_eq!(a.get("/").await.body, dash.body);

    // Except the CVE on every OpenSSL package the host has.
    let mut added = Vec::new();
    for p in alma
        .packages
        .iter()
        .flatten()
        .filter(|p| p.name.starts_with("openssl"))
    {
        let e =
            s.db.add_exception(&patchwatch_store::NewException {
                cve: "CVE-2024-12797".into(),
                package: p.name.clone(),
                version: p.evr(),
                os_group: None,
                site: Some("SITE".into()),
                reason: "mitigated".into(),
                author: "test".into(),
                expires_at: None,
            })
            .await
            .unwrap();
        added.push(e.id);
    }
    assert!(!added.is_empty());
    let excepted = a.get("/").await;
    assert!(!excepted.body.contains(open), "{}", excepted.body);
    assert!(!excepted.body.contains("href=\"/cves/CVE-2024-12797\""));
    let today = &trend_rows(&excepted.body)[29];
    assert_eq!((today.1, today.3), (1, tagged_today - 1));

    for id in added {
        s.db.remove_exception(id).await.unwrap();
    }
    let again = a.get("/").await;
    assert!(again.body.contains(open));
    assert_eq!(trend_rows(&again.body)[29].3, tagged_today);

    // Coverage: the AlmaLinux host is covered; a Debian host reporting
    // now, after the snapshot was read, is listed as not covered at once.
    let covered = a.get("/hosts?covered=yes").await;
    assert!(covered.body.contains(&format!("href=\"/hosts/{alma_id}\"")));
    assert!(
        a.get("/hosts?covered=no")
            .await
            .body
            .contains("No hosts match.")
    );
    let debian = s.report(&s.ingest, &debian_report("SITE", 2)).await;
    let not_covered = a.get("/hosts?covered=no").await;
    assert_eq!(not_covered.status, StatusCode::OK, "{}", not_covered.body);
    assert!(
        not_covered
            .body
            .contains(&format!("href=\"/hosts/{debian}\"")),
        "{}",
        not_covered.body
    );
    assert!(
        !not_covered
            .body
            .contains(&format!("href=\"/hosts/{alma_id}\""))
    );
    // Security updates: unknown without repositories, then the Debian
    // host's, read with the new repository snapshot.
    assert!(
        a.get("/hosts?security_updates=yes")
            .await
            .body
            .contains("No hosts match.")
    );
    add_bookworm(&s).await;
    let updates = a.get("/hosts?security_updates=yes").await;
    assert!(
        updates.body.contains(&format!("href=\"/hosts/{debian}\"")),
        "{}",
        updates.body
    );
    assert!(!updates.body.contains(&format!("href=\"/hosts/{alma_id}\"")));
}

/// The host ids a page links to, in the page's order.
fn host_links(body: &str) -> Vec<i64> {
    body.split("href=\"/hosts/")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// A package page past the first: more than 100 hosts with openssl in two
/// sites, stored in the opposite order of their names; outdated (by a
/// security update), current (a newer build than any repository has),
/// unknown (AlmaLinux, no repository) and missing. Page 2 shows hosts
/// 101 to 165 in page order (the last 10 outdated, then current, then
/// unknown), with every count complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_page_in_the_middle() {
    let s = start().await;
    add_bookworm(&s).await;
    // (rank, site, hostname, id): the page order.
    let mut hosts: Vec<(u8, String, String, i64)> = Vec::new();
    let mut versions: std::collections::BTreeMap<String, usize> = Default::default();
    let mut missing = 0;
    for (site, first) in [("SITE", 0), ("OTHER", 100)] {
        for i in (first..first + 63).rev() {
            let mut report = debian_report(site, i);
            let packages = report.packages.as_mut().unwrap();
            let rank = match i - first {
                0..55 => 0,
                55..60 => {
                    // Newer than every bookworm build: nothing to update to.
                    let openssl = packages.iter_mut().find(|p| p.name == "openssl").unwrap();
                    openssl.epoch = "9".into();
                    1
                }
                _ => {
                    packages.retain(|p| p.name != "openssl");
                    3
                }
            };
            for p in packages.iter().filter(|p| p.name == "openssl") {
                *versions.entry(p.evr()).or_default() += 1;
            }
            let hostname = report.hostname.clone();
            let id = report_at(&s, site, report, 0).await;
            if rank == 3 {
                missing += 1;
            } else {
                hosts.push((rank, site.to_owned(), hostname, id));
            }
        }
    }
    for i in (200..245).rev() {
        let report = alma_report("OTHER", i);
        for p in report.packages.iter().flatten() {
            if p.name == "openssl" {
                *versions.entry(p.evr()).or_default() += 1;
            }
        }
        let hostname = report.hostname.clone();
        let id = report_at(&s, "OTHER", report, 0).await;
        hosts.push((2, "OTHER".to_owned(), hostname, id));
    }
    hosts.sort();
    let expected: Vec<i64> = hosts.iter().map(|h| h.3).collect();
    assert_eq!((expected.len(), missing), (165, 6));

    let mut a = s.browser();
    a.login("admin").await;
    let first = a.get("/packages/openssl").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(host_links(&first.body), expected[..100]);
    let second = a.get("/packages/openssl?page=2").await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let body = &second.body;
    assert_eq!(host_links(body), expected[100..]);
    for text in [
        "Hosts 101–165 of 165 with it",
        "Outdated (110)",
        "Current (10)",
        "Unknown (45)",
        "6 of your hosts do not have openssl.",
        "href=\"/packages/openssl?page=1\" rel=\"prev\"",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }
    assert!(!body.contains("rel=\"next\""), "{body}");
    // Every group has hosts on page 2; only outdated ones have a
    // security update.
    assert!(!body.contains("None of them on this page."), "{body}");
    assert_eq!(body.matches("<strong>yes</strong>").count(), 10, "{body}");
    assert!(first.body.contains("None of them on this page."));
    // Every host's versions, counted on every page.
    let table = &body[body.find("id=\"versions\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    for (version, n) in &versions {
        assert!(
            table.contains(&format!("<tr><td>{version}</td><td>{n}</td></tr>")),
            "{version} {n}: {table}"
        );
    }
    assert_eq!(table.matches("<tr><td>").count(), versions.len(), "{table}");
    assert_eq!(
        a.get("/packages/openssl?page=3").await.status,
        StatusCode::NOT_FOUND
    );

    // SITE's triager: SITE's hosts only, all on one page.
    let mut b = s.browser();
    b.login("site").await;
    let mine = b.get("/packages/openssl").await;
    let site_ids: Vec<i64> = hosts
        .iter()
        .filter(|h| h.1 == "SITE")
        .map(|h| h.3)
        .collect();
    assert_eq!(host_links(&mine.body), site_ids);
    assert!(
        mine.body.contains("Hosts 1–60 of 60 with it"),
        "{}",
        mine.body
    );
    assert!(mine.body.contains("3 of your hosts do not have openssl."));
}
