//! Differential test against pacman's `alpm_pkg_vercmp`.
//!
//! Debian's `pacman-package-manager` ships no `vercmp` binary, but its
//! library `libalpm13` exports `alpm_pkg_vercmp`, the function `vercmp`
//! prints. One Python process calls it through `ctypes` for every pair.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use patchwatch_versions::{Scheme, compare};

const PAIRS: usize = 150_000;

const SCRIPT: &str = r#"
import sys, ctypes
alpm = ctypes.CDLL("libalpm.so.13")
alpm.alpm_pkg_vercmp.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
alpm.alpm_pkg_vercmp.restype = ctypes.c_int
out = []
for line in sys.stdin.buffer:
    a, b = line.rstrip(b"\n").split(b"\t")
    out.append("%d" % alpm.alpm_pkg_vercmp(a, b))
sys.stdout.write("\n".join(out) + "\n")
"#;

#[test]
fn agrees_with_libalpm() {
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let probe = Command::new(python)
        .args([
            "-c",
            "import ctypes; ctypes.CDLL('libalpm.so.13').alpm_pkg_vercmp",
        ])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return common::tool_missing(
                "libalpm13 (pacman)",
                String::from_utf8_lossy(&o.stderr).trim(),
            );
        }
        Err(e) => return common::tool_missing("libalpm13 (pacman)", &e.to_string()),
    }
    let started = Instant::now();
    let usable = |v: &str| !v.contains(['\t', '\n', '\r']);
    let mut pairs: Vec<(String, String)> = Vec::new();
    // pacman has no sample of its own: use rpm- and deb-shaped versions,
    // which is what Arch versions look like, plus the random ones.
    for (scheme, seed) in [("rpm", 0xa1), ("deb", 0xa2), ("pacman", 0xa3)] {
        pairs.extend(
            common::pairs(scheme, seed, PAIRS / 3)
                .into_iter()
                .filter(|(a, b)| usable(a) && usable(b)),
        );
    }

    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        // libalpm classifies bytes with <ctype.h>; pin the C locale as
        // pacman's own vercmp runs without calling setlocale.
        .env("LC_ALL", "C")
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
    let answers: Vec<&str> = text.lines().collect();
    assert_eq!(answers.len(), pairs.len(), "one answer per pair");

    let mut failures = Vec::new();
    let mut tally = [0usize; 3];
    for ((a, b), answer) in pairs.iter().zip(&answers) {
        let theirs = common::from_sign(answer.parse().unwrap());
        tally[(theirs as i8 + 1) as usize] += 1;
        let ours = compare(Scheme::Pacman, a, b);
        if ours != theirs {
            failures.push(format!("{a:?} vs {b:?}: libalpm {theirs:?}, ours {ours:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} pairs disagree with libalpm:\n{}",
        failures.len(),
        pairs.len(),
        failures[..failures.len().min(30)].join("\n")
    );
    common::notice(&format!(
        "pacman differential: {} pairs (< {}, = {}, > {}) agree with alpm_pkg_vercmp ({:.1?})",
        pairs.len(),
        tally[0],
        tally[1],
        tally[2],
        started.elapsed()
    ));
}
