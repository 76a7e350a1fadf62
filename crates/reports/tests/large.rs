//! A very large Pakiti report parses quickly.

use std::fmt::Write as _;
use std::time::Instant;

use patchwatch_reports::pakiti;

const PACKAGES: usize = 100_000;

fn body() -> String {
    let mut s = String::with_capacity(PACKAGES * 48);
    s.push_str("#\narch: x86_64\nhost: big.example.org\nkernel: 5.14.0-362.13.1.el9_3.x86_64\n");
    s.push_str(
        "packager: rpm\nsite: MYSITE\nsystem: Rocky Linux release 9.3 (Blue Onyx)\nversion: 1\n#\n",
    );
    for i in 0..PACKAGES {
        let _ = writeln!(
            s,
            "package-{i}\t{}:{}.{}.{}-{}.el9_3\tx86_64",
            i % 3,
            i % 7,
            i % 11,
            i,
            i % 5
        );
    }
    s.push_str("#\n");
    s
}

#[test]
fn parses_100k_packages() {
    let body = body();
    let start = Instant::now();
    let report = pakiti::parse_v5(body.as_bytes()).unwrap();
    let took = start.elapsed();
    let packages = report.packages.unwrap();
    assert_eq!(packages.len(), PACKAGES);
    assert_eq!(packages[0].evr(), "0.0.0-0.el9_3");
    assert_eq!(packages[1].evr(), "1:1.1.1-1.el9_3");
    eprintln!(
        "parsed {PACKAGES} packages ({} bytes) in {took:?} ({} build)",
        body.len(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    // Generous for debug builds on a shared machine; release is far faster.
    let limit = if cfg!(debug_assertions) { 10.0 } else { 1.0 };
    assert!(took.as_secs_f64() < limit, "took {took:?}");
}
