//! "Reboot required" as the client says or the server derives it from the
//! packages (a running kernel older than the newest installed one), on
//! the real Debian 12 dpkg status: the hosts filter, the dashboard count,
//! the host page's reason, and the apt preferences files it ignores,
//! escaped.

mod common;

use common::start;
use patchwatch_fleet::hosts::debian12_with_kernels as debian_with_kernels;
use patchwatch_reports::AptPreferences;
use reqwest::StatusCode;

fn host_links(body: &str) -> Vec<i64> {
    body.split("<td><a href=\"/hosts/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The dashboard's "Reboot required" row: its count and link.
fn reboot_count(body: &str) -> String {
    let at = body
        .find("<th scope=\"row\">Reboot required")
        .unwrap_or_else(|| panic!("no reboot row in {body}"));
    let row = &body[at..at + body[at..].find("</tr>").unwrap()];
    let link = row.find("<a href=\"").expect("a link") + 9;
    let href = row[link..].split('"').next().unwrap();
    let n = row[link..].split('>').nth(1).unwrap().split('<').next();
    format!("{} {href}", n.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_reboot_filters_counts_and_explains() {
    let s = start().await;
    let mut outdated = debian_with_kernels(1, "6.1.0-18-amd64");
    outdated.hostname = "outdated.site.example".into();
    outdated.apt_preferences = vec![
        AptPreferences {
            file: "/etc/apt/preferences.d/<script>alert(1)</script>".into(),
            content: "Package: openssl\nPin: release a=bookworm\nPin-Priority: high\n".into(),
        },
        AptPreferences {
            file: "/etc/apt/preferences.d/fine".into(),
            content: "Package: openssl\nPin: release a=bookworm\nPin-Priority: 900\n".into(),
        },
    ];
    let mut current = debian_with_kernels(2, "6.1.0-21-amd64");
    current.hostname = "current.site.example".into();
    let outdated = s.report(&s.ingest, &outdated).await;
    let current = s.report(&s.ingest, &current).await;

    let mut b = s.browser();
    b.login("site").await;
    assert_eq!(
        host_links(&b.get("/hosts?reboot=yes").await.body),
        [outdated]
    );
    assert_eq!(host_links(&b.get("/hosts?reboot=no").await.body), [current]);
    let dashboard = b.get("/").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert_eq!(reboot_count(&dashboard.body), "1 /hosts?reboot=yes");

    let page = b.get(&format!("/hosts/{outdated}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(
            "6.1.0-18-amd64 x86_64 <strong>reboot required</strong> <span class=\"muted\">(derived: \
             running 6.1.0-18-amd64, newest installed linux-image-6.1.0-21-amd64 6.1.90-1)</span>"
        ),
        "{}",
        page.body
    );
    // The file that does not parse is named, escaped; the other is used.
    let ignored = "apt preferences ignored (its pins are not applied): ";
    assert_eq!(page.body.matches(ignored).count(), 1, "{}", page.body);
    assert!(
        page.body
            .contains("/etc/apt/preferences.d/&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Pin-Priority &#34;high&#34; is not a number")
    );
    assert!(!page.body.contains("<script>alert"));

    let page = b.get(&format!("/hosts/{current}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("reboot required"), "{}", page.body);
    assert!(!page.body.contains(ignored));

    // The client saying so is named as such, beside the derived reason.
    let mut both = debian_with_kernels(3, "6.1.0-18-amd64");
    both.hostname = "both.site.example".into();
    both.reboot.required = Some(true);
    let both = s.report(&s.ingest, &both).await;
    let page = b.get(&format!("/hosts/{both}")).await;
    assert!(
        page.body
            .contains("(reported by the client; derived: running 6.1.0-18-amd64, newest installed"),
        "{}",
        page.body
    );
}
