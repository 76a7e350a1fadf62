//! Every bad input in `tests/corpus/` is refused with the expected reason.

use std::collections::BTreeSet;
use std::path::Path;

use patchwatch_reports::{ReportError, native, pakiti, patchman};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
const PARSERS: [&str; 5] = ["pakiti5", "pakiti4", "patchman1", "patchman2", "native"];

fn parse(parser: &str, bytes: &[u8]) -> Result<(), ReportError> {
    let form = || -> Vec<(String, String)> {
        serde_json::from_slice(bytes).expect("form corpus files are JSON [name, value] pairs")
    };
    match parser {
        "pakiti5" => pakiti::parse_v5(bytes).map(drop),
        "pakiti4" => pakiti::parse_v4(&form()).map(drop),
        "patchman1" => patchman::parse_v1(&form()).map(drop),
        "patchman2" => patchman::parse_v2(bytes).map(drop),
        "native" => native::parse(bytes).map(drop),
        other => panic!("no parser for corpus directory {other}"),
    }
}

#[test]
fn every_bad_input_is_refused_with_its_reason() {
    let index = std::fs::read_to_string(format!("{CORPUS}/expected.tsv")).unwrap();
    let mut listed = BTreeSet::new();
    let mut failures = Vec::new();
    for line in index
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (file, expected) = line.split_once('\t').expect("file<TAB>substring");
        listed.insert(file.to_owned());
        let parser = file.split('/').next().unwrap_or_default();
        let bytes = match std::fs::read(Path::new(CORPUS).join(file)) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{file}: listed but unreadable: {e}"));
                continue;
            }
        };
        match parse(parser, &bytes) {
            Ok(()) => failures.push(format!(
                "{file}: accepted, expected an error containing {expected:?}"
            )),
            Err(e) if e.to_string().contains(expected) => {}
            Err(e) => failures.push(format!(
                "{file}: error {:?} does not contain {expected:?}",
                e.to_string()
            )),
        }
    }
    for parser in PARSERS {
        for entry in std::fs::read_dir(format!("{CORPUS}/{parser}")).unwrap() {
            let name = format!("{parser}/{}", entry.unwrap().file_name().to_string_lossy());
            if !listed.contains(&name) {
                failures.push(format!("{name}: not listed in expected.tsv"));
            }
        }
    }
    assert!(listed.len() >= 80, "only {} corpus files", listed.len());
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Every prefix of every good fixture is either accepted or refused; none
/// panics (truncated uploads are common).
#[test]
fn truncated_good_reports_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/debian12/");
    for (file, parser) in [
        ("pakiti5.txt", "pakiti5"),
        ("patchman2.json", "patchman2"),
        ("native.json", "native"),
    ] {
        let bytes = std::fs::read(format!("{dir}{file}")).unwrap();
        assert!(parse(parser, &bytes).is_ok(), "{file}");
        // About 2,000 cuts per file keeps this quick in debug builds.
        for cut in (0..bytes.len()).step_by(1 + bytes.len() / 2000) {
            let _ = parse(parser, &bytes[..cut]);
        }
    }
}
