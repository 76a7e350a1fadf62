//! Vulnerability id hygiene: vendor files spell CVE ids in many ways
//! (`CVE 2018-16859`, `CVE_2019-2426`, `CVE-2017-8073.patch`,
//! `CVE-2019-15167 (VRRP)`, `CVE-2017-14450 TALOS-2017-0499`). The matcher joins
//! on the canonical `CVE-YYYY-NNNN`, so every parser routes ids through here.

/// The canonical form of a single CVE id written with a typo, or `None` when
/// `raw` holds no CVE id. Only the first id in `raw` is returned.
pub fn normalise_cve(raw: &str) -> Option<String> {
    find_cves(raw).into_iter().next().map(|(_, cve)| cve)
}

/// Every CVE id in `raw`, with the byte range each occupied.
fn find_cves(raw: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 <= b.len() {
        if !b[i..i + 3].eq_ignore_ascii_case(b"CVE") || (i > 0 && b[i - 1].is_ascii_alphanumeric())
        {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 3;
        // Separator between `CVE` and the year: `-`, `_` or a space (typos).
        if j < b.len() && matches!(b[j], b'-' | b'_' | b' ') {
            j += 1;
        }
        let year_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j - year_start != 4 || j >= b.len() || !matches!(b[j], b'-' | b'_' | b' ') {
            i += 1;
            continue;
        }
        let year = &raw[year_start..j];
        j += 1;
        let num_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j - num_start < 4 {
            i += 1;
            continue;
        }
        out.push((start..j, format!("CVE-{year}-{}", &raw[num_start..j])));
        i = j;
    }
    out
}

/// Splits a free-form id field into CVE ids and other advisory ids
/// (`XSA-214`, `TALOS-2017-0499`, `GHSA-…`). Words that are neither (comments
/// such as `(VRRP)`, file suffixes) are dropped. The flag is `true` when the
/// field was not already a single well-formed CVE id, so callers can note it.
pub fn split_ids(raw: &str) -> (Vec<String>, Vec<String>, bool) {
    let found = find_cves(raw);
    let mut rest = String::with_capacity(raw.len());
    let mut last = 0;
    for (range, _) in &found {
        rest.push_str(&raw[last..range.start]);
        rest.push(' ');
        last = range.end;
    }
    rest.push_str(&raw[last..]);
    let others: Vec<String> = rest
        .split_whitespace()
        .filter(|w| looks_like_id(w))
        .map(str::to_owned)
        .collect();
    let clean = found.len() == 1 && others.is_empty() && found[0].1 == raw;
    (found.into_iter().map(|(_, c)| c).collect(), others, !clean)
}

/// `LETTERS-digits[-digits…]`, optionally with a `:` (ALSA-2023:1234).
fn looks_like_id(w: &str) -> bool {
    let Some((prefix, rest)) = w.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.bytes().all(|c| c.is_ascii_uppercase())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':'))
        && rest
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_normalised() {
        assert_eq!(
            normalise_cve("CVE 2018-16859").as_deref(),
            Some("CVE-2018-16859")
        );
        assert_eq!(
            normalise_cve("CVE_2019-2426").as_deref(),
            Some("CVE-2019-2426")
        );
        assert_eq!(
            normalise_cve(" CVE-2016-6263").as_deref(),
            Some("CVE-2016-6263")
        );
        assert_eq!(
            normalise_cve("CVE-2017-8073.patch").as_deref(),
            Some("CVE-2017-8073")
        );
        assert_eq!(
            normalise_cve("cve-2021-1234").as_deref(),
            Some("CVE-2021-1234")
        );
        assert_eq!(normalise_cve("XSA-207"), None);
        assert_eq!(normalise_cve("CVE-2023-XXXX"), None);
    }

    #[test]
    fn mixed_fields_split() {
        let (c, o, odd) = split_ids("CVE-2017-14450 TALOS-2017-0499");
        assert_eq!(c, ["CVE-2017-14450"]);
        assert_eq!(o, ["TALOS-2017-0499"]);
        assert!(odd);
        let (c, o, _) = split_ids("CVE-2019-15167 (VRRP)");
        assert_eq!(
            (c.as_slice(), o.len()),
            (&["CVE-2019-15167".to_owned()][..], 0)
        );
        let (c, o, odd) = split_ids("CVE-2019-10206");
        assert_eq!((c.len(), o.len(), odd), (1, 0, false));
        let (c, o, _) = split_ids("XSA-207");
        assert_eq!((c.len(), o), (0, vec!["XSA-207".to_owned()]));
    }
}
