//! Differential test against rpm 4.18 through Debian's `python3-rpm`.
//!
//! One Python process reads all pairs from stdin and, for each, prints how
//! rpm splits both strings (`rpm.ver`), the EVR order (`rpm.labelCompare` on
//! those splits) and the bare `rpmvercmp` order of the whole strings
//! (`labelCompare` with only a version set).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use patchwatch_versions::{Scheme, compare, rpm};

const PAIRS: usize = 150_000;

const SCRIPT: &str = r#"
import sys, rpm
def label(x, y):
    # rpm refuses an EVR whose version is empty: no answer to compare with.
    try:
        return "%d" % rpm.labelCompare(x, y)
    except ValueError:
        return "refused"
out = []
for line in sys.stdin.buffer:
    a, b = (x.decode("utf-8") for x in line.rstrip(b"\n").split(b"\t"))
    va, vb = rpm.ver(a), rpm.ver(b)
    evr = label((va.e, va.v, va.r), (vb.e, vb.v, vb.r))
    bare = label((None, a, None), (None, b, None))
    out.append("%s\t%s\t%r\t%r\t%r" % (evr, bare, va.e, va.v, va.r))
sys.stdout.write("\n".join(out) + "\n")
"#;

fn python() -> &'static str {
    // Debian's python3-rpm lives in the system interpreter's dist-packages;
    // a python3 earlier on PATH (pyenv, venv) would not see it.
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Python's `repr` of an optional string, for the ASCII-and-é inputs used here.
fn py_repr(s: Option<&str>) -> String {
    match s {
        None => "None".into(),
        Some(s) if s.contains('\'') && !s.contains('"') => format!("\"{s}\""),
        Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

#[test]
fn agrees_with_rpm() {
    let probe = Command::new(python()).args(["-c", "import rpm"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return common::tool_missing("python3-rpm", String::from_utf8_lossy(&o.stderr).trim());
        }
        Err(e) => return common::tool_missing("python3-rpm", &e.to_string()),
    }
    let started = Instant::now();
    // rpm.ver() refuses only the empty string; tabs and newlines would break
    // the line protocol.
    let usable = |v: &str| !v.is_empty() && !v.contains(['\t', '\n', '\r']);
    let pairs: Vec<(String, String)> = common::pairs("rpm", 0x4e7, PAIRS)
        .into_iter()
        .filter(|(a, b)| usable(a) && usable(b))
        .collect();

    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting python3");
    let mut input = Vec::new();
    for (a, b) in &pairs {
        writeln!(input, "{a}\t{b}").unwrap();
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("python3 output");
    writer.join().unwrap().expect("feeding python3");
    assert!(out.status.success(), "python3 failed: {:?}", out.status);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), pairs.len(), "one answer per pair");

    let mut failures = Vec::new();
    let mut tally = [0usize; 3];
    let mut refused = 0;
    for ((a, b), line) in pairs.iter().zip(&lines) {
        let f: Vec<&str> = line.split('\t').collect();
        if f[0] == "refused" {
            refused += 1;
        } else {
            let label = common::from_sign(f[0].parse().unwrap());
            tally[(label as i8 + 1) as usize] += 1;
            let ours = compare(Scheme::Rpm, a, b);
            if ours != label {
                failures.push(format!("EVR {a:?} vs {b:?}: rpm {label:?}, ours {ours:?}"));
            }
        }
        let bare = common::from_sign(f[1].parse().unwrap());
        let ours_bare = rpm::vercmp(a, b);
        if ours_bare != bare {
            failures.push(format!(
                "rpmvercmp {a:?} vs {b:?}: rpm {bare:?}, ours {ours_bare:?}"
            ));
        }
        let evr = rpm::Evr::split(a);
        let split = [
            py_repr(evr.epoch),
            py_repr(Some(evr.version)),
            py_repr(evr.release),
        ];
        if split[..] != f[2..5] {
            failures.push(format!("split {a:?}: rpm {:?}, ours {split:?}", &f[2..5]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with rpm over {} pairs:\n{}",
        failures.len(),
        pairs.len(),
        failures[..failures.len().min(30)].join("\n")
    );
    common::notice(&format!(
        "rpm differential: {} pairs (< {}, = {}, > {}; {} with an empty version, which \
         labelCompare refuses) agree on labelCompare, rpmvercmp and the EVR split ({:.1?})",
        pairs.len(),
        tally[0],
        tally[1],
        tally[2],
        refused,
        started.elapsed()
    ));
}
