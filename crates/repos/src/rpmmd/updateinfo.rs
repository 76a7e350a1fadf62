//! `updateinfo.xml`: the advisories an rpm-md repository publishes, in every
//! dialect seen in the wild: Red Hat and its rebuilds (Rocky, Alma, Oracle),
//! Fedora's Bodhi, SUSE (patch names as ids, Unix-time `issued`) and Amazon.
//!
//! CVEs come from the references: `type="cve"` ones (Red Hat, Rocky,
//! Amazon) and the CVE ids in other references' ids and titles (Bodhi links
//! its Bugzilla tracker bugs, titled `CVE-2013-2175 haproxy: …`).

use std::io::BufRead;

use patchwatch_advisories::ids::split_ids;
use patchwatch_reports::{Package, PackageType};
use quick_xml::events::{BytesStart, Event};

use super::xml::{attr, read_error, reader, resolve_ref};
use crate::{RepoAdvisory, RepoError, UpdateKind};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Id,
    Title,
    Severity,
}

/// Reads a decompressed `updateinfo.xml`. `file` names it in errors.
pub fn parse_updateinfo<R: BufRead>(input: R, file: &str) -> Result<Vec<RepoAdvisory>, RepoError> {
    let mut reader = reader(input);
    let mut advisories = Vec::new();
    let mut current: Option<RepoAdvisory> = None;
    let mut field = Field::None;
    let mut text = String::new();
    let mut saw_root = false;
    let mut closed = false;
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut skip = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| read_error(&reader, e, file))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                text.clear();
                let Some(adv) = current.as_mut() else {
                    match e.local_name().as_ref() {
                        b"updates" => saw_root = true,
                        b"update" if saw_root => current = Some(new_advisory(&e, file)?),
                        _ => {}
                    }
                    buf.clear();
                    continue;
                };
                match e.local_name().as_ref() {
                    b"id" if !empty => field = Field::Id,
                    b"title" if !empty => field = Field::Title,
                    b"severity" if !empty => field = Field::Severity,
                    b"issued" => {
                        adv.issued = attr(&e, b"date", file)?
                            .map(|d| issued_rfc3339(&d))
                            .unwrap_or_default()
                    }
                    b"reference" => add_reference_cves(adv, &e, file)?,
                    b"package" => adv.packages.push(advisory_package(&e, file)?),
                    b"description" | b"rights" | b"summary" | b"solution" if !empty => {
                        let end = e.to_end().into_owned();
                        reader
                            .read_to_end_into(end.name(), &mut skip)
                            .map_err(|err| read_error(&reader, err, file))?;
                        skip.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) if field != Field::None => {
                let s = t
                    .decode()
                    .map_err(|e| RepoError::malformed(file, e.to_string()))?;
                text.push_str(&s);
            }
            Event::CData(t) if field != Field::None => {
                let s = t
                    .decode()
                    .map_err(|e| RepoError::malformed(file, e.to_string()))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) if field != Field::None => text.push_str(&resolve_ref(&r, file)?),
            Event::End(e) => {
                if let Some(adv) = current.as_mut() {
                    let value = text.trim().to_owned();
                    match field {
                        Field::Id => adv.id = value,
                        Field::Title => adv.title = value,
                        Field::Severity => adv.severity = value,
                        Field::None => {}
                    }
                    field = Field::None;
                    if e.local_name().as_ref() == b"update" {
                        let mut adv = current.take().expect("inside an update");
                        if adv.id.is_empty() {
                            return Err(RepoError::malformed(
                                file,
                                format!("update #{} has no <id>", advisories.len() + 1),
                            ));
                        }
                        adv.cves.sort();
                        adv.cves.dedup();
                        advisories.push(adv);
                    }
                } else if e.local_name().as_ref() == b"updates" {
                    closed = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(RepoError::malformed(
            file,
            "not an updateinfo.xml (no <updates> element)",
        ));
    }
    if !closed {
        return Err(RepoError::malformed(
            file,
            format!(
                "truncated: the document ends after {} updates, before </updates>",
                advisories.len()
            ),
        ));
    }
    Ok(advisories)
}

fn new_advisory(e: &BytesStart<'_>, file: &str) -> Result<RepoAdvisory, RepoError> {
    let kind = match attr(e, b"type", file)?.as_deref() {
        Some("security") => UpdateKind::Security,
        Some("bugfix") => UpdateKind::Bugfix,
        Some("enhancement") | Some("feature") => UpdateKind::Enhancement,
        Some("newpackage") => UpdateKind::Newpackage,
        Some("recommended") => UpdateKind::Recommended,
        Some("optional") => UpdateKind::Optional,
        _ => UpdateKind::Other,
    };
    Ok(RepoAdvisory {
        id: String::new(),
        kind,
        severity: String::new(),
        title: String::new(),
        issued: String::new(),
        cves: Vec::new(),
        packages: Vec::new(),
    })
}

fn add_reference_cves(
    adv: &mut RepoAdvisory,
    e: &BytesStart<'_>,
    file: &str,
) -> Result<(), RepoError> {
    let is_cve = attr(e, b"type", file)?.as_deref() == Some("cve");
    let id = attr(e, b"id", file)?.unwrap_or_default();
    let title = attr(e, b"title", file)?.unwrap_or_default();
    let before = adv.cves.len();
    adv.cves.extend(split_ids(&id).0);
    adv.cves.extend(split_ids(&title).0);
    if is_cve && adv.cves.len() == before {
        // A `type="cve"` reference whose id is not the CVE: the link has it.
        let href = attr(e, b"href", file)?.unwrap_or_default();
        adv.cves.extend(split_ids(&href).0);
    }
    Ok(())
}

fn advisory_package(e: &BytesStart<'_>, file: &str) -> Result<Package, RepoError> {
    let get = |name: &[u8]| attr(e, name, file).map(Option::unwrap_or_default);
    let name = get(b"name")?;
    if name.is_empty() {
        return Err(RepoError::malformed(
            file,
            "<package> without a name in a pkglist",
        ));
    }
    // Rocky and Red Hat give the source rpm file name; Bodhi gives the URL
    // of the binary rpm itself, which names no source.
    let src = get(b"src")?;
    let (source_name, source_version) = src
        .rsplit('/')
        .next()
        .filter(|f| f.ends_with(".src.rpm"))
        .and_then(super::primary::split_source_rpm)
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .unwrap_or_default();
    let mut pkg = Package {
        name,
        epoch: get(b"epoch")?,
        version: get(b"version")?,
        release: get(b"release")?,
        arch: get(b"arch")?,
        kind: PackageType::Rpm,
        source_name,
        source_version,
    };
    pkg.normalise();
    Ok(pkg)
}

/// `issued date` as RFC 3339: Bodhi and Red Hat write `2013-08-07 21:43:00`
/// (UTC), Amazon drops the seconds, SUSE writes Unix time. Anything else is
/// kept as written.
pub(crate) fn issued_rfc3339(raw: &str) -> String {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .ok()
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| raw.to_owned());
    }
    let (date, clock) = raw.split_once([' ', 'T']).unwrap_or((raw, ""));
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !date_ok {
        return raw.to_owned();
    }
    let clock = clock.trim_end_matches('Z');
    let clock = match clock.len() {
        0 => "00:00:00".to_owned(),
        5 => format!("{clock}:00"),
        8 => clock.to_owned(),
        _ => return raw.to_owned(),
    };
    format!("{date}T{clock}Z")
}

#[cfg(test)]
mod tests {
    use super::issued_rfc3339;

    #[test]
    fn issued_dates_of_every_dialect_become_rfc3339() {
        assert_eq!(
            issued_rfc3339("2013-08-07 21:43:00"),
            "2013-08-07T21:43:00Z"
        );
        assert_eq!(issued_rfc3339("2023-02-17 20:41"), "2023-02-17T20:41:00Z");
        assert_eq!(issued_rfc3339("1213630432"), "2008-06-16T15:33:52Z");
        assert_eq!(issued_rfc3339("2021-07-22"), "2021-07-22T00:00:00Z");
        assert_eq!(issued_rfc3339("yesterday"), "yesterday");
    }
}
