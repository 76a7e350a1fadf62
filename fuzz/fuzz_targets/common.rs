// Shared by every target (included with `include!`, as each target is its
// own crate): turns the fuzzer's bytes into three versions and checks the
// laws every ordering must obey, plus that the batch runner never panics.

use std::cmp::Ordering;

use patchwatch_versions::{Scheme, compare, run_batch, validate};

/// Up to three versions separated by newlines.
fn split3(data: &[u8]) -> Option<(&str, &str, &str)> {
    let s = std::str::from_utf8(data).ok()?;
    let mut parts = s.splitn(3, '\n');
    Some((
        parts.next()?,
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    ))
}

fn check_laws(scheme: Scheme, data: &[u8], transitive: bool) -> Option<(&str, &str, &str)> {
    let _ = run_batch(scheme, data, std::io::sink());
    let (a, b, c) = split3(data)?;
    for v in [a, b, c] {
        let _ = validate(scheme, v);
        assert_eq!(compare(scheme, v, v), Ordering::Equal, "reflexive {v:?}");
    }
    let ab = compare(scheme, a, b);
    assert_eq!(
        ab,
        compare(scheme, b, a).reverse(),
        "antisymmetric {a:?} {b:?}"
    );
    if transitive {
        let bc = compare(scheme, b, c);
        let ac = compare(scheme, a, c);
        if ab != Ordering::Greater && bc != Ordering::Greater {
            assert_ne!(ac, Ordering::Greater, "transitive {a:?} {b:?} {c:?}");
        }
        if ab == Ordering::Equal && bc == Ordering::Equal {
            assert_eq!(ac, Ordering::Equal, "equality transitive {a:?} {b:?} {c:?}");
        }
    }
    Some((a, b, c))
}
