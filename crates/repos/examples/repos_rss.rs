//! Wall time, throughput and peak memory (VmHWM) of reading one real index,
//! one reading per process so the peak belongs to it alone:
//!
//! ```text
//! cargo run --release -p patchwatch-repos --example repos_rss -- rpm
//! cargo run --release -p patchwatch-repos --example repos_rss -- apk
//! ```

use std::path::PathBuf;
use std::time::Instant;

fn data(rel: &str) -> PathBuf {
    let root = std::env::var("PATCHWATCH_SHARED_DATA").map_or_else(
        |_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    root.join(rel)
}

/// A line of /proc/self/status, in kB.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "rpm".into());
    let before = status_kb("VmHWM:");
    let start = Instant::now();
    let (packages, input_bytes) = match what.as_str() {
        "rpm" => {
            let root = data("repos/centos-stream-9/appstream-x86_64-2025-01-13");
            let snap = patchwatch_repos::rpmmd::read_dir(&root).expect("AppStream");
            let bytes: u64 = std::fs::read_dir(root.join("repodata"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().ends_with("-primary.xml.gz"))
                .map(|p| std::fs::metadata(p).unwrap().len())
                .sum();
            (snap.packages.len(), bytes)
        }
        "apk" => {
            let rel = "repos/alpine/v3.21/main/x86_64/APKINDEX.tar.gz";
            let bytes = std::fs::read(data(rel)).unwrap();
            let snap = patchwatch_repos::apk::parse_apkindex(&bytes, rel).expect("APKINDEX");
            (snap.packages.len(), bytes.len() as u64)
        }
        other => panic!("rpm or apk, not {other}"),
    };
    let elapsed = start.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM:");
    println!(
        "{what}: {packages} packages in {:.1} ms ({:.0} packages/s, {:.1} MB/s compressed); peak RSS {} MiB (before: {} MiB)",
        elapsed * 1e3,
        packages as f64 / elapsed,
        input_bytes as f64 / elapsed / 1e6,
        peak / 1024,
        before / 1024,
    );
}
