//! Ubuntu CVE Tracker (UCT) files: one RFC 822-like text file per CVE
//! (`Candidate:`, `PublicDate:`, `Priority:`, `Description:` with indented
//! continuation lines, `Priority_srcpkg:`, and `release_srcpkg: status
//! (note)` lines), loose or in a (compressed) tar of the tracker's `active/`,
//! `retired/` and `ignored/` directories.
//!
//! Mapping decisions:
//! * Release keys: a codename (`xenial`) -> its version (`16.04`) from
//!   `distro-info-data`'s `ubuntu.csv` (see [`crate::release`]); `trusty/esm`,
//!   `vivid/ubuntu-core`, `esm-infra/xenial` -> the codename's version with the
//!   other part as repository (`esm`, `ubuntu-core`, `esm-infra`); `devel`
//!   stays `devel`; `upstream` (not a release) and unknown names are skipped.
//! * Status: `released (v)` -> `Fixed(v)` (`released` without a version ->
//!   `UnderInvestigation`, nothing to compare with); `needed` -> `Affected`;
//!   `pending (v)` -> `Affected` (fix prepared, not published; note keeps the
//!   version); `needs-triage` -> `UnderInvestigation`; `not-affected` ->
//!   `NotAffected`; `deferred` -> `Deferred`; `ignored (…end-of-life… / out
//!   of standard support)` -> `EndOfLife`, other `ignored` -> `WillNotFix`;
//!   `DNE` (package does not exist in that release) -> no row.
//!   The parenthesised text is kept as the row's note.
//! * Severity: `Priority:` for the advisory, `Priority_srcpkg:` per row.
//! * A description starting `** REJECT **` marks the CVE withdrawn; files in
//!   `ignored/` get the note `ignored/` (Ubuntu judged the CVE irrelevant).

use std::io::Read;

use patchwatch_reports::model::PackageType;

use crate::advisory::{Advisory, Affected, FixState, NameKind, Severity, Source};
use crate::error::Error;
use crate::osv::MAX_RECORD_BYTES;
use crate::release;

/// `trusty/esm` -> (`14.04`, `trusty`, `esm`); `None` for `upstream` and
/// names that are not Ubuntu releases.
pub fn release_key(key: &str) -> Option<(String, Option<String>, Option<String>)> {
    if key == "devel" {
        return Some(("devel".to_owned(), None, None));
    }
    let (a, b) = key.split_once('/').unwrap_or((key, ""));
    let (codename, repo) = match (release::ubuntu_release(a), release::ubuntu_release(b)) {
        (Some(_), _) => (a, b),
        (None, Some(_)) => (b, a),
        _ => return None,
    };
    let version = release::ubuntu_release(codename)?;
    Some((
        version.to_owned(),
        Some(codename.to_owned()),
        (!repo.is_empty()).then(|| repo.to_owned()),
    ))
}

fn state_of(status: &str, note: Option<&str>) -> Option<FixState> {
    Some(match status {
        "released" => match note {
            Some(v) if !v.is_empty() => FixState::Fixed {
                version: v.to_owned(),
            },
            _ => FixState::UnderInvestigation,
        },
        "needed" | "pending" | "active" => FixState::Affected,
        "needs-triage" => FixState::UnderInvestigation,
        "not-affected" => FixState::NotAffected,
        "deferred" => FixState::Deferred,
        "ignored" => {
            let n = note.unwrap_or("").to_ascii_lowercase();
            if n.contains("end-of-life")
                || n.contains("end of life")
                || n.contains("out of standard support")
            {
                FixState::EndOfLife
            } else {
                FixState::WillNotFix
            }
        }
        "DNE" => return None,
        _ => FixState::UnderInvestigation,
    })
}

/// Parses one tracker file. Returns `Ok(None)` for files that are not CVE
/// entries (the `00boilerplate*` templates, READMEs: no `Candidate:`).
pub fn parse_file(text: &str, name: &str) -> Result<Option<Advisory>, Error> {
    let mut adv = Advisory::new("", Source::UbuntuCveTracker);
    let mut priorities: Vec<(String, Severity)> = Vec::new();
    let mut in_description = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with([' ', '\t']) {
            if in_description {
                if !adv.title.is_empty() {
                    adv.title.push(' ');
                }
                adv.title.push_str(line.trim());
            }
            continue;
        }
        in_description = false;
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(Error::format(
                format!("{name}:{}", n + 1),
                format!("expected `key: value`: {line}"),
            ));
        };
        let value = value.trim();
        match key {
            "Candidate" => {
                adv.id = value.to_owned();
                adv.add_id(value);
            }
            "PublicDate" => adv.published = (!value.is_empty()).then(|| value.to_owned()),
            "Priority" => adv.severity = Severity::from_ubuntu(value),
            "Description" => {
                in_description = true;
                adv.title.push_str(value);
            }
            _ => {
                let Some((prefix, pkg)) = key.split_once('_') else {
                    continue;
                };
                if prefix == "Priority" {
                    priorities.push((pkg.to_owned(), Severity::from_ubuntu(value)));
                    continue;
                }
                let Some((rel, codename, repo)) = release_key(prefix) else {
                    continue;
                };
                let (status, note) = match value.split_once('(') {
                    Some((s, rest)) => (s.trim(), Some(rest.trim_end_matches(')').trim())),
                    None => (value, None),
                };
                let Some(state) = state_of(status, note) else {
                    continue;
                };
                let mut row = Affected::new(
                    "ubuntu",
                    &rel,
                    pkg,
                    NameKind::Source,
                    PackageType::Deb,
                    state,
                );
                row.codename = codename;
                row.repository = repo;
                row.vendor_status = status.to_owned();
                row.note = note
                    .filter(|n| !n.is_empty() && status != "released")
                    .map(str::to_owned);
                adv.affected.push(row);
            }
        }
    }
    if adv.id.is_empty() {
        return Ok(None);
    }
    for row in &mut adv.affected {
        row.severity = priorities
            .iter()
            .find(|(p, _)| *p == row.package)
            .map(|(_, s)| s.clone());
    }
    adv.withdrawn = adv.title.starts_with("** REJECT **");
    if name.contains("ignored/") {
        adv.notes.push("ignored/".to_owned());
    }
    Ok(Some(adv))
}

/// The tracker as a (decompressed) tar archive.
pub struct TrackerArchive<R: Read> {
    archive: tar::Archive<R>,
    name: String,
}

impl<R: Read> TrackerArchive<R> {
    pub fn new(reader: R, name: &str) -> TrackerArchive<R> {
        TrackerArchive {
            archive: tar::Archive::new(reader),
            name: name.to_owned(),
        }
    }

    /// Every CVE file under `active/`, `retired/` or `ignored/` (templates
    /// and READMEs skipped). A bad file is an `Err` item; a broken archive
    /// ends the iteration.
    pub fn records(&mut self) -> Result<impl Iterator<Item = Result<Advisory, Error>> + '_, Error> {
        crate::archive::tar_files(
            &mut self.archive,
            &self.name,
            MAX_RECORD_BYTES,
            |path| path.rsplit('/').next().unwrap_or("").starts_with("CVE-"),
            |bytes, at| parse_file(&String::from_utf8_lossy(bytes), at).transpose(),
        )
    }
}
