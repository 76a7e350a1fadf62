//! `primary.xml`: every package of an rpm-md repository, streamed.
//!
//! Only what update computation needs is kept (name, EVR, arch, source rpm);
//! the dependency lists and file lists, which are most of the document, are
//! skipped without being decoded: once a package's `<rpm:sourcerpm>` is
//! read, the rest of its `<format>` is passed over by a substring search
//! for `</format>` (XML text cannot contain a raw `<`, so the first
//! occurrence is the element's end).

use std::io::BufRead;

use patchwatch_reports::{Package, PackageType};
use quick_xml::events::{BytesStart, Event};

use super::skip::SkipReader;
use super::xml::{attr, read_error_in, reader, resolve_ref};
use crate::{AvailablePackage, RepoError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Name,
    Arch,
    SourceRpm,
}

/// Reads a decompressed `primary.xml`. `file` names it in errors. The
/// document must be complete: a missing `</metadata>` or a package count
/// different from the `packages` attribute means a truncated download.
pub fn parse_primary<R: BufRead>(input: R, file: &str) -> Result<Vec<AvailablePackage>, RepoError> {
    let mut reader = reader(SkipReader::new(input));
    let format_end = memchr::memmem::Finder::new(b"</format>");
    let mut in_format = false;
    let mut packages: Vec<AvailablePackage> = Vec::new();
    let mut declared: Option<usize> = None;
    let mut current: Option<Package> = None;
    let mut field = Field::None;
    let mut text = String::new();
    let mut closed = false;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut skip = Vec::with_capacity(16 * 1024);
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| read_error_in(e, file, &place(packages.len())))?;
        match event {
            Event::Start(e) => {
                if current.is_none() {
                    match e.local_name().as_ref() {
                        b"metadata" => declared = declared_count(&e, file)?,
                        b"package" => current = Some(new_package()),
                        _ => {}
                    }
                    buf.clear();
                    continue;
                }
                match e.local_name().as_ref() {
                    b"name" => field = Field::Name,
                    b"arch" => field = Field::Arch,
                    b"sourcerpm" => field = Field::SourceRpm,
                    b"format" => in_format = true,
                    // Descriptions, dependency lists, file lists: not needed.
                    _ => {
                        let end = e.to_end().into_owned();
                        reader
                            .read_to_end_into(end.name(), &mut skip)
                            .map_err(|err| read_error_in(err, file, &place(packages.len())))?;
                        skip.clear();
                    }
                }
                text.clear();
            }
            Event::Empty(e) => {
                if let (Some(pkg), b"version") = (current.as_mut(), e.local_name().as_ref()) {
                    pkg.epoch = attr(&e, b"epoch", file)?.unwrap_or_default();
                    pkg.version = attr(&e, b"ver", file)?.unwrap_or_default();
                    pkg.release = attr(&e, b"rel", file)?.unwrap_or_default();
                }
            }
            Event::Text(t) if field != Field::None => {
                let s = t
                    .decode()
                    .map_err(|e| RepoError::malformed(file, e.to_string()))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) if field != Field::None => text.push_str(&resolve_ref(&r, file)?),
            Event::End(e) => {
                if let Some(pkg) = current.as_mut() {
                    match field {
                        Field::Name => pkg.name = std::mem::take(&mut text),
                        Field::Arch => pkg.arch = std::mem::take(&mut text),
                        Field::SourceRpm => {
                            if let Some((name, version)) = split_source_rpm(&text) {
                                pkg.source_name = name.to_owned();
                                pkg.source_version = version.to_owned();
                            }
                            if in_format
                                && !reader.get_mut().skip_until(&format_end).map_err(|e| {
                                    read_error_in(e.into(), file, &place(packages.len()))
                                })?
                            {
                                return Err(RepoError::malformed(
                                    file,
                                    format!(
                                        "truncated: the document ends inside {}",
                                        place(packages.len())
                                    ),
                                ));
                            }
                        }
                        Field::None => {}
                    }
                    field = Field::None;
                    if e.local_name().as_ref() == b"format" {
                        in_format = false;
                    }
                    if e.local_name().as_ref() == b"package" {
                        let mut pkg = current.take().expect("inside a package");
                        if pkg.name.is_empty() || pkg.version.is_empty() {
                            return Err(RepoError::malformed(
                                file,
                                format!("package #{} has no name or version", packages.len() + 1),
                            ));
                        }
                        pkg.normalise();
                        packages.push(AvailablePackage {
                            package: pkg,
                            module: None,
                            phased_percentage: None,
                            multi_arch: String::new(),
                        });
                    }
                } else if e.local_name().as_ref() == b"metadata" {
                    closed = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !closed {
        return Err(RepoError::malformed(
            file,
            format!(
                "truncated: the document ends after {} packages, before </metadata>",
                packages.len()
            ),
        ));
    }
    if let Some(n) = declared.filter(|&n| n != packages.len()) {
        return Err(RepoError::malformed(
            file,
            format!("declares {n} packages but contains {}", packages.len()),
        ));
    }
    Ok(packages)
}

/// Where a reading error happened, for the message.
fn place(parsed: usize) -> String {
    format!("package #{}", parsed + 1)
}

fn declared_count(e: &BytesStart<'_>, file: &str) -> Result<Option<usize>, RepoError> {
    match attr(e, b"packages", file)? {
        None => Ok(None),
        Some(n) => n.trim().parse().map(Some).map_err(|_| {
            RepoError::malformed(file, format!("<metadata packages={n:?}> is not a number"))
        }),
    }
}

fn new_package() -> Package {
    Package {
        name: String::new(),
        epoch: String::new(),
        version: String::new(),
        release: String::new(),
        arch: String::new(),
        kind: PackageType::Rpm,
        source_name: String::new(),
        source_version: String::new(),
    }
}

/// `bash-5.1.8-9.el9.src.rpm` -> (`bash`, `5.1.8-9.el9`).
pub(crate) fn split_source_rpm(file_name: &str) -> Option<(&str, &str)> {
    let stem = file_name.trim().strip_suffix(".rpm")?;
    let (nvr, _arch) = stem.rsplit_once('.')?;
    let (nv, _release) = nvr.rsplit_once('-')?;
    let (name, _version) = nv.rsplit_once('-')?;
    Some((name, &nvr[name.len() + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_rpm_names_split_at_the_last_two_dashes() {
        assert_eq!(
            split_source_rpm("389-ds-base-2.5.1-1.el9.src.rpm"),
            Some(("389-ds-base", "2.5.1-1.el9"))
        );
        assert_eq!(split_source_rpm("garbage"), None);
    }
}
