//! Parsing throughput per feed format, in bytes of (uncompressed) input per
//! second. Inputs are loaded into memory first so only parsing is measured.
//! Run: `cargo bench -p patchwatch-advisories`.

use std::fs::File;
use std::hint::black_box;
use std::io::{Cursor, Read};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patchwatch_advisories::debian::cve_list::CveList;
use patchwatch_advisories::debian::list::{AdvisoryList, ListKind};
use patchwatch_advisories::{alpine, debian, decompressed, osv, ubuntu};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn load(rel: &str) -> Vec<u8> {
    let mut out = Vec::new();
    decompressed(File::open(format!("{DATA}/{rel}")).unwrap())
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.sample_size(10);

    // OSV: the AlmaLinux tar, already decompressed (tar + JSON only).
    let alma = load("osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz");
    g.throughput(Throughput::Bytes(alma.len() as u64));
    g.bench_function("osv_almalinux_tar", |b| {
        b.iter(|| {
            let mut feed = osv::TarFeed::new(Cursor::new(&alma), "alma");
            black_box(feed.records().unwrap().filter(Result::is_ok).count())
        })
    });

    // Debian tracker JSON: the samples concatenated into one document.
    let mut tracker = b"{".to_vec();
    let mut pkgs = 0;
    for name in [
        "vunnel_tracker_debian.json",
        "vuls-data-update_tracker-api-advisory.json",
        "vulnerablecode_tracker_debian.json",
    ] {
        let doc = load(&format!("debian/tracker-json/{name}"));
        let v: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&doc).unwrap();
        for (k, val) in v {
            // Repeat under distinct names so the document is ~1 MB.
            for i in 0..100 {
                if pkgs > 0 {
                    tracker.push(b',');
                }
                tracker.extend_from_slice(
                    serde_json::to_string(&format!("{k}{i}"))
                        .unwrap()
                        .as_bytes(),
                );
                tracker.push(b':');
                tracker.extend_from_slice(serde_json::to_string(&val).unwrap().as_bytes());
                pkgs += 1;
            }
        }
    }
    tracker.push(b'}');
    g.throughput(Throughput::Bytes(tracker.len() as u64));
    g.bench_function("debian_tracker_json", |b| {
        b.iter(|| {
            let mut n = 0;
            debian::tracker::parse(&tracker[..], "bench", |_| n += 1).unwrap();
            black_box(n)
        })
    });

    let dsa = load("debian/security-tracker-2023-04/DSA_list");
    g.throughput(Throughput::Bytes(dsa.len() as u64));
    g.bench_function("debian_dsa_list", |b| {
        b.iter(|| black_box(AdvisoryList::new(&dsa[..], ListKind::Dsa, "DSA").count()))
    });

    // CVE/list: the real excerpt repeated to ~1 MB.
    let cve =
        load("debian/security-tracker-excerpts/vuln-list-update_happy_data_CVE_list").repeat(1000);
    g.throughput(Throughput::Bytes(cve.len() as u64));
    g.bench_function("debian_cve_list", |b| {
        b.iter(|| black_box(CveList::new(&cve[..], "CVE").count()))
    });

    let yaml = load("alpine/alpine-secdb-yaml-2020-06/v3.11_main.yaml");
    g.throughput(Throughput::Bytes(yaml.len() as u64));
    g.bench_function("alpine_secdb_yaml", |b| {
        b.iter(|| {
            let mut n = 0;
            alpine::parse_yaml(&yaml[..], "bench", |_| n += 1).unwrap();
            black_box(n)
        })
    });

    // Alpine JSON: the v3.11 YAML's content converted to the JSON layout.
    let mut packages = Vec::new();
    alpine::parse_yaml(&yaml[..], "bench", |a| {
        let r = &a.affected[0];
        let ids: Vec<String> = a.cves.iter().chain(&a.aliases).cloned().collect();
        let version = r.state.fixed_version().unwrap_or("0").to_owned();
        packages.push(serde_json::json!({"pkg": {"name": r.package, "secfixes": {version: ids}}}));
    })
    .unwrap();
    let json = serde_json::to_vec(&serde_json::json!({"distroversion": "v3.11", "reponame": "main", "archs": ["x86_64"], "packages": packages})).unwrap();
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("alpine_secdb_json", |b| {
        b.iter(|| {
            let mut n = 0;
            alpine::parse_json(&json[..], "bench", |_| n += 1).unwrap();
            black_box(n)
        })
    });

    let uct = load("ubuntu/ubuntu-cve-tracker-2020-06/uct-active-ignored.tar.xz");
    g.throughput(Throughput::Bytes(uct.len() as u64));
    g.bench_function("ubuntu_cve_tracker_tar", |b| {
        b.iter(|| {
            let mut a = ubuntu::TrackerArchive::new(Cursor::new(&uct), "uct");
            black_box(a.records().unwrap().count())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
