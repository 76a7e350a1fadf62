//! Criterion benchmarks of the apt hot paths on the real bookworm data:
//! importing the full main index, building the candidate index of the
//! three suites, one host's updates, and a 10,000-host fleet. Timings with
//! medians over several process runs (and peak RSS) are `examples/`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::Package;
use patchwatch_repos::RepoSnapshot;
use patchwatch_repos::apt::{AptConfig, AptIndex, Expected, import_dist, read_index_file};

const SUITES: [&str; 3] = [
    "deb.debian.org_debian_dists_bookworm",
    "deb.debian.org_debian_dists_bookworm-updates",
    "deb.debian.org_debian-security_dists_bookworm-security",
];

fn suite(prefix: &str) -> RepoSnapshot {
    let dir = shared_data_dir().join("debian/apt-lists");
    import_dist(
        &dir.join(format!("{prefix}_InRelease")),
        &["main"],
        "amd64",
        |listed| dir.join(format!("{prefix}_{}", listed.replace('/', "_"))),
    )
    .expect("bookworm suite")
}

fn benches(c: &mut Criterion) {
    let main_xz = shared_data_dir().join(
        "debian/apt-lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.xz",
    );
    let mut group = c.benchmark_group("apt import");
    group.sample_size(10);
    group.bench_function("bookworm main Packages.xz (63,440 packages)", |b| {
        b.iter(|| black_box(read_index_file(&main_xz, Expected::default()).unwrap()))
    });
    group.finish();

    let snapshots: Vec<RepoSnapshot> = SUITES.iter().map(|p| suite(p)).collect();
    let refs: Vec<&RepoSnapshot> = snapshots.iter().collect();
    let config = AptConfig::new("amd64");
    let mut group = c.benchmark_group("apt index");
    group.sample_size(10);
    group.bench_function("build, 3 bookworm suites", |b| {
        b.iter(|| black_box(AptIndex::build(&refs, &config)))
    });
    group.finish();

    let index = AptIndex::build(&refs, &config);
    let image = Image::debian12().expect("debian12 image");
    c.bench_function("apt updates, one host (716 packages)", |b| {
        b.iter(|| black_box(index.updates(&image.packages)))
    });

    let fleet = Fleet::new(vec![image], 7).with_drift(300);
    let image_packages = Image::debian12().expect("debian12 image").packages;
    let drifted: Vec<Option<Vec<_>>> = (0..10_000)
        .map(|i| {
            let packages = fleet.report(i).packages.unwrap_or_default();
            (packages != image_packages).then_some(packages)
        })
        .collect();
    let host_refs: Vec<&[_]> = drifted
        .iter()
        .map(|d| d.as_deref().unwrap_or(&image_packages))
        .collect();
    // The server's form: sets as member ids into one package table.
    let mut ids: HashMap<&Package, i64> = HashMap::new();
    let mut table: Vec<(i64, Package)> = Vec::new();
    let mut members_of: HashMap<Vec<i64>, i64> = HashMap::new();
    for set in &host_refs {
        let mut members: Vec<i64> = set
            .iter()
            .map(|p| {
                *ids.entry(p).or_insert_with(|| {
                    table.push((table.len() as i64, p.clone()));
                    table.len() as i64 - 1
                })
            })
            .collect();
        members.sort_unstable();
        let next = members_of.len() as i64;
        members_of.entry(members).or_insert(next);
    }
    let stored: Vec<(i64, Vec<i64>)> = members_of.into_iter().map(|(m, id)| (id, m)).collect();

    let mut group = c.benchmark_group("apt fleet");
    group.bench_function("updates_for_sets, stored sets of 10,000 hosts", |b| {
        b.iter(|| black_box(index.updates_for_sets(&table, &stored)))
    });
    group.bench_function("one suite changed: rebuild index + stored sets", |b| {
        b.iter(|| {
            let index = AptIndex::build(&refs, &config);
            black_box(index.updates_for_sets(&table, &stored))
        })
    });
    group.sample_size(10);
    group.bench_function("updates_many, 10,000 hosts", |b| {
        b.iter(|| black_box(index.updates_many(&host_refs)))
    });
    group.bench_function("one suite changed: rebuild index + 10,000 hosts", |b| {
        b.iter(|| {
            let index = AptIndex::build(&refs, &config);
            black_box(index.updates_many(&host_refs))
        })
    });
    group.finish();
}

criterion_group!(apt_benches, benches);
criterion_main!(apt_benches);
