//! Debian security tracker data: the JSON dump ([`tracker`]), the advisory
//! lists `data/DSA/list`, `data/DLA/list`, `data/DTSA/list` ([`list`]) and
//! `data/CVE/list` ([`cve_list`]).
//!
//! Shared mapping of the tracker's package-line tags (`[release] - srcpkg
//! <tag> (notes)`):
//! `version` -> `Fixed`; `<unfixed>` -> `Affected`; `<no-dsa>` -> `NoAdvisory`;
//! `<postponed>` -> `Deferred`; `<ignored>` -> `WillNotFix`; `<not-affected>` and
//! `<itp>` (not in Debian yet) -> `NotAffected`; `<end-of-life>` and `<removed>`
//! (package dropped from the release, so no more security support) ->
//! `EndOfLife`; `<undetermined>` and unknown tags -> `UnderInvestigation`.
//! A fixed version `0` also means `NotAffected`. Urgency words in the notes
//! (`low`, `medium`, `high`, `unimportant`, with `*` marks) become the row's
//! severity; `bug #N` references are dropped; other notes are kept.
//! Codenames become releases (`bullseye` -> `11`), keeping the codename;
//! package lines without a release (`- srcpkg version`) are unstable (`sid`).

pub mod cve_list;
pub mod list;
pub mod tracker;

use std::io::BufRead;

use patchwatch_reports::model::PackageType;

use crate::advisory::{Affected, FixState, NameKind, Severity};
use crate::release;

/// Parses `[release] - srcpkg token (notes)` or `- srcpkg token (notes)`
/// (already trimmed). `None` when the line has another shape.
pub(crate) fn package_line(line: &str) -> Option<Affected> {
    let (codename, rest) = match line.strip_prefix('[') {
        Some(r) => {
            let (codename, rest) = r.split_once(']')?;
            (codename.trim(), rest.trim_start())
        }
        None => ("sid", line),
    };
    let rest = rest.strip_prefix('-')?.trim_start();
    let (pkg, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if pkg.is_empty() {
        return None;
    }
    let rest = rest.trim();
    let (token, notes) = match rest.find('(') {
        Some(i) => (
            rest[..i].trim(),
            Some(rest[i + 1..].trim_end().trim_end_matches(')')),
        ),
        None => (rest, None),
    };
    let state = match token {
        "" | "<unfixed>" => FixState::Affected,
        "<no-dsa>" => FixState::NoAdvisory,
        "<postponed>" => FixState::Deferred,
        "<ignored>" => FixState::WillNotFix,
        "<not-affected>" | "<itp>" | "0" => FixState::NotAffected,
        "<end-of-life>" | "<removed>" => FixState::EndOfLife,
        t if t.starts_with('<') => FixState::UnderInvestigation,
        v => FixState::Fixed {
            version: v.to_owned(),
        },
    };
    let rel = release::debian_release(codename).unwrap_or(codename);
    let mut a = Affected::new(
        "debian",
        rel,
        pkg,
        NameKind::Source,
        PackageType::Deb,
        state,
    );
    a.codename = Some(codename.to_owned());
    a.vendor_status = if token.is_empty() {
        "<unfixed>".to_owned()
    } else {
        token.to_owned()
    };
    let mut kept = Vec::new();
    for part in notes.into_iter().flat_map(|n| n.split(';')) {
        let part = part.trim();
        let word = part.trim_end_matches('*');
        if matches!(word, "unimportant" | "low" | "medium" | "high") {
            a.severity = Some(Severity::from_debian(part));
        } else if !part.is_empty() && !part.starts_with("bug #") {
            kept.push(part);
        }
    }
    if !kept.is_empty() {
        a.note = Some(kept.join("; "));
    }
    Some(a)
}

/// Reads one line into `buf` (without the line end), tolerating invalid
/// UTF-8. Returns `false` at end of input.
pub(crate) fn next_line<R: BufRead>(
    reader: &mut R,
    raw: &mut Vec<u8>,
    buf: &mut String,
) -> std::io::Result<bool> {
    raw.clear();
    if reader.read_until(b'\n', raw)? == 0 {
        return Ok(false);
    }
    while matches!(raw.last(), Some(b'\n' | b'\r')) {
        raw.pop();
    }
    buf.clear();
    buf.push_str(&String::from_utf8_lossy(raw));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_lines() {
        let a = package_line("[bullseye] - foot <no-dsa> (Minor issue)").unwrap();
        assert_eq!(
            (a.release.as_str(), a.codename.as_deref()),
            ("11", Some("bullseye"))
        );
        assert_eq!(
            (a.state, a.note.as_deref()),
            (FixState::NoAdvisory, Some("Minor issue"))
        );
        let a = package_line("- putty 0.75-3 (low; bug #990901)").unwrap();
        assert_eq!(a.release, "sid");
        assert_eq!(
            a.state,
            FixState::Fixed {
                version: "0.75-3".into()
            }
        );
        assert_eq!(a.severity.unwrap().raw.as_deref(), Some("low"));
        assert_eq!(a.note, None);
        let a = package_line("[etch] - kismet 2005.08.R1-0.1etch1 (high)").unwrap();
        assert_eq!((a.release.as_str(), a.package.as_str()), ("4.0", "kismet"));
        let a = package_line("[buster] - chromium <end-of-life> (see DSA 5046)").unwrap();
        assert_eq!(
            (a.state, a.note.as_deref()),
            (FixState::EndOfLife, Some("see DSA 5046"))
        );
        assert!(package_line("NOTE: foo").is_none());
    }
}
