//! Criterion benchmarks of the hot paths on the real indexes: reading the
//! CentOS Stream 9 AppStream repository (17,649 packages) and the Alpine
//! v3.21 APKINDEX (5,541), and computing one host's candidates. Peak memory
//! is measured by `examples/repos_rss.rs` (one process per reading).

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use patchwatch_reports::Package;
use patchwatch_repos::apk::select::{ApkIndex, ApkRepo};
use patchwatch_repos::rpmmd::select::{DnfIndex, DnfOptions, DnfRepo};
use patchwatch_repos::rpmmd::{self, decompress, parse_primary};

fn data(rel: &str) -> PathBuf {
    let root = std::env::var("PATCHWATCH_SHARED_DATA").map_or_else(
        |_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    root.join(rel)
}

const APPSTREAM: &str = "repos/centos-stream-9/appstream-x86_64-2025-01-13";

fn benches(c: &mut Criterion) {
    let root = data(APPSTREAM);
    let primary = std::fs::read_dir(root.join("repodata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-primary.xml.gz"))
        .unwrap();
    let primary_gz = std::fs::read(&primary).unwrap();
    // Decompression alone, to tell it from the XML parsing.
    c.bench_function("rpm-md primary gunzip only (3.6 MB -> 51.8 MB)", |b| {
        b.iter(|| {
            let mut r = decompress(&primary_gz, "primary").unwrap();
            black_box(std::io::copy(&mut r, &mut std::io::sink()).unwrap())
        })
    });
    c.bench_function("rpm-md primary parse (AppStream, 17,649 packages)", |b| {
        b.iter(|| {
            let r = decompress(&primary_gz, "primary").unwrap();
            black_box(parse_primary(r, "primary").unwrap())
        })
    });
    c.bench_function(
        "rpm-md read repository (repomd + checksums + primary + modules)",
        |b| b.iter(|| black_box(rpmmd::read_dir(&root).unwrap())),
    );

    let snap = rpmmd::read_dir(&root).unwrap();
    let repos = [DnfRepo::new(&snap)];
    let options = DnfOptions {
        enabled_streams: vec!["nodejs:20".into(), "php:8.2".into()],
        installonly: None,
    };
    c.bench_function("dnf index build (AppStream)", |b| {
        b.iter(|| black_box(DnfIndex::new(&repos, &options)))
    });
    let index = DnfIndex::new(&repos, &options);
    // A host of 1,000 packages: every 5th (name, arch), first-listed build.
    let mut seen = HashSet::new();
    let host: Vec<Package> = snap
        .packages
        .iter()
        .map(|p| &p.package)
        .filter(|p| p.arch != "src" && seen.insert((p.name.clone(), p.arch.clone())))
        .step_by(5)
        .take(1_000)
        .cloned()
        .collect();
    c.bench_function(
        "dnf updates for one 1,000-package host (1,000 outdated)",
        |b| b.iter(|| black_box(index.updates(&host, "x86_64"))),
    );
    // The same host fully updated: the usual case, lookups and no update.
    let current: Vec<Package> = host
        .iter()
        .map(|p| {
            index
                .candidate(&p.name, &p.arch, "x86_64")
                .map_or_else(|| p.clone(), |(c, _)| c.clone())
        })
        .collect();
    assert!(index.updates(&current, "x86_64").is_empty());
    c.bench_function("dnf updates for one 1,000-package host (current)", |b| {
        b.iter(|| black_box(index.updates(&current, "x86_64")))
    });

    let apk_rel = "repos/alpine/v3.21/main/x86_64/APKINDEX.tar.gz";
    let apk_bytes = std::fs::read(data(apk_rel)).unwrap();
    c.bench_function("APKINDEX parse (v3.21 main, 5,541 packages)", |b| {
        b.iter(|| black_box(patchwatch_repos::apk::parse_apkindex(&apk_bytes, apk_rel).unwrap()))
    });
    let apk = patchwatch_repos::apk::parse_apkindex(&apk_bytes, apk_rel).unwrap();
    let installed_rel = "repos/alpine/hosts/quarantine_alpine-3.21.2-x86_64_lib-apk-db-installed";
    let installed = patchwatch_repos::apk::parse_installed(
        &std::fs::read_to_string(data(installed_rel)).unwrap(),
        installed_rel,
    )
    .unwrap();
    let apk_repos = [ApkRepo {
        snapshot: &apk,
        tag: None,
    }];
    c.bench_function("apk index build (v3.21)", |b| {
        b.iter(|| black_box(ApkIndex::new(&apk_repos)))
    });
    let apk_index = ApkIndex::new(&apk_repos);
    let pins = HashMap::new();
    c.bench_function("apk updates for the 3.21.2 host (15 packages)", |b| {
        b.iter(|| black_box(apk_index.updates(&installed, &pins)))
    });
}

criterion_group! {
    name = repos;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(repos);
