//! The server-derived "reboot required" (a running kernel older than the
//! newest installed kernel package), on the real Debian 12 dpkg status:
//! stored by every ingest path, shown by the hosts API beside the
//! client's flag, kept by a Patchman "packages unchanged" report, and
//! filled in by the background pass for hosts stored without one. The
//! host updates API names the apt preferences files it ignores.

mod common;

use axum::http::StatusCode;
use common::*;
use patchwatch_fleet::hosts::debian12_with_kernels;
use patchwatch_reports::{AptPreferences, Report, native, os, pakiti, patchman};
use patchwatch_server::kernel_verdicts::{BackfillStats, fill_unknown, for_report};
use patchwatch_store::{HostFilter, IngestRequest};

/// The real Debian 12 host named `hostname` with kernels 6.1.0-18 and
/// 6.1.0-21 installed, running `running`, silent about reboots.
fn debian(hostname: &str, running: &str) -> Report {
    let mut report = debian12_with_kernels(0, running);
    report.hostname = hostname.into();
    report
}

async fn host_json(s: &TestServer, hostname: &str) -> serde_json::Value {
    let hosts = s.get("/api/v1/hosts").await;
    assert_eq!(hosts.status, StatusCode::OK, "{}", hosts.json);
    hosts.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hostname"] == hostname)
        .unwrap_or_else(|| panic!("no host {hostname}: {}", hosts.json))
        .clone()
}

#[test]
fn derived_from_the_packages_of_the_report() {
    assert_eq!(
        for_report(&debian("a.example.org", "6.1.0-18-amd64")),
        Some(true)
    );
    assert_eq!(
        for_report(&debian("a.example.org", "6.1.0-21-amd64")),
        Some(false)
    );
    // The container inventory alone: no kernel package, nothing to say.
    let mut bare = debian("a.example.org", "6.1.0-18-amd64");
    bare.packages
        .as_mut()
        .unwrap()
        .retain(|p| !p.name.starts_with("linux-image-"));
    assert_eq!(for_report(&bare), Some(false));
    bare.packages = None;
    assert_eq!(for_report(&bare), None);
}

#[tokio::test]
async fn every_ingest_path_stores_the_derived_flag() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let mut native_report = debian("native.example.org", "6.1.0-18-amd64");
    native_report.apt_preferences = vec![AptPreferences {
        file: "/etc/apt/preferences.d/broken".into(),
        content: "Package: openssl\nPin: release a=bookworm\nPin-Priority: high\n".into(),
    }];
    let r = s
        .post(&s.ingest, None, native::to_json(&native_report))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let native_id = r.json["host_id"].as_i64().unwrap();
    let r = s
        .post(
            &s.ingest,
            None,
            native::to_json(&debian("current.example.org", "6.1.0-21-amd64")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = s
        .post_to(
            "/feed/?protocol=5",
            &[],
            pakiti::to_v5(&debian("pakiti.example.org", "6.1.0-18-amd64")).into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let auth = format!("Api-Key {}", s.ingest);
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    let patchman_report = debian("patchman.example.org", "6.1.0-18-amd64");
    let r = s
        .post_to(
            "/api/report/",
            &headers,
            patchman::to_v2_json(&patchman_report),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);

    for (hostname, derived) in [
        ("native.example.org", true),
        ("current.example.org", false),
        ("pakiti.example.org", true),
        ("patchman.example.org", true),
    ] {
        let h = host_json(&s, hostname).await;
        assert_eq!(h["reboot_required_derived"], derived, "{h}");
        assert_eq!(h["reboot_required"], serde_json::Value::Null, "{h}");
    }
    let detail = s.get(&format!("/api/v1/hosts/{native_id}")).await;
    assert_eq!(
        detail.json["reboot_required_derived"], true,
        "{}",
        detail.json
    );

    // Patchman's "packages unchanged" keeps the verdict while the kernel
    // is the same.
    let before = host_json(&s, "patchman.example.org").await;
    let mut unchanged = patchman_report.clone();
    unchanged.packages = None;
    let r = s
        .post_to("/api/report/", &headers, patchman::to_v2_json(&unchanged))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let h = host_json(&s, "patchman.example.org").await;
    assert_eq!(h["packages"], before["packages"], "{h}");
    assert_eq!(h["reboot_required_derived"], true, "{h}");

    // The updates answer names the preferences file it ignores, and why.
    let updates = s.get(&format!("/api/v1/hosts/{native_id}/updates")).await;
    assert_eq!(updates.status, StatusCode::OK, "{}", updates.json);
    let ignored = updates.json["ignored_preferences"].as_array().unwrap();
    assert_eq!(ignored.len(), 1, "{}", updates.json);
    let reason = ignored[0].as_str().unwrap();
    assert!(
        reason.contains("/etc/apt/preferences.d/broken")
            && reason.contains("Pin-Priority \"high\" is not a number"),
        "{reason}"
    );
}

/// Hosts stored without a verdict (before migration 11) get one from the
/// pass, each distinct package set read once across batches.
#[tokio::test]
async fn the_background_pass_fills_hosts_without_a_verdict() {
    let s = start_from(open_config(), "192.0.2.7:5000").await;
    let site = s.db.site("SITE").await.unwrap().unwrap();
    // a and c share one set (same packages); b runs the newest kernel.
    for (i, (hostname, running)) in [
        ("a.example.org", "6.1.0-18-amd64"),
        ("b.example.org", "6.1.0-21-amd64"),
        ("c.example.org", "6.1.0-18-amd64"),
    ]
    .into_iter()
    .enumerate()
    {
        let report = debian(hostname, running);
        let normalised = os::normalise(&report.os, &report.os_string);
        let at = 1_000 + i as i64;
        // As an older server stored it: no verdict.
        let req = IngestRequest::new(site.id, report, normalised, at, "t".into(), "t".into());
        s.db.ingest(req).await.unwrap();
    }
    for hostname in ["a.example.org", "b.example.org", "c.example.org"] {
        let h = host_json(&s, hostname).await;
        assert_eq!(h["reboot_required_derived"], serde_json::Value::Null);
    }
    let yes = HostFilter {
        reboot_required: Some(true),
        ..HostFilter::default()
    };
    assert_eq!(s.db.hosts(&yes).await.unwrap().total, 0);

    let stats = fill_unknown(s.db.as_ref(), 2).await.unwrap();
    assert_eq!(
        stats,
        BackfillStats {
            hosts: 3,
            updated: 3,
            sets_read: 1,
        }
    );
    for (hostname, derived) in [
        ("a.example.org", true),
        ("b.example.org", false),
        ("c.example.org", true),
    ] {
        let h = host_json(&s, hostname).await;
        assert_eq!(h["reboot_required_derived"], derived, "{h}");
    }
    assert_eq!(s.db.hosts(&yes).await.unwrap().total, 2);
    // Nothing left to do.
    assert_eq!(
        fill_unknown(s.db.as_ref(), 2).await.unwrap(),
        BackfillStats::default()
    );
}
