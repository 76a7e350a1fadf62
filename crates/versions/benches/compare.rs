//! Comparison throughput on real versions.
//!
//! Pairs are real installed versions (`versions-sample.txt`: a Debian 12
//! dpkg status, two RHEL 9 rpm manifests, an Alpine apk database) against
//! slightly different versions of the same shape, the way a scan compares
//! an installed version with a fixed or candidate version. Throughput is in
//! comparisons (criterion "elements") per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use patchwatch_versions::{Scheme, compare, run_batch};

const SAMPLE: &str = include_str!("versions-sample.txt");

fn sample(scheme: &str) -> Vec<&'static str> {
    SAMPLE
        .lines()
        .filter_map(|l| l.strip_prefix(scheme)?.strip_prefix(' '))
        .collect()
}

/// Slightly different versions: the next security update, a backport, a
/// pre-release, a rebuild, or the same version, in a fixed rotation.
fn variants(scheme: Scheme, v: &str) -> Vec<String> {
    let bumped = bump_last_digit(v);
    match scheme {
        Scheme::Deb => vec![
            bumped,
            format!("{v}+deb12u1"),
            format!("{v}~bpo12+1"),
            v.to_owned(),
        ],
        Scheme::Rpm | Scheme::Pacman => vec![
            bumped,
            format!("{v}.1"),
            v.replacen('-', "~rc1-", 1),
            v.to_owned(),
        ],
        Scheme::Apk => vec![
            bumped,
            v.replacen("-r", "_p1-r", 1),
            v.replacen("-r", "_rc1-r", 1),
            v.to_owned(),
        ],
    }
}

fn bump_last_digit(v: &str) -> String {
    let mut b = v.as_bytes().to_vec();
    if let Some(i) = b.iter().rposition(u8::is_ascii_digit) {
        b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
    }
    String::from_utf8(b).unwrap()
}

fn pairs(scheme: Scheme, source: &str) -> Vec<(String, String)> {
    sample(source)
        .into_iter()
        .flat_map(|v| {
            variants(scheme, v)
                .into_iter()
                .map(move |w| (v.to_owned(), w))
        })
        .collect()
}

fn bench_compare(c: &mut Criterion) {
    let deb = pairs(Scheme::Deb, "deb");
    let rpm = pairs(Scheme::Rpm, "rpm");
    let apk = pairs(Scheme::Apk, "apk");
    // Arch versions look like rpm's; reuse those.
    let pacman = pairs(Scheme::Pacman, "rpm");
    let mut group = c.benchmark_group("compare");
    for (scheme, set) in [
        (Scheme::Deb, &deb),
        (Scheme::Rpm, &rpm),
        (Scheme::Apk, &apk),
        (Scheme::Pacman, &pacman),
    ] {
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(scheme.as_str(), |b| {
            b.iter(|| {
                let mut acc = 0i32;
                for (x, y) in set {
                    acc += compare(scheme, black_box(x), black_box(y)) as i32;
                }
                acc
            })
        });
    }
    // The realistic mix of a fleet scan: Debian and RHEL hosts side by side.
    let mixed: Vec<(Scheme, &String, &String)> = deb
        .iter()
        .map(|(a, b)| (Scheme::Deb, a, b))
        .chain(rpm.iter().map(|(a, b)| (Scheme::Rpm, a, b)))
        .collect();
    group.throughput(Throughput::Elements(mixed.len() as u64));
    group.bench_function("deb+rpm", |b| {
        b.iter(|| {
            let mut acc = 0i32;
            for &(scheme, x, y) in &mixed {
                acc += compare(black_box(scheme), black_box(x), black_box(y)) as i32;
            }
            acc
        })
    });
    group.finish();
}

fn bench_batch(c: &mut Criterion) {
    // ~250k lines of "A B", repeating the dpkg pairs.
    let deb = pairs(Scheme::Deb, "deb");
    let mut input = String::new();
    let mut lines = 0u64;
    while lines < 250_000 {
        for (a, b) in &deb {
            input.push_str(a);
            input.push(' ');
            input.push_str(b);
            input.push('\n');
            lines += 1;
        }
    }
    let mut group = c.benchmark_group("run_batch");
    group.throughput(Throughput::Elements(lines));
    group.sample_size(20);
    group.bench_function("deb", |b| {
        b.iter(|| run_batch(Scheme::Deb, black_box(input.as_bytes()), std::io::sink()).unwrap())
    });
    group.finish();
}

/// Process CPU time (user + system) from `/proc/self/stat`, in seconds.
///
/// The benchmark machine is shared, so wall-clock throughput says as much
/// about the neighbours as about this code. CPU time only counts the time
/// this (single-threaded) process actually ran, which is what "per core"
/// means. Resolution is one clock tick (10 ms); runs last seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Comparisons per CPU-second for each set: five runs of about two CPU
/// seconds each, median reported.
fn cpu_time_report() {
    let deb = pairs(Scheme::Deb, "deb");
    let rpm = pairs(Scheme::Rpm, "rpm");
    let apk = pairs(Scheme::Apk, "apk");
    let pacman = pairs(Scheme::Pacman, "rpm");
    println!("\ncomparisons per CPU-second (median of 5 runs of ~2 CPU-s):");
    for (scheme, set) in [
        (Scheme::Deb, &deb),
        (Scheme::Rpm, &rpm),
        (Scheme::Apk, &apk),
        (Scheme::Pacman, &pacman),
    ] {
        let mut rates = Vec::new();
        for _ in 0..5 {
            let Some(start) = cpu_seconds() else {
                println!("  /proc/self/stat unavailable; skipped");
                return;
            };
            let mut done = 0u64;
            let mut acc = 0i64;
            let spent = loop {
                for _ in 0..50 {
                    for (x, y) in set.iter() {
                        acc += compare(scheme, black_box(x), black_box(y)) as i64;
                    }
                    done += set.len() as u64;
                }
                let spent = cpu_seconds().unwrap_or(start) - start;
                if spent >= 2.0 {
                    break spent;
                }
            };
            black_box(acc);
            rates.push(done as f64 / spent);
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "  {:<7} {:>6.1} M/s  (runs: {})",
            scheme.as_str(),
            rates[2] / 1e6,
            rates
                .iter()
                .map(|r| format!("{:.1}", r / 1e6))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

criterion_group!(benches, bench_compare, bench_batch);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only in a real benchmark run, not when `cargo test --benches` smoke-tests it.
    if std::env::args().any(|a| a == "--bench") {
        cpu_time_report();
    }
}
