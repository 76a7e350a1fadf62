//! How long the dashboard takes on a larger fleet (ignored by default:
//! `cargo test -p patchwatch-web --test dashboard_scale -- --ignored
//! --nocapture`; `PATCHWATCH_DASHBOARD_HOSTS`, 10,000 by default). The
//! hosts' reports are spread over the last 60 days, so the trend walks a
//! real history; prints the first (cold) answer and the median of the
//! next ones.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::start;
use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::os;
use patchwatch_store::{FeedKind, IngestRequest, now_millis};
use reqwest::StatusCode;

const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it by name with --ignored"]
async fn dashboard_time_on_a_larger_fleet() {
    let hosts: usize = std::env::var("PATCHWATCH_DASHBOARD_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let s = start().await;
    let site = s.db.site("SITE").await.unwrap().unwrap();
    let alma = Image::almalinux9().unwrap();
    let mut fleet = Fleet::new(vec![alma, Image::debian12().unwrap()], 1).with_drift(5);
    fleet.site = "SITE".into();
    let fleet = Arc::new(fleet);
    let started = Instant::now();
    let now = now_millis();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..hosts {
        let report = fleet.report(i);
        let normalised = os::normalise(&report.os, &report.os_string);
        let at = now - (i as i64 % 60) * DAY;
        let req = IngestRequest::new(site.id, report, normalised, at, "t".into(), "t".into());
        let db = s.db.clone();
        tasks.spawn(async move { db.ingest(req).await.unwrap() });
        if tasks.len() >= 32 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    eprintln!("{hosts} hosts stored in {:?}", started.elapsed());
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;

    let mut b = s.browser();
    b.login("admin").await;
    for path in ["/", "/?days=90", "/sites/SITE"] {
        let t = Instant::now();
        let first = b.get(path).await;
        let cold = t.elapsed();
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            assert_eq!(b.get(path).await.status, StatusCode::OK);
            times.push(t.elapsed());
        }
        times.sort();
        eprintln!(
            "GET {path} at {hosts} hosts: first {cold:?}, median of 5 after {:?}",
            times[2]
        );
    }
}
