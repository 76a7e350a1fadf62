//! A quick ingest throughput check against the real PostgreSQL (ignored by
//! default): `cargo test -p patchwatch-store-postgres --release --test
//! throughput -- --ignored --nocapture`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::os;
use patchwatch_store::{Database, IngestRequest};
use patchwatch_store_postgres::PostgresOptions;

const HOSTS: usize = 2_000;
const TASKS: usize = 32;

fn requests(fleet: &Fleet, site_id: i64, at: i64) -> Vec<IngestRequest> {
    (0..HOSTS)
        .map(|i| {
            let report = fleet.report(i);
            let normalised = os::normalise(&report.os, &report.os_string);
            IngestRequest::new(
                site_id,
                report,
                normalised,
                at,
                "10.0.0.1".into(),
                "bench".into(),
            )
        })
        .collect()
}

/// Ingests every request with [`TASKS`] concurrent tasks; returns the wall
/// time and each report's latency, sorted.
async fn run(db: &Arc<common::TestDb>, requests: Vec<IngestRequest>) -> (Duration, Vec<Duration>) {
    // Owned requests handed out in order: cloning a report's packages
    // would be measured as store time.
    let count = requests.len();
    let requests: Arc<Vec<Mutex<Option<IngestRequest>>>> =
        Arc::new(requests.into_iter().map(|r| Mutex::new(Some(r))).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (db, requests, next) = (db.clone(), requests.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let Some(req) = requests[i].lock().unwrap().take() else {
                        break;
                    };
                    let t = Instant::now();
                    db.ingest(req).await.expect("ingest");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("ingest task"));
    }
    latencies.sort();
    (start.elapsed(), latencies)
}

fn print(label: &str, (wall, latencies): (Duration, Vec<Duration>)) {
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "{label}: {} reports in {:.2} s = {:.0} reports/s (p50 {:.1} ms, p99 {:.1} ms)",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn ingest_throughput() {
    let Some(db) = common::open(PostgresOptions::default()).await else {
        return;
    };
    let db = Arc::new(db);
    let site = db.create_site("BENCH").await.unwrap();
    let fleet = Fleet::new(
        vec![Image::debian12().unwrap(), Image::rhel9().unwrap()],
        42,
    );
    // Parsing and canonicalising is the server's CPU work, not the store's:
    // done before the clock starts.
    let first = requests(&fleet, site.id, 1_000);
    let again = requests(&fleet, site.id, 2_000);
    print("new hosts, cold caches", run(&db, first).await);
    print("same hosts again", run(&db, again).await);
}
