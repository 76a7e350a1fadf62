//! The test-only orderings agree with the reference implementations'
//! vectors, so the evaluator tests rest on correct comparisons.

mod common;

use std::cmp::Ordering;

fn check(rel: &str, cmp: impl Fn(&str, &str) -> Ordering) -> usize {
    let text = std::fs::read_to_string(common::data(rel)).unwrap();
    let mut n = 0;
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        let want = match f[1] {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            _ => Ordering::Greater,
        };
        assert_eq!(cmp(f[0], f[2]), want, "{line}");
        assert_eq!(cmp(f[2], f[0]), want.reverse(), "reversed {line}");
        n += 1;
    }
    n
}

#[test]
fn rpm_vectors() {
    assert_eq!(check("versions/rpm.txt", common::rpmvercmp), 91);
}

#[test]
fn dpkg_vectors() {
    assert_eq!(check("versions/deb.txt", common::deb_cmp), 114);
}
