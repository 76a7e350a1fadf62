//! Differential test against the real `dpkg --compare-versions`.
//!
//! dpkg answers one relation per process, so pairs are spread over a few
//! threads, each running `dpkg` directly (no shell). Every distinct version
//! is also checked on its own, to compare dpkg's warning/error verdict and
//! reason with [`deb::check`].

mod common;

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use patchwatch_versions::{Scheme, VersionError, compare, deb};

const PAIRS: usize = 5000;
const THREADS: usize = 4;

struct Answer {
    code: i32,
    stderr: String,
}

fn dpkg(a: &str, op: &str, b: &str) -> Answer {
    // `--` keeps versions starting with '-' from being read as options.
    let out = Command::new("dpkg")
        .args(["--compare-versions", "--", a, op, b])
        .env("LC_ALL", "C")
        .output()
        .expect("running dpkg");
    Answer {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// dpkg's three-way answer, or its error text (exit status 2).
fn dpkg_order(a: &str, b: &str) -> Result<Ordering, String> {
    let lt = dpkg(a, "lt", b);
    match lt.code {
        0 => Ok(Ordering::Less),
        1 => match dpkg(a, "eq", b).code {
            0 => Ok(Ordering::Equal),
            1 => Ok(Ordering::Greater),
            c => Err(format!("eq exited {c}")),
        },
        _ => Err(lt.stderr),
    }
}

fn is_blank(v: &str) -> bool {
    v.is_empty() || v == "<unknown>"
}

fn reason(err: &VersionError) -> &'static str {
    match err {
        VersionError::Empty { .. } => "version string is empty",
        VersionError::EmbeddedSpace { .. } => "version string has embedded spaces",
        VersionError::EmptyPart { part: "epoch", .. } => "epoch in version is empty",
        VersionError::EmptyPart {
            part: "revision", ..
        } => "revision number is empty",
        VersionError::EmptyPart { .. } => "version number is empty",
        VersionError::EpochNotNumber { .. } => "epoch in version is not number",
        VersionError::EpochNegative { .. } => "epoch in version is negative",
        VersionError::EpochTooBig { .. } => "epoch in version is too big",
        VersionError::NothingAfterColon { .. } => "nothing after colon in version number",
        other => panic!("not a dpkg error: {other:?}"),
    }
}

/// Runs `work` over `items` on [`THREADS`] threads, collecting failures.
fn parallel<T: Sync>(items: &[T], work: impl Fn(&T) -> Option<String> + Sync) -> Vec<String> {
    let chunk = items.len().div_ceil(THREADS).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().filter_map(&work).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn agrees_with_dpkg() {
    match Command::new("dpkg").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => return common::tool_missing("dpkg", &format!("dpkg --version: {}", o.status)),
        Err(e) => return common::tool_missing("dpkg", &e.to_string()),
    }
    let started = Instant::now();
    let mut pairs = common::pairs("deb", 0xdeb, PAIRS);
    // Whitespace and dpkg's "no version" spellings only matter to dpkg.
    for extra in [
        " 1.0",
        "1.0 ",
        "1 0",
        "\t2",
        "<unknown>",
        "",
        "-0:1",
        "+1:0",
        "\n1:2",
    ] {
        pairs.push((extra.to_owned(), "1.0".to_owned()));
        pairs.push(("0".to_owned(), extra.to_owned()));
    }

    let failures = parallel(&pairs, |(a, b)| {
        let ours = compare(Scheme::Deb, a, b);
        let refused = |v: &str| !is_blank(v) && deb::check(v).is_err();
        match dpkg_order(a, b) {
            Ok(theirs) if refused(a) || refused(b) => Some(format!(
                "{a:?} vs {b:?}: dpkg answered {theirs:?} but we say it refuses a side"
            )),
            Ok(theirs) if theirs != ours => {
                Some(format!("{a:?} vs {b:?}: dpkg {theirs:?}, ours {ours:?}"))
            }
            Ok(_) => None,
            Err(_) if refused(a) || refused(b) => None,
            Err(e) => Some(format!(
                "{a:?} vs {b:?}: dpkg refused ({e}) but we accept both"
            )),
        }
    });
    assert!(
        failures.is_empty(),
        "{} of {} pairs disagree with dpkg:\n{}",
        failures.len(),
        pairs.len(),
        failures[..failures.len().min(30)].join("\n")
    );

    // Verdicts: error vs warning vs clean, and dpkg's reason.
    let versions: Vec<&String> = pairs
        .iter()
        .flat_map(|(a, b)| [a, b])
        .filter(|v| !is_blank(v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let failures = parallel(&versions, |v| {
        let got = dpkg(v, "eq", v);
        let first = got.stderr.lines().next().unwrap_or("");
        let ok = match deb::check(v) {
            Err(e) => got.code == 2 && first.ends_with(&format!("bad syntax: {}", reason(&e))),
            Ok(Some(w)) => {
                got.code == 0
                    && first.starts_with("dpkg: warning")
                    && first.ends_with(&format!("bad syntax: {w}"))
            }
            Ok(None) => got.code == 0 && got.stderr.is_empty(),
        };
        (!ok).then(|| {
            format!(
                "{v:?}: ours {:?}, dpkg exit {} {first:?}",
                deb::check(v),
                got.code
            )
        })
    });
    assert!(
        failures.is_empty(),
        "{} of {} verdicts disagree with dpkg:\n{}",
        failures.len(),
        versions.len(),
        failures[..failures.len().min(30)].join("\n")
    );
    let mut tally = [0usize; 4];
    for (a, b) in &pairs {
        let refused = |v: &str| !is_blank(v) && deb::check(v).is_err();
        let slot = if refused(a) || refused(b) {
            3
        } else {
            (compare(Scheme::Deb, a, b) as i8 + 1) as usize
        };
        tally[slot] += 1;
    }
    common::notice(&format!(
        "dpkg differential: {} pairs (< {}, = {}, > {}, refused {}) and {} single-version \
         verdicts agree ({:.1?})",
        pairs.len(),
        tally[0],
        tally[1],
        tally[2],
        tally[3],
        versions.len(),
        started.elapsed()
    ));
}
