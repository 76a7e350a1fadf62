//! The web UI over real HTTP: login and sessions, CSRF refusal, the
//! security headers, scope, bad filters and hostile reported strings.

mod common;

use common::{PASSWORD, alma_report, start};
use patchwatch_store::FeedKind;
use reqwest::StatusCode;

/// N of the host page's "Vulnerabilities (N)".
fn open_count(body: &str) -> usize {
    let at = body.find("Vulnerabilities (").expect("a host page") + 17;
    body[at..].split(')').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_session_and_logout() {
    let s = start().await;
    let mut b = s.browser();
    // No session: to the login page.
    let hosts = b.get("/hosts").await;
    assert_eq!(hosts.status, StatusCode::SEE_OTHER);
    assert_eq!(hosts.location(), "/login");
    let form = b.get("/login").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<form class=\"login\""));

    // A wrong password names nothing about which part was wrong.
    let wrong = b
        .post("/login", &[("username", "admin"), ("password", "nope")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Unknown user or wrong password."));
    assert!(b.cookie.is_none());

    let first = b.login("admin").await;
    let cookie = first.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("patchwatch_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let first_cookie = b.cookie.clone().unwrap();
    let hosts = b.get("/hosts").await;
    assert_eq!(hosts.status, StatusCode::OK, "{}", hosts.body);
    assert!(hosts.body.contains("<h1>Hosts</h1>"));

    // Logging in again rotates the session: the old id is dead.
    b.login("admin").await;
    let second_cookie = b.cookie.clone().unwrap();
    assert_ne!(first_cookie, second_cookie);
    let mut old = s.browser();
    old.cookie = Some(first_cookie);
    assert_eq!(old.get("/hosts").await.status, StatusCode::SEE_OTHER);

    // Logout ends the session in the database, not just the cookie.
    let page = b.get("/hosts").await;
    let csrf = page.csrf();
    let out = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(b.cookie.is_none());
    let mut replay = s.browser();
    replay.cookie = Some(second_cookie);
    assert_eq!(replay.get("/hosts").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_rate_limited() {
    let s = start().await;
    let mut b = s.browser();
    for _ in 0..5 {
        let r = b
            .post("/login", &[("username", "site"), ("password", "guess")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now.
    let r = b
        .post("/login", &[("username", "site"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many failed logins"));
    // Another user is not held back.
    b.login("admin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_and_foreign_posts_are_refused() {
    let s = start().await;
    let mut b = s.browser();
    b.login("admin").await;
    let csrf = b.get("/hosts").await.csrf();
    // Wrong token: refused, session kept.
    let r = b
        .post("/logout", &[("csrf", "x".repeat(43).as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("CSRF token does not match"), "{}", r.body);
    // Right token, but posted from another site.
    let r = b
        .post_from("/logout", &[("csrf", &csrf)], Some("http://evil.example"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("evil.example"), "{}", r.body);
    // No Origin at all (and no Sec-Fetch-Site): refused too.
    let r = b.post_from("/logout", &[("csrf", &csrf)], None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A cross-site login attempt is refused before the password is read.
    let mut other = s.browser();
    let r = other
        .post_from(
            "/login",
            &[("username", "admin"), ("password", PASSWORD)],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/hosts").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_the_security_headers() {
    let s = start().await;
    let mut b = s.browser();
    let login = b.get("/login").await;
    b.login("admin").await;
    let hosts = b.get("/hosts").await;
    let missing = b.get("/hosts/999999").await;
    for page in [&login, &hosts, &missing] {
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
        assert!(page.headers.contains_key("referrer-policy"));
    }
    // The stylesheet has a hashed name and a year's cache.
    let at = hosts.body.find("/static/style-").unwrap();
    let url = hosts.body[at..].split('"').next().unwrap().to_owned();
    let css = b.get(&url).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(
        b.get("/static/style-0.css").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_viewer_sees_only_its_site() {
    let s = start().await;
    let mine = s.report(&s.other_ingest, &alma_report("OTHER", 1)).await;
    let theirs = s.report(&s.ingest, &alma_report("SITE", 2)).await;
    let mut b = s.browser();
    b.login("viewer").await;
    let list = b.get("/hosts").await;
    assert!(list.body.contains(&format!("href=\"/hosts/{mine}\"")));
    assert!(!list.body.contains(&format!("href=\"/hosts/{theirs}\"")));
    assert!(list.body.contains("of 1."), "{}", list.body);

    assert_eq!(
        b.get(&format!("/hosts/{mine}")).await.status,
        StatusCode::OK
    );
    // Another site's host answers exactly as a missing one.
    let other = b.get(&format!("/hosts/{theirs}")).await;
    let missing = b.get("/hosts/987654").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        // Only the id in the message: the stylesheet's hashed name has digits.
        other.body.replace(&format!("host {theirs} "), "host N "),
        missing.body.replace("host 987654 ", "host N ")
    );
    // And the CSV export is cut the same way.
    let csv = b.get("/hosts.csv").await;
    assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
    // Filtering by the other site finds nothing rather than its hosts.
    let filtered = b.get("/hosts?site=SITE").await;
    assert!(filtered.body.contains("No hosts match."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_are_a_clear_400() {
    let s = start().await;
    let mut b = s.browser();
    b.login("admin").await;
    for (query, says) in [
        ("/hosts?colour=red", "unknown field `colour`"),
        (
            "/hosts?page=99999999999",
            "page must be a whole number from 1 to 100000",
        ),
        ("/hosts?page=0", "page must be"),
        ("/hosts?per_page=100000", "per_page must be"),
        ("/hosts?cve=%3Cscript%3E", "is not a CVE id"),
        ("/hosts/abc", "a host id is a whole number"),
    ] {
        let r = b.get(query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert!(r.body.contains("<h1>400 Bad Request</h1>"), "{query}");
        let shown = r.body.replace("&#96;", "`").replace("&#x60;", "`");
        assert!(shown.contains(says), "{query}: {}", r.body);
        assert!(!r.body.contains("<script>"), "{query}");
    }
    // Empty fields of a submitted filter form mean "any".
    let r = b.get("/hosts?site=&os=&cve=&page=").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reported_strings_are_escaped() {
    let s = start().await;
    let mut report = alma_report("SITE", 3);
    let evil = "<script>alert(1)</script>\"'&";
    // Hostnames are refused at ingest unless plain (letters, digits, - _ .).
    let mut refused = report.clone();
    refused.hostname = "x<script>.example".into();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/reports", s.base))
        .bearer_auth(&s.ingest)
        .header("content-type", "application/json")
        .body(patchwatch_reports::native::to_json(&refused))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    report.os.pretty_name = format!("AlmaLinux {evil}");
    report.packages.as_mut().unwrap()[0].name = format!("pkg{evil}");
    let id = s.report(&s.ingest, &report).await;
    let mut b = s.browser();
    b.login("admin").await;
    let list = b.get("/hosts").await;
    let host = b.get(&format!("/hosts/{id}")).await;
    for page in [&list, &host] {
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(!page.body.contains("<script>"), "{}", page.body);
    }
    assert!(
        host.body
            .contains("pkg&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;"),
        "{}",
        host.body
    );
    let at = host.body.find("<dt>OS").unwrap();
    assert!(
        host.body.contains("AlmaLinux &#60;script&#62;"),
        "{}",
        &host.body[at..at + 300]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn except_a_finding_from_the_host_page() {
    let s = start().await;
    let id = s.report(&s.ingest, &alma_report("SITE", 4)).await;
    let other = s.report(&s.other_ingest, &alma_report("OTHER", 5)).await;
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let mut b = s.browser();
    b.login("site").await;

    // Filtering by CVE finds the host, within the user's sites.
    let by_cve = b.get("/hosts?cve=CVE-2024-12797").await;
    assert_eq!(by_cve.status, StatusCode::OK, "{}", by_cve.body);
    assert!(by_cve.body.contains(&format!("href=\"/hosts/{id}\"")));
    assert!(!by_cve.body.contains(&format!("href=\"/hosts/{other}\"")));

    // The CVE list and page show only the user's hosts.
    let cves = b.get("/cves").await;
    assert_eq!(cves.status, StatusCode::OK, "{}", cves.body);
    assert!(cves.body.contains("href=\"/cves/CVE-2024-12797\""));
    let listed_before = cve_row(&cves.body, "CVE-2024-12797");
    assert!(listed_before.contains("openssl-libs"), "{listed_before}");
    let cve = b.get("/cves/CVE-2024-12797").await;
    assert_eq!(cve.status, StatusCode::OK, "{}", cve.body);
    assert!(cve.body.contains(&format!("href=\"/hosts/{id}\"")));
    assert!(!cve.body.contains(&format!("href=\"/hosts/{other}\"")));
    assert!(
        cve.body.contains("1:3.2.2-6.el9_5.1"),
        "fixed version shown"
    );
    // Paged: the one in-scope host is on page 1, there is no page 2.
    assert!(cve.body.contains("Hosts 1–1 of 1"), "{}", cve.body);
    assert!(!cve.body.contains("rel=\"next\""));
    let first = b.get("/cves/CVE-2024-12797?page=1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains(&format!("href=\"/hosts/{id}\"")));
    let beyond = b.get("/cves/CVE-2024-12797?page=2").await;
    assert_eq!(beyond.status, StatusCode::NOT_FOUND, "{}", beyond.body);
    assert!(beyond.body.contains("no page 2"), "{}", beyond.body);
    for bad in ["page=0", "page=x", "page=10001", "sort=x"] {
        let r = b.get(&format!("/cves/CVE-2024-12797?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    assert_eq!(
        b.get("/cves/CVE-1999-0001").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/cves/nonsense").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.get("/cves?site=OTHER").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(b.get("/cves?page=0").await.status, StatusCode::BAD_REQUEST);

    let page = b.get(&format!("/hosts/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("CVE-2024-12797"));
    assert!(page.body.contains("(rpm ordering)"), "explanations shown");
    assert!(
        page.body
            .contains("openssl-libs</td><td>1:3.2.2-6.el9_5</td>")
    );
    assert!(
        page.body.contains("the oldest report kept"),
        "report history"
    );
    assert!(page.body.contains("Excepted (0)"));
    let before = open_count(&page.body);
    let csrf = page.csrf();
    let host_id = id.to_string();
    let added = b
        .post(
            "/exceptions",
            &[
                ("csrf", &csrf),
                ("host_id", &host_id),
                ("cve", "CVE-2024-12797"),
                ("package", "openssl-libs"),
                ("version", "1:3.2.2-6.el9_5"),
                ("site", "SITE"),
                ("reason", "mitigated <by> config"),
                ("expires", "2099-12-31"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location(), format!("/hosts/{id}#excepted"));
    let page = b.get(&format!("/hosts/{id}")).await;
    assert!(page.body.contains("Excepted (1)"), "listed apart");
    let at = page.body.find("Excepted (").unwrap();
    assert!(
        page.body
            .contains("mitigated &#60;by&#62; config (by user:site, until 2100-01-01T00:00:00Z)"),
        "{}",
        &page.body[at..at + 800]
    );
    // One finding fewer is open.
    assert_eq!(open_count(&page.body), before - 1);
    // The CVE page, from the kept assessment, lists the finding apart.
    let cve = b.get("/cves/CVE-2024-12797").await;
    assert_eq!(cve.status, StatusCode::OK, "{}", cve.body);
    assert!(cve.body.contains("Excepted (1)"), "{}", cve.body);
    assert!(cve.body.contains("mitigated &#60;by&#62; config"));
    // The CVE list (kept between requests) no longer counts the excepted
    // package at once.
    let cves = b.get("/cves").await;
    let listed_after = cve_row(&cves.body, "CVE-2024-12797");
    assert_ne!(listed_after, listed_before);
    assert!(!listed_after.contains("openssl-libs"), "{listed_after}");

    // Not on a site the user can't triage: that site is "not found".
    let refused = b
        .post(
            "/exceptions",
            &[
                ("csrf", &csrf),
                ("host_id", &host_id),
                ("cve", "CVE-2024-12797"),
                ("package", "openssl-libs"),
                ("version", "1:3.2.2-6.el9_5"),
                ("site", "OTHER"),
                ("reason", "no"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);

    let list = b.get("/exceptions").await;
    assert!(list.body.contains("site SITE"));
    let at = list.body.find("action=\"/exceptions/").unwrap() + 8;
    let action = list.body[at..].split('"').next().unwrap().to_owned();
    let removed = b.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert!(b.get("/exceptions").await.body.contains("No exceptions."));
}

/// The row of `cve` on the CVE list (empty when it is not listed).
fn cve_row(body: &str, cve: &str) -> String {
    let Some(at) = body.find(&format!("href=\"/cves/{cve}\"")) else {
        return String::new();
    };
    let end = body[at..].find("</tr>").map_or(body.len(), |e| at + e);
    body[at..end].to_owned()
}
