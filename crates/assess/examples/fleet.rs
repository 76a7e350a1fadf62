//! The headline number: assess a synthetic 100,000-host fleet against the
//! complete AlmaLinux OSV database (plus the Debian tracker excerpts).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-assess cargo build --release -p patchwatch-assess --example fleet
//! /usr/bin/time -v /work/target-assess/release/examples/fleet [HOSTS] [THREADS]
//! ```
//!
//! Hosts come from `patchwatch_fleet::Fleet` (the real RHEL 9 image relabelled
//! AlmaLinux 9.5 and the real Debian 12 host, 300 per mille drift). Each
//! host's set is hashed the way the store hashes it
//! (`patchwatch_store::CanonicalSet`); hosts are processed in chunks so that
//! only one chunk's distinct sets are in memory at a time, as when a server
//! streams sets out of its database after a feed update. Reported apart:
//! index build, synthetic host generation + hashing (the store does that at
//! ingest, not at assessment), and the assessment itself (dedup plan +
//! parallel matching of the distinct sets).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use patchwatch_assess::{AdvisoryIndex, SetInput, plan, run_plan_with};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::model::{OsRelease, Package};
use patchwatch_store::{CanonicalSet, SetHash};

const CHUNK: usize = 10_000;

struct Host {
    set: SetHash,
    os: OsRelease,
    kernel: String,
    packages: Option<Vec<Package>>,
}

fn build_index() -> Result<AdvisoryIndex, Box<dyn std::error::Error>> {
    let data = shared_data_dir();
    let mut b = AdvisoryIndex::builder();
    let mut errors = 0usize;
    let path = data.join("osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz");
    let records = patchwatch_advisories::osv::read_path(&path, |r| match r {
        Ok(a) => b.add(a),
        Err(_) => errors += 1,
    })?;
    for entry in std::fs::read_dir(data.join("debian/tracker-json"))? {
        let path = entry?.path();
        let name = path.display().to_string();
        patchwatch_advisories::debian::tracker::parse(
            BufReader::new(File::open(&path)?),
            &name,
            |a| b.add(a),
        )?;
    }
    let idx = b.build();
    println!(
        "osv records: {records} ({errors} errors); index: {:?}",
        idx.stats()
    );
    Ok(idx)
}

/// Generates hosts `range` on `threads` threads, hashing each set. Only the
/// first copy of a set not in `seen` keeps its packages (per thread), so a
/// chunk holds little more than its new distinct sets.
fn generate(
    fleet: &Fleet,
    range: std::ops::Range<usize>,
    threads: usize,
    seen: &HashMap<SetHash, usize>,
) -> Vec<Host> {
    let chunk: Vec<usize> = range.collect();
    let per = chunk.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = chunk
            .chunks(per)
            .map(|ids| {
                s.spawn(move || {
                    let mut kept = std::collections::HashSet::new();
                    ids.iter()
                        .map(|&i| {
                            let r = fleet.report(i);
                            let os = patchwatch_reports::os::normalise(&r.os, &r.os_string);
                            let packages = r.packages.unwrap_or_default();
                            let set = CanonicalSet::new(packages.clone()).hash;
                            let new = !seen.contains_key(&set) && kept.insert(set);
                            Host {
                                set,
                                os,
                                kernel: r.kernel.release,
                                packages: new.then_some(packages),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let hosts: usize = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let threads: usize = args.next().map_or(Ok(2), |s| s.parse())?;

    let t = Instant::now();
    let index = build_index()?;
    let index_secs = t.elapsed().as_secs_f64();
    println!("index build (parse + index): {index_secs:.2} s");

    let mut alma = Image::rhel9()?;
    alma.os.id = "almalinux".into();
    alma.os.version_id = "9.5".into();
    alma.os.pretty_name = "AlmaLinux 9.5 (Teal Serval)".into();
    let fleet = Fleet::new(vec![alma, Image::debian12()?], 42).with_drift(300);

    let mut generate_time = Duration::ZERO;
    let mut assess_time = Duration::ZERO;
    // Set hash -> findings of that set (a count: results go to the sink).
    let mut seen: HashMap<SetHash, usize> = HashMap::new();
    let mut set_findings = 0usize;
    let mut host_findings = 0usize;
    let mut exposed_findings = 0usize;
    let total = Instant::now();
    for start in (0..hosts).step_by(CHUNK) {
        let end = (start + CHUNK).min(hosts);
        let t = Instant::now();
        let mut chunk = generate(&fleet, start..end, threads, &seen);
        generate_time += t.elapsed();

        let t = Instant::now();
        // Only sets not assessed in an earlier chunk are assessed; the
        // others share the earlier result.
        let mut fresh: HashMap<SetHash, usize> = HashMap::new();
        for (i, h) in chunk.iter_mut().enumerate() {
            if h.packages.is_none() {
                continue;
            }
            if seen.contains_key(&h.set) || fresh.contains_key(&h.set) {
                h.packages = None;
            } else {
                fresh.insert(h.set, i);
            }
        }
        let inputs: Vec<SetInput<'_, SetHash>> = chunk
            .iter()
            .filter_map(|h| {
                Some(SetInput {
                    set_id: h.set,
                    os: &h.os,
                    kernel: &h.kernel,
                    packages: h.packages.as_deref()?,
                })
            })
            .collect();
        let p = plan(&index, &inputs);
        let counts: Vec<AtomicUsize> = p.jobs.iter().map(|_| AtomicUsize::new(0)).collect();
        let exposed = AtomicUsize::new(0);
        let slot: HashMap<&SetHash, usize> = p
            .jobs
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (&k.set_id, i))
            .collect();
        let stats = run_plan_with(&index, &inputs, &p, threads, |key, _, findings| {
            if let Some(&i) = slot.get(&key.set_id) {
                counts[i].store(findings.len(), Ordering::Relaxed);
            }
            exposed.fetch_add(
                findings.iter().filter(|f| f.is_exposed()).count(),
                Ordering::Relaxed,
            );
        });
        assess_time += t.elapsed();
        set_findings += stats.findings;
        exposed_findings += exposed.into_inner();
        for (i, (key, _)) in p.jobs.iter().enumerate() {
            seen.insert(key.set_id, counts[i].load(Ordering::Relaxed));
        }
        host_findings += chunk
            .iter()
            .map(|h| seen.get(&h.set).copied().unwrap_or(0))
            .sum::<usize>();
    }
    let total_secs = total.elapsed().as_secs_f64();
    println!("hosts: {hosts}, threads: {threads}");
    println!("distinct sets assessed: {}", seen.len());
    println!("findings over distinct sets: {set_findings} ({exposed_findings} exposed)");
    println!("findings over all hosts (shared results): {host_findings}");
    println!(
        "host generation + set hashing (not assessment): {:.2} s",
        generate_time.as_secs_f64()
    );
    println!(
        "assessment (dedup plan + parallel matching): {:.2} s",
        assess_time.as_secs_f64()
    );
    println!("fleet wall time after index build: {total_secs:.2} s");
    Ok(())
}
