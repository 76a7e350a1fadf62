//! Every network parser of this crate on randomly mutated real reports, for
//! a bounded time (`PATCHWATCH_FUZZ_SECONDS`, 2 s each by default): none may
//! panic, and whatever one accepts must pass validation again unchanged (a
//! normalised hostname, no control characters, every bound). The same
//! parsers have libFuzzer targets in `fuzz/`.

mod common;

use common::mutate;
use patchwatch_reports::{Report, hostname, native, pakiti, patchman, validate};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/debian12/");
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// The good fixture plus every bad-input corpus file of one parser.
fn seeds(fixture_name: &str, corpus_dir: &str) -> Vec<Vec<u8>> {
    let mut seeds = vec![fixture(fixture_name)];
    for entry in std::fs::read_dir(format!("{CORPUS}{corpus_dir}")).unwrap() {
        seeds.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    seeds
}

/// What an accepted report must satisfy, whatever the input was.
fn check_accepted(report: &Report) {
    assert_eq!(
        hostname::normalise(&report.hostname).as_deref(),
        Ok(report.hostname.as_str()),
        "accepted a hostname that is not in its normal form"
    );
    let mut again = report.clone();
    validate::report(&mut again).expect("an accepted report validates again");
    assert_eq!(&again, report, "validation changed an accepted report");
}

/// Form fields from mutated bytes: the JSON list of pairs when it still
/// parses, else one field per line (`name=value`), so broken JSON still
/// reaches the form parser.
fn fields(bytes: &[u8]) -> Vec<(String, String)> {
    if let Ok(fields) = serde_json::from_slice(bytes) {
        return fields;
    }
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

#[test]
fn native_json_survives_mutation() {
    mutate::run("native", &seeds("native.json", "native"), 500, |b| {
        if let Ok(r) = native::parse(b) {
            check_accepted(&r);
        }
    });
}

#[test]
fn pakiti5_survives_mutation() {
    mutate::run("pakiti5", &seeds("pakiti5.txt", "pakiti5"), 500, |b| {
        if let Ok(r) = pakiti::parse_v5(b) {
            check_accepted(&r);
        }
    });
}

#[test]
fn pakiti4_survives_mutation() {
    mutate::run("pakiti4", &seeds("pakiti4.json", "pakiti4"), 500, |b| {
        if let Ok((r, _, _)) = pakiti::parse_v4(&fields(b)) {
            check_accepted(&r);
        }
    });
}

#[test]
fn patchman1_survives_mutation() {
    mutate::run(
        "patchman1",
        &seeds("patchman1.json", "patchman1"),
        500,
        |b| {
            if let Ok((r, _)) = patchman::parse_v1(&fields(b)) {
                check_accepted(&r);
            }
        },
    );
}

#[test]
fn patchman2_survives_mutation() {
    mutate::run(
        "patchman2",
        &seeds("patchman2.json", "patchman2"),
        500,
        |b| {
            if let Ok(r) = patchman::parse_v2(b) {
                check_accepted(&r);
            }
        },
    );
}

#[test]
fn mutation_is_deterministic_per_seed() {
    let input = fixture("pakiti5.txt");
    let a: Vec<_> = {
        let mut rng = mutate::Rng::new(42);
        (0..50).map(|_| mutate::mutate(&mut rng, &input)).collect()
    };
    let mut rng = mutate::Rng::new(42);
    let b: Vec<_> = (0..50).map(|_| mutate::mutate(&mut rng, &input)).collect();
    assert_eq!(a, b);
    assert!(a.iter().any(|m| m != &input), "mutations change the input");
}
