//! Parse throughput (MB/s of XML) and evaluation speed (definitions per
//! second) on the largest feed of the data set, RHEL 8 OVAL v1 (129
//! definitions, 3,307 tests), and on RHEL 3 (327 definitions, 4,221 tests),
//! against a host with ~700 installed packages.

use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patchwatch_oval::{
    Document, HostInventory, InstalledPackage, Orderings, PackageFormat, Uname, evaluate,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn xml(rel: &str) -> Vec<u8> {
    let f = std::fs::File::open(format!("{DATA}/{rel}")).unwrap();
    let mut out = Vec::new();
    xz2::read::XzDecoder::new(f).read_to_end(&mut out).unwrap();
    out
}

/// A simple rpm-like ordering: good enough for timing (the real one comes
/// from patchwatch-versions).
fn segments(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |s: &str| -> Vec<(u64, String)> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .map(|p| (p.parse().unwrap_or(0), p.to_owned()))
            .collect()
    };
    split(a).cmp(&split(b))
}

fn host(doc: &Document) -> HostInventory {
    let mut h = HostInventory::new(PackageFormat::Rpm);
    h.add_package(
        InstalledPackage::rpm("redhat-release", None, "8.1", "1.el8", "x86_64")
            .with_signature_keyid("199e2f91fd431d51"),
    );
    h.set_file_owner("/etc/redhat-release", "redhat-release");
    h.set_uname(Uname {
        os_release: "4.18.0-80.el8.x86_64".into(),
        ..Uname::default()
    });
    // Every package the feed names, at an old version, then filler up to 700.
    let mut names: Vec<String> = Vec::new();
    for d in doc.definitions() {
        if let Some(c) = &d.criteria {
            c.for_each_test(&mut |t| {
                if let Some(o) = doc
                    .test(t)
                    .and_then(|t| t.object)
                    .and_then(|o| doc.object(o))
                    && let Some(patchwatch_oval::FieldValue::Literal { text, .. }) = o
                        .fields
                        .iter()
                        .find(|f| f.name == patchwatch_oval::FieldName::Name)
                        .map(|f| &f.value)
                    && !names.contains(text)
                {
                    names.push(text.clone());
                }
            });
        }
    }
    names.truncate(600);
    for (i, n) in names.iter().enumerate() {
        h.add_package(
            InstalledPackage::rpm(n, None, "0.9", "1.el8", "x86_64")
                .with_signature_keyid("199e2f91fd431d51"),
        );
        let _ = i;
    }
    for i in h.packages().len()..700 {
        h.add_package(InstalledPackage::rpm(
            &format!("filler-{i}"),
            None,
            "1.0",
            "1.el8",
            "x86_64",
        ));
    }
    h
}

fn bench(c: &mut Criterion) {
    let ord = Orderings {
        rpm: &segments,
        deb: &segments,
    };
    for (label, rel) in [
        (
            "rhel8",
            "redhat/oval-v1/claircore_com.redhat.rhsa-RHEL8.partial-2019-11.xml.xz",
        ),
        (
            "rhel3",
            "redhat/oval-v1/claircore_Red_Hat_Enterprise_Linux_3.2019-07.xml.xz",
        ),
    ] {
        let bytes = xml(rel);
        let mut g = c.benchmark_group(format!("parse/{label}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("parse", |b| {
            b.iter(|| Document::from_reader(&bytes[..]).unwrap())
        });
        g.finish();

        let doc = Document::from_reader(&bytes[..]).unwrap();
        let h = host(&doc);
        assert!(h.packages().len() >= 700);
        let mut g = c.benchmark_group(format!("evaluate/{label}"));
        g.throughput(Throughput::Elements(doc.definition_count() as u64));
        g.bench_function("definitions", |b| b.iter(|| evaluate(&doc, &h, &ord)));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
