//! Criterion benchmarks of the matcher on the complete AlmaLinux OSV
//! database: one real el9 set, and a batch of 2,000 drifted fleet hosts.
//! The 100,000-host run is `examples/fleet.rs`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use patchwatch_assess::{AdvisoryIndex, PackageSet, SetInput, assess, assess_many_with};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::model::OsRelease;

fn index() -> AdvisoryIndex {
    let mut b = AdvisoryIndex::builder();
    let path = shared_data_dir().join("osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz");
    patchwatch_advisories::osv::read_path(&path, |r| {
        if let Ok(a) = r {
            b.add(a);
        }
    })
    .expect("AlmaLinux OSV database");
    b.build()
}

fn benches(c: &mut Criterion) {
    let index = index();
    let os = OsRelease {
        distro: "almalinux".into(),
        release: "9.5".into(),
    };
    let mut image = Image::rhel9().expect("rhel9 image");
    let packages = image.packages.clone();
    c.bench_function("assess one el9 set (243 packages)", |b| {
        b.iter(|| {
            black_box(assess(
                &index,
                &PackageSet {
                    os: &os,
                    kernel: "",
                    packages: &packages,
                },
            ))
        })
    });

    image.os.id = "almalinux".into();
    let fleet = Fleet::new(vec![image], 7).with_drift(300);
    let reports: Vec<_> = (0..2_000)
        .map(|i| fleet.report(i).packages.unwrap_or_default())
        .collect();
    let inputs: Vec<SetInput<'_, usize>> = reports
        .iter()
        .enumerate()
        .map(|(i, p)| SetInput {
            // Hosts without drift share the image's set.
            set_id: if *p == packages { usize::MAX } else { i },
            os: &os,
            kernel: "",
            packages: p,
        })
        .collect();
    let mut group = c.benchmark_group("batch");
    group.sample_size(10);
    group.bench_function("assess_many 2000 hosts, 2 threads", |b| {
        b.iter(|| {
            black_box(assess_many_with(&index, &inputs, 2, |_, _, f| {
                drop(black_box(f))
            }))
        })
    });
    group.finish();
}

criterion_group!(assess_benches, benches);
criterion_main!(assess_benches);
