//! Shared test helpers: data paths and test-only version orderings (the
//! workspace's `patchwatch-versions` is wired in by the lead; these small
//! comparators are checked against the data set's rpm/dpkg vectors in
//! `orderings.rs`).
#![allow(dead_code)]

use std::cmp::Ordering;
use std::path::PathBuf;

use patchwatch_oval::{Document, Orderings};

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(DATA).join(rel)
}

pub fn load(rel: &str) -> Document {
    Document::from_path(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn orderings() -> Orderings<'static> {
    Orderings {
        rpm: &rpm_evr_cmp,
        deb: &deb_cmp,
    }
}

fn split_evr(s: &str) -> (u64, &str, &str) {
    let (e, rest) = match s.split_once(':') {
        Some((e, r)) if e.bytes().all(|b| b.is_ascii_digit()) => (e.parse().unwrap_or(0), r),
        _ => (0, s),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (e, v, r),
        None => (e, rest, ""),
    }
}

/// rpm's rpmvercmp.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        let skip = |s: &mut &[u8]| {
            while let Some(&c) = s.first() {
                if c.is_ascii_alphanumeric() || c == b'~' || c == b'^' {
                    break;
                }
                *s = &s[1..];
            }
        };
        skip(&mut a);
        skip(&mut b);
        match (a.first(), b.first()) {
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            _ => {}
        }
        match (a.first(), b.first()) {
            (Some(b'^'), Some(b'^')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'^'), None) => return Ordering::Greater,
            (None, Some(b'^')) => return Ordering::Less,
            (Some(b'^'), _) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            _ => {}
        }
        if a.is_empty() || b.is_empty() {
            break;
        }
        let numeric = a[0].is_ascii_digit();
        let take = |s: &[u8]| {
            s.iter()
                .take_while(|c| {
                    if numeric {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    }
                })
                .count()
        };
        let (na, nb) = (take(a), take(b));
        let (sa, sb) = (&a[..na], &b[..nb]);
        if nb == 0 {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let ord = if numeric {
            let ta: &[u8] = &sa[sa.iter().take_while(|&&c| c == b'0').count()..];
            let tb: &[u8] = &sb[sb.iter().take_while(|&&c| c == b'0').count()..];
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        a = &a[na..];
        b = &b[nb..];
    }
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

pub fn rpm_evr_cmp(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = split_evr(a);
    let (eb, vb, rb) = split_evr(b);
    ea.cmp(&eb).then_with(|| rpmvercmp(va, vb)).then_with(|| {
        if ra.is_empty() || rb.is_empty() {
            Ordering::Equal
        } else {
            rpmvercmp(ra, rb)
        }
    })
}

fn deb_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

/// dpkg's verrevcmp.
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0;
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = deb_order(a.get(i).copied());
            let bc = deb_order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == 0 {
                first_diff = a[i] as i32 - b[j] as i32;
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

pub fn deb_cmp(a: &str, b: &str) -> Ordering {
    let split = |s: &str| -> (u64, String, String) {
        let (e, rest) = match s.split_once(':') {
            Some((e, r)) => (e.parse().unwrap_or(0), r),
            None => (0, s),
        };
        match rest.rsplit_once('-') {
            Some((v, r)) => (e, v.to_owned(), r.to_owned()),
            None => (e, rest.to_owned(), String::new()),
        }
    };
    let (ea, va, ra) = split(a);
    let (eb, vb, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(&va, &vb))
        .then_with(|| verrevcmp(&ra, &rb))
}
