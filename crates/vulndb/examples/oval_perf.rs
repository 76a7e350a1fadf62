//! OVAL feed timings for docs/PERFORMANCE.md:
//! 1. parsing a real OVAL file through the feed path
//!    ([`patchwatch_vulndb::parse_document`], decompression included);
//! 2. assessing N synthetic hosts against an OVAL feed
//!    ([`patchwatch_vulndb::oval_set_findings`]), once per host and once per
//!    distinct package set as `fleet_findings` does.
//!
//! ```text
//! cargo run --release -p patchwatch-vulndb --example oval_perf -- [PARSE_FILE] [ASSESS_FILE] [HOSTS] [RUNS]
//! ```
//!
//! With `OVAL_PERF_OLD=1` every installed package the assessed document
//! names is downgraded to version 0, so its definitions are true and the
//! findings (with their explanations) are built as well.
//!
//! Hosts are the real RHEL 9 image (`patchwatch-fleet`, drift 300 per mille)
//! with `redhat-release` relabelled 8.10, so the RHEL 8 document's release
//! tests hold and every package test is evaluated, not cut short.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::{Duration, Instant};

use patchwatch_assess::{AdvisoryIndex, PackageSet, SetInput};
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::{OsRelease, Package};
use patchwatch_store::FeedKind;
use patchwatch_vulndb::oval_feeds::{OvalFeed, parse_oval, with_oval_findings};
use patchwatch_vulndb::{LoadedIndex, oval_set_findings, parse_document};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = shared_data_dir();
    let parse_file = args.first().map_or_else(
        || data.join("redhat/oval-v1/claircore_Red_Hat_Enterprise_Linux_3.2019-07.xml.xz"),
        Into::into,
    );
    let assess_file = args.get(1).map_or_else(
        || data.join("redhat/oval-v1/claircore_com.redhat.rhsa-RHEL8.partial-2019-11.xml.xz"),
        Into::into,
    );
    let hosts: usize = args.get(2).map_or(1000, |s| s.parse().expect("HOSTS"));
    let runs: usize = args.get(3).map_or(5, |s| s.parse().expect("RUNS"));

    let doc = std::fs::read(&parse_file).expect("read PARSE_FILE");
    let mut xml = Vec::new();
    patchwatch_advisories::compression::decompressed(std::io::Cursor::new(&doc))
        .unwrap()
        .read_to_end(&mut xml)
        .unwrap();
    let label = parse_file.display().to_string();
    let mut times = Vec::new();
    let mut definitions = 0;
    for _ in 0..runs {
        let start = Instant::now();
        definitions = parse_document(FeedKind::Oval, &label, &doc, |_| {}).expect("parses");
        times.push(start.elapsed());
    }
    let t = median(times);
    let mib = xml.len() as f64 / (1024.0 * 1024.0);
    println!(
        "parse {label}: {} bytes stored, {} bytes XML, {definitions} definitions; median of {runs}: {:.1} ms = {:.1} MiB/s of XML",
        doc.len(),
        xml.len(),
        t.as_secs_f64() * 1e3,
        mib / t.as_secs_f64()
    );

    let doc = std::fs::read(&assess_file).expect("read ASSESS_FILE");
    let feed = OvalFeed::new(
        "rhel8".into(),
        parse_oval("rhel8", &doc).expect("ASSESS_FILE parses"),
    );
    let loaded = LoadedIndex {
        fingerprints: Default::default(),
        index: AdvisoryIndex::builder().build(),
        advisories: feed.definitions,
        oval: vec![feed],
        feeds_by_source: BTreeMap::new(),
        feeds: 1,
        elapsed: Duration::ZERO,
    };
    let mut image = Image::rhel9().unwrap();
    for p in &mut image.packages {
        if p.name == "redhat-release" {
            p.version = "8.10".into();
        }
    }
    // `old`: every installed package the document names downgraded to
    // version 0, so its definitions are true and findings are built too.
    if std::env::var("OVAL_PERF_OLD").is_ok() {
        let doc = &loaded.oval[0].document;
        let mut named = std::collections::HashSet::new();
        for def in doc.definitions() {
            if let Some(c) = &def.criteria {
                c.for_each_test(&mut |t| {
                    let Some(obj) = doc
                        .test(t)
                        .and_then(|t| t.object)
                        .and_then(|o| doc.object(o))
                    else {
                        return;
                    };
                    for f in &obj.fields {
                        if let patchwatch_oval::FieldValue::Literal { text, .. } = &f.value {
                            named.insert(text.clone());
                        }
                    }
                });
            }
        }
        for p in &mut image.packages {
            if p.name != "redhat-release" && named.contains(&p.name) {
                p.epoch.clear();
                p.version = "0".into();
            }
        }
    }
    let fleet = Fleet::new(vec![image], 7);
    let os = OsRelease {
        distro: "rhel".into(),
        release: "8.10".into(),
    };
    let reports: Vec<(Vec<Package>, String)> = (0..hosts)
        .map(|i| {
            let r = fleet.report(i);
            (r.packages.unwrap_or_default(), r.kernel.release)
        })
        .collect();

    // What the document says about the first host, to show the release
    // tests hold and the package tests decide.
    let first = fleet.report(0).packages.unwrap_or_default();
    let host = patchwatch_assess::OvalHost::new(&os, "", &first);
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    // The options oval_set_findings uses (OvalOptions::default()).
    for r in
        patchwatch_oval::Evaluator::new(&loaded.oval[0].document, patchwatch_assess::orderings())
            .with_options(patchwatch_oval::Options {
                missing_signature_keyid: patchwatch_oval::Verdict::True,
                filter_by_cpe: true,
            })
            .evaluate(&host)
    {
        *tally.entry(r.verdict.to_string()).or_default() += 1;
    }
    println!("verdicts for host 0: {tally:?}");

    let mut per_host = Vec::new();
    let mut findings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        findings = reports
            .iter()
            .map(|(packages, kernel)| {
                oval_set_findings(
                    &loaded,
                    &PackageSet {
                        os: &os,
                        kernel,
                        packages,
                    },
                )
                .len()
            })
            .sum::<usize>();
        per_host.push(start.elapsed());
    }
    let t = median(per_host);
    println!(
        "assess {hosts} hosts one by one (1 thread): {findings} findings; median of {runs}: {:.1} ms ({:.2} ms per host)",
        t.as_secs_f64() * 1e3,
        t.as_secs_f64() * 1e3 / hosts as f64
    );

    // As fleet_findings does it: identical package lists share a set id and
    // are assessed once, on every core.
    let mut ids: HashMap<&[Package], usize> = HashMap::new();
    let inputs: Vec<SetInput<'_, usize>> = reports
        .iter()
        .map(|(packages, kernel)| {
            let n = ids.len();
            SetInput {
                set_id: *ids.entry(packages.as_slice()).or_insert(n),
                os: &os,
                kernel,
                packages,
            }
        })
        .collect();
    let mut batch = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let total = std::sync::atomic::AtomicUsize::new(0);
        patchwatch_assess::assess_many_with(&loaded.index, &inputs, 0, |_, members, f| {
            for (m, f) in with_oval_findings(&loaded, &inputs, members, f) {
                total.fetch_add(m.len() * f.len(), std::sync::atomic::Ordering::Relaxed);
            }
        });
        batch.push(start.elapsed());
        findings = total.into_inner();
    }
    let t = median(batch);
    println!(
        "assess {hosts} hosts as the fleet view does ({} distinct sets, all cores): {findings} findings; median of {runs}: {:.1} ms",
        ids.len(),
        t.as_secs_f64() * 1e3
    );
}
