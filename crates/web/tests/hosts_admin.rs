//! The hosts list's filters, sorting and CSV export; the administration
//! pages (users, roles, API tokens); the CVE tags page. Over real HTTP
//! against a real server, as a browser's forms send them.

mod common;

use common::{Running, alma_report, start};
use patchwatch_store::FeedKind;
use reqwest::StatusCode;

/// The host ids linked from a hosts page, in order.
fn host_links(body: &str) -> Vec<i64> {
    body.split("<td><a href=\"/hosts/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// Hosts in SITE (1, 2, 3) and OTHER (4, 5); host 2 says it needs a
/// reboot, host 3 is reported with a lower-sorting hostname.
async fn fleet(s: &Running) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 1..=5 {
        let mut r = alma_report(if i <= 3 { "SITE" } else { "OTHER" }, i);
        r.reboot.required = Some(i == 2);
        if i == 3 {
            r.hostname = "aaa.example.org".into();
        }
        let token = if i <= 3 { &s.ingest } else { &s.other_ingest };
        ids.push(s.report(token, &r).await);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_filters_sorting_and_csv() {
    let s = start().await;
    let ids = fleet(&s).await;
    s.db.add_site_group("G", None).await.unwrap();
    s.db.set_group_member("G", "OTHER", true).await.unwrap();
    let mut b = s.browser();
    b.login("admin").await;

    let by_name = b.get("/hosts?sort=hostname").await;
    assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.body);
    assert_eq!(
        host_links(&by_name.body),
        [ids[2], ids[0], ids[1], ids[3], ids[4]]
    );
    let desc = b.get("/hosts?sort=hostname&order=desc").await;
    assert_eq!(
        host_links(&desc.body),
        [ids[4], ids[3], ids[1], ids[0], ids[2]]
    );
    // The header says how the list is sorted, and its link reverses it.
    assert!(
        desc.body.contains(
            "<th scope=\"col\" aria-sort=\"descending\"><a href=\"/hosts?sort=hostname\">Host</a>"
        ),
        "{}",
        desc.body
    );
    assert_eq!(desc.body.matches("aria-sort=").count(), 1);
    // Paging keeps the order and the filters in its links.
    let paged = b.get("/hosts?sort=hostname&order=desc&per_page=2").await;
    assert_eq!(host_links(&paged.body), [ids[4], ids[3]]);
    assert!(
        paged
            .body
            .contains("href=\"/hosts?sort=hostname&#38;order=desc&#38;per_page=2&#38;page=2\""),
        "{}",
        paged.body
    );

    let bad = b.get("/hosts?sort=hostname%3Bdrop").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("unknown sort key"), "{}", bad.body);
    assert!(bad.body.contains("hostname, site, os, last_seen, packages"));
    let bad = b.get("/hosts?reboot=maybe").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("reboot must be one of yes, no"));

    assert_eq!(host_links(&b.get("/hosts?reboot=yes").await.body), [ids[1]]);
    assert_eq!(
        b.get("/hosts?reboot=no")
            .await
            .body
            .matches("<tr><td>")
            .count(),
        4
    );
    assert_eq!(
        host_links(&b.get("/hosts?group=G&sort=hostname").await.body),
        [ids[3], ids[4]]
    );
    let unknown = b.get("/hosts?group=NOPE").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("site group \"NOPE\"") || unknown.body.contains("NOPE"));
    assert_eq!(
        host_links(&b.get("/hosts?seen_within_days=1").await.body).len(),
        5
    );
    assert!(
        b.get("/hosts?not_seen_days=1")
            .await
            .body
            .contains("No hosts match.")
    );
    // No repository is imported: no host has a pending security update.
    assert!(
        b.get("/hosts?security_updates=yes")
            .await
            .body
            .contains("No hosts match.")
    );

    // The CSV export is the filtered list in the same order.
    let csv = b.get("/hosts.csv?site=SITE&sort=hostname&order=desc").await;
    assert_eq!(csv.status, StatusCode::OK);
    let first_column: Vec<String> = csv
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        first_column,
        [ids[1], ids[0], ids[2]].map(|i| i.to_string())
    );
    let bad = b.get("/hosts.csv?sort=colour").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cve_and_cve_tag_filters_within_scope() {
    let s = start().await;
    let ids = fleet(&s).await;
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let mut admin = s.browser();
    admin.login("admin").await;
    let all = admin.get("/hosts?cve=CVE-2024-12797&sort=hostname").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        host_links(&all.body),
        [ids[2], ids[0], ids[1], ids[3], ids[4]]
    );
    assert!(
        admin
            .get("/hosts?cve=CVE-1999-0001")
            .await
            .body
            .contains("No hosts match.")
    );
    // Filters combine: the CVE and the SQL ones.
    assert_eq!(
        host_links(&admin.get("/hosts?cve=CVE-2024-12797&reboot=yes").await.body),
        [ids[1]]
    );

    // A tag made on the tags page selects the hosts of its CVEs.
    assert!(
        admin
            .get("/hosts?cve_tag=urgent")
            .await
            .body
            .contains("No hosts match.")
    );
    let csrf = admin.get("/tags").await.csrf();
    let made = admin
        .post(
            "/tags",
            &[
                ("csrf", &csrf),
                ("name", "urgent"),
                ("reason", "patch first"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let tagged = admin
        .post(
            "/tags/assign",
            &[
                ("csrf", &csrf),
                ("tag", "urgent"),
                ("cve", "CVE-2024-12797"),
                ("reason", "exploited"),
            ],
        )
        .await;
    assert_eq!(tagged.status, StatusCode::SEE_OTHER, "{}", tagged.body);
    assert_eq!(
        host_links(&admin.get("/hosts?cve_tag=urgent").await.body).len(),
        5
    );

    // A viewer of OTHER gets only OTHER's exposed hosts.
    let mut viewer = s.browser();
    viewer.login("viewer").await;
    assert_eq!(
        host_links(
            &viewer
                .get("/hosts?cve=CVE-2024-12797&sort=hostname")
                .await
                .body
        ),
        [ids[3], ids[4]]
    );
    assert_eq!(
        host_links(&viewer.get("/hosts?cve_tag=urgent&site=SITE").await.body),
        Vec::<i64>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_page_follows_the_api_rules() {
    let s = start().await;
    fleet(&s).await;
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let mut admin = s.browser();
    admin.login("admin").await;
    let page = admin.get("/tags").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("aria-current=\"page\">Tags</a>"));
    let csrf = page.csrf();
    for (path, form) in [
        ("/tags", vec![("name", "EGI<b>"), ("reason", "grid")]),
        (
            "/tags/assign",
            vec![("tag", "EGI<b>"), ("cve", "CVE-2024-12797")],
        ),
        ("/tags/EGI%3Cb%3E/disable", vec![]),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let r = admin.post(path, &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    let page = admin.get("/tags").await;
    assert!(page.body.contains("EGI&#60;b&#62;"), "{}", page.body);
    assert!(!page.body.contains("EGI<b>"));
    assert!(page.body.contains("disabled"));
    assert!(page.body.contains("href=\"/cves/CVE-2024-12797\""));
    assert!(page.body.contains("by user:admin") || page.body.contains("user:admin"));

    // A site triager sees the tags but may not change them (as the API).
    let mut site = s.browser();
    site.login("site").await;
    let theirs = site.get("/tags").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.body.contains("action=\"/tags\""), "no forms");
    let their_csrf = theirs.csrf();
    let refused = site
        .post("/tags", &[("csrf", &their_csrf), ("name", "mine")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("triage rights on every site"),
        "{}",
        refused.body
    );
    // Without the CSRF token: refused before anything is changed.
    let r = admin.post("/tags", &[("name", "sneaky")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = admin
        .post("/tags", &[("csrf", "wrong"), ("name", "sneaky")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!admin.get("/tags").await.body.contains("sneaky"));

    for path in [
        "/tags/EGI%3Cb%3E/enable",
        "/tags/EGI%3Cb%3E/cves/CVE-2024-12797/remove",
    ] {
        let r = admin.post(path, &[("csrf", &csrf)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
    }
    let page = admin.get("/tags").await;
    assert!(page.body.contains("No CVE is tagged by hand"));
    let r = admin
        .post("/tags/EGI%3Cb%3E/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!admin.get("/tags").await.body.contains("EGI"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_are_for_admins_only() {
    let s = start().await;
    for user in ["viewer", "site"] {
        let mut b = s.browser();
        b.login(user).await;
        let page = b.get("/hosts").await;
        assert!(
            !page.body.contains("href=\"/admin/users\""),
            "no Admin link"
        );
        for path in ["/admin/users", "/admin/tokens"] {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} {path}");
            assert!(r.body.contains("needs the admin role"), "{}", r.body);
        }
        let csrf = page.csrf();
        let r = b
            .post(
                "/admin/tokens",
                &[
                    ("csrf", &csrf),
                    ("name", "stolen"),
                    ("access", "triage"),
                    ("scope", "everywhere"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert!(
        !s.db
            .tokens()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "stolen")
    );
    let mut nobody = s.browser();
    assert_eq!(
        nobody.get("/admin/users").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_users_roles_and_tokens() {
    let s = start().await;
    fleet(&s).await;
    let mut b = s.browser();
    b.login("admin").await;
    let page = b.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("aria-current=\"page\">Admin</a>"));
    let csrf = page.csrf();

    let weak = b
        .post(
            "/admin/users",
            &[("csrf", &csrf), ("name", "carol"), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("at least 12"), "{}", weak.body);
    let added = b
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "carol"),
                ("password", common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let again = b
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "carol"),
                ("password", common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // No role yet: carol can log in but reads nothing.
    let mut carol = s.browser();
    carol.login("carol").await;
    assert_eq!(carol.get("/hosts").await.status, StatusCode::FORBIDDEN);
    let bad = b
        .post(
            "/admin/grant",
            &[("csrf", &csrf), ("user", "carol"), ("role", "viewer")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("needs a site or a site group"),
        "{}",
        bad.body
    );
    let granted = b
        .post(
            "/admin/grant",
            &[
                ("csrf", &csrf),
                ("user", "carol"),
                ("role", "viewer"),
                ("site", "SITE"),
                ("group", ""),
            ],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    let list = carol.get("/hosts").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(host_links(&list.body).len(), 3);
    let users = b.get("/admin/users").await;
    assert!(users.body.contains("viewer on site SITE"), "{}", users.body);
    let revoked = b
        .post(
            "/admin/users/carol/revoke",
            &[
                ("csrf", &csrf),
                ("role", "viewer"),
                ("site", "SITE"),
                ("group", ""),
            ],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(carol.get("/hosts").await.status, StatusCode::FORBIDDEN);

    // A token: its secret on the answer to the form, and never again.
    let created = b
        .post(
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("name", "monitoring"),
                ("access", "read"),
                ("scope", "site"),
                ("target", "OTHER"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let marker = "<code class=\"secret\">";
    let at = created.body.find(marker).unwrap() + marker.len();
    let secret = created.body[at..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("pwa_"), "{secret}");
    assert_eq!(created.headers["cache-control"], "no-store");
    let listed = b.get("/admin/tokens").await;
    assert!(listed.body.contains("monitoring"));
    assert!(listed.body.contains("site OTHER"));
    assert!(!listed.body.contains(&secret), "shown only once");
    // It works, within its scope.
    let api = reqwest::Client::new()
        .get(format!("{}/api/v1/hosts", s.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["total"], 2, "{body}");
    let unknown = b
        .post(
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("name", "x"),
                ("access", "read"),
                ("scope", "group"),
                ("target", "NOPE"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    tokens_show_last_use_and_revocation(&s, &mut b, &csrf, &secret).await;

    // CSRF: a missing or wrong token changes nothing.
    let r = b.post("/admin/users/carol/remove", &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .post("/admin/users/carol/remove", &[("csrf", "nope")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post_from(
            "/admin/users/carol/remove",
            &[("csrf", &csrf)],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(s.db.user("carol").await.unwrap().is_some());
    let self_removal = b
        .post("/admin/users/admin/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(self_removal.status, StatusCode::BAD_REQUEST);
    let removed = b
        .post("/admin/users/carol/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(s.db.user("carol").await.unwrap().is_none());
}

/// The API token `monitoring` (secret `secret`) has just been used; a
/// second token was never used. Revoking keeps the row, listed as revoked
/// by the admin, and the secret stops working at once.
async fn tokens_show_last_use_and_revocation(
    s: &Running,
    b: &mut common::Browser,
    csrf: &str,
    secret: &str,
) {
    let spare = b
        .post(
            "/admin/tokens",
            &[
                ("csrf", csrf),
                ("name", "spare"),
                ("access", "read"),
                ("scope", "everywhere"),
            ],
        )
        .await;
    assert_eq!(spare.status, StatusCode::OK, "{}", spare.body);
    // The use is recorded in the background.
    let mut used = None;
    for _ in 0..100 {
        let tokens = s.db.tokens().await.unwrap();
        used = tokens
            .iter()
            .find(|t| t.name == "monitoring")
            .and_then(|t| t.last_used_at);
        if used.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let used = patchwatch_store::format_millis(used.expect("last use recorded"));
    let row = |body: &str, name: &str| {
        body.split("<tr>")
            .find(|r| r.starts_with(&format!("<td>{name}</td>")))
            .unwrap_or_else(|| panic!("no row for {name} in {body}"))
            .to_owned()
    };
    let listed = b.get("/admin/tokens").await;
    assert!(listed.body.contains("<th scope=\"col\">Last used</th>"));
    let monitoring = row(&listed.body, "monitoring");
    assert!(
        monitoring.contains(&format!("<td>{used}</td><td>active</td>")),
        "{monitoring}"
    );
    assert!(monitoring.contains("/admin/tokens/monitoring/revoke"));
    let never = row(&listed.body, "spare");
    assert!(never.contains("<td>never</td><td>active</td>"), "{never}");
    // Only a revoked token may be deleted.
    let r = b
        .post("/admin/tokens/spare/delete", &[("csrf", csrf)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("revoke it before deleting it"),
        "{}",
        r.body
    );

    let revoked = b
        .post("/admin/tokens/monitoring/revoke", &[("csrf", csrf)])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    // Refused at once (this server forgot its cached lookup), exactly as
    // an unknown token is.
    let api = |token: String| async move {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/hosts", s.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let refused = api(secret.to_owned()).await;
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refused, api("pwa_unknown".into()).await);

    let listed = b.get("/admin/tokens").await;
    let monitoring = row(&listed.body, "monitoring");
    let record = s.db.tokens().await.unwrap();
    let record = record.iter().find(|t| t.name == "monitoring").unwrap();
    let revoked_at = patchwatch_store::format_millis(record.revoked_at.expect("kept, revoked"));
    assert!(
        monitoring.contains(&format!(
            "<td>{used}</td><td>revoked at {revoked_at} by admin</td>"
        )),
        "{monitoring}"
    );
    assert!(
        !monitoring.contains("/revoke\""),
        "no revoke button: {monitoring}"
    );
    assert!(monitoring.contains("/admin/tokens/monitoring/delete"));
    // Revoking again changes nothing.
    let again = b
        .post("/admin/tokens/monitoring/revoke", &[("csrf", csrf)])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(
        row(&b.get("/admin/tokens").await.body, "monitoring"),
        monitoring
    );
    assert_eq!(refused, api(secret.to_owned()).await);

    let deleted = b
        .post("/admin/tokens/monitoring/delete", &[("csrf", csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        !s.db
            .tokens()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "monitoring")
    );
    let missing = b
        .post("/admin/tokens/monitoring/revoke", &[("csrf", csrf)])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
