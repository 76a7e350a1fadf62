//! OSV records (<https://ossf.github.io/osv-schema/>) from the Linux
//! distribution databases: AlmaLinux, Rocky Linux, Debian, Ubuntu, Alpine,
//! SUSE/openSUSE. One record per JSON file; whole databases come as zip or
//! (compressed) tar archives and are iterated entry by entry, one record in
//! memory at a time, never unpacked to disk.
//!
//! Mapping decisions:
//! * Ecosystems: `AlmaLinux:9` -> `almalinux`/`9`; `Rocky Linux:8` ->
//!   `rocky`/`8`; `Debian:12` -> `debian`/`12` (+ codename);
//!   `Ubuntu:22.04:LTS` -> `ubuntu`/`22.04`, `Ubuntu:Pro:16.04:LTS` -> the same
//!   release with repository `pro` (or the purl's `esm-infra`/`esm-apps`
//!   pocket); `Alpine:v3.19` -> `alpine`/`3.19`; `openSUSE:Leap 15.5` ->
//!   `opensuse-leap`/`15.5`; `SUSE:Linux Enterprise Server 15 SP5` ->
//!   `sles`/`15.5` (os-release style). Other ecosystems (language package
//!   managers, distributions we do not monitor) are skipped and named in
//!   [`Advisory::notes`].
//! * Only `ECOSYSTEM` ranges are read (`SEMVER`/`GIT` do not describe
//!   distribution packages). Each `introduced`..`fixed` pair becomes one
//!   [`Affected`] row with [`FixState::Fixed`]; `introduced`..`last_affected`
//!   and an open `introduced` become [`FixState::Affected`] (with
//!   `last_affected` kept). `introduced: "0"` is stored as `None`. The
//!   enumerated `versions` list is not read: ranges say the same thing.
//! * Name kind: the RPM feeds (AlmaLinux, Rocky, SUSE) list binary rpm names;
//!   Debian, Ubuntu and Alpine list source packages (purl `arch=source`).
//! * Severity: a vendor word wins (`severity[type=Ubuntu]`, the Red Hat
//!   style `Important:` title prefix of AlmaLinux/Rocky), then the highest
//!   per-package vendor rating (`ecosystem_specific.ubuntu_priority`, Debian
//!   `urgency`, a `severity` string in `ecosystem_specific`/`database_specific`),
//!   then the first CVSS v3 vector's base score.
//! * `withdrawn` (any timestamp) sets [`Advisory::withdrawn`].
//! * CVE ids are collected from `aliases`, `related` and `upstream`; other ids
//!   (`UBUNTU-CVE-…`, `USN-…`, `SUSE-SU-…`) go to `aliases`.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use patchwatch_reports::model::PackageType;
use serde::Deserialize;
use serde_json::Value;

use crate::advisory::{Advisory, Affected, FixState, NameKind, Severity, Source};
use crate::compression::{self, Compression};
use crate::error::Error;
use crate::release;

/// Archive entries larger than this are refused rather than read into
/// memory: the largest real OSV record is a few hundred kB.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;

#[derive(Deserialize)]
struct Record {
    id: String,
    summary: Option<String>,
    aliases: Option<Vec<String>>,
    related: Option<Vec<String>>,
    upstream: Option<Vec<String>>,
    published: Option<String>,
    modified: Option<String>,
    withdrawn: Option<String>,
    severity: Option<Vec<RecSeverity>>,
    affected: Option<Vec<RecAffected>>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RecSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RecAffected {
    package: Option<RecPackage>,
    ranges: Option<Vec<RecRange>>,
    ecosystem_specific: Option<Value>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RecPackage {
    ecosystem: String,
    name: String,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RecRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<RecEvent>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RecEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
}

/// Where an ecosystem string points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ecosystem {
    pub distro: String,
    pub release: String,
    pub codename: Option<String>,
    /// `pro` for `Ubuntu:Pro:…` ecosystems.
    pub repository: Option<String>,
    pub scheme: PackageType,
    pub name_kind: NameKind,
}

/// Maps an OSV ecosystem string to distribution and release; `None` for
/// ecosystems this crate does not monitor.
pub fn ecosystem(eco: &str) -> Option<Ecosystem> {
    let (family, rest) = eco.split_once(':').unwrap_or((eco, ""));
    let mk = |distro: &str, release: &str, scheme, name_kind| Ecosystem {
        distro: distro.to_owned(),
        release: release.to_owned(),
        codename: None,
        repository: None,
        scheme,
        name_kind,
    };
    match family {
        "AlmaLinux" if !rest.is_empty() => {
            Some(mk("almalinux", rest, PackageType::Rpm, NameKind::Binary))
        }
        "Rocky Linux" if !rest.is_empty() => {
            Some(mk("rocky", rest, PackageType::Rpm, NameKind::Binary))
        }
        "Debian" if !rest.is_empty() => {
            let mut e = mk("debian", rest, PackageType::Deb, NameKind::Source);
            e.codename = release::debian_codename(rest).map(str::to_owned);
            Some(e)
        }
        "Alpine" if !rest.is_empty() => Some(mk(
            "alpine",
            &release::alpine_release(rest),
            PackageType::Apk,
            NameKind::Source,
        )),
        "Ubuntu" => {
            // `22.04:LTS`, `24.10`, `Pro:16.04:LTS`, `Pro:FIPS:18.04:LTS`...
            let parts: Vec<&str> = rest.split(':').collect();
            let version = parts
                .iter()
                .find(|p| p.starts_with(|c: char| c.is_ascii_digit()))?;
            let mut e = mk("ubuntu", version, PackageType::Deb, NameKind::Source);
            e.codename = release::ubuntu_codename(version).map(str::to_owned);
            let extra: Vec<&str> = parts
                .iter()
                .filter(|p| **p != *version && **p != "LTS")
                .copied()
                .collect();
            if !extra.is_empty() {
                e.repository = Some(extra.join(":").to_ascii_lowercase());
            }
            Some(e)
        }
        "openSUSE" => {
            let v = rest.strip_prefix("Leap ")?;
            let v = v.split_whitespace().next()?;
            Some(mk("opensuse-leap", v, PackageType::Rpm, NameKind::Binary))
        }
        "SUSE" => {
            // `Linux Enterprise Server 15 SP5` -> sles 15.5, as os-release says.
            let products = [
                ("Linux Enterprise Server ", "sles"),
                ("Linux Enterprise Desktop ", "sled"),
                ("Linux Enterprise Micro ", "sle-micro"),
            ];
            let (v, distro) = products
                .iter()
                .find_map(|(p, d)| rest.strip_prefix(p).map(|v| (v, *d)))?;
            let mut words = v.split_whitespace();
            let major = words.next()?;
            let release = match words.next().and_then(|sp| sp.strip_prefix("SP")) {
                Some(sp) => format!("{major}.{sp}"),
                None => major.to_owned(),
            };
            Some(mk(distro, &release, PackageType::Rpm, NameKind::Binary))
        }
        _ => None,
    }
}

/// Parses one OSV record. `at` names the file or archive entry for errors.
pub fn parse_record(bytes: &[u8], at: &str) -> Result<Advisory, Error> {
    let rec: Record = serde_json::from_slice(bytes).map_err(|e| Error::json(at, e))?;
    Ok(convert(rec))
}

/// Reads one OSV record from a reader (a single `.json` file).
pub fn read_record<R: Read>(mut reader: R, at: &str) -> Result<Advisory, Error> {
    let mut buf = Vec::new();
    reader
        .by_ref()
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(at, e))?;
    if buf.len() as u64 > MAX_RECORD_BYTES {
        return Err(Error::format(
            at,
            format!("record larger than {MAX_RECORD_BYTES} bytes"),
        ));
    }
    parse_record(&buf, at)
}

fn str_of<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v?.get(key)?.as_str()
}

fn vendor_word(s: &str) -> Severity {
    Severity::from_redhat(s).unwrap_or_else(|| Severity::from_debian(s))
}

fn convert(rec: Record) -> Advisory {
    let mut adv = Advisory::new(&rec.id, Source::Osv);
    adv.title = rec.summary.unwrap_or_default();
    for id in [rec.aliases, rec.upstream, rec.related]
        .into_iter()
        .flatten()
        .flatten()
    {
        if id != rec.id {
            adv.add_id(&id);
        }
    }
    adv.published = rec.published;
    adv.modified = rec.modified;
    adv.withdrawn = rec.withdrawn.is_some();
    let (title_severity, rest_of_title) = match adv.title.split_once(": ") {
        Some((word, rest)) => match Severity::from_redhat(word) {
            Some(s) => (Some(s), rest),
            None => (None, adv.title.as_str()),
        },
        None => (None, adv.title.as_str()),
    };
    let mut modules = Vec::new();
    for w in rest_of_title.split_whitespace() {
        let w = w.trim_end_matches(',');
        let is_module = w.split_once(':').is_some_and(|(name, stream)| {
            !name.is_empty()
                && !stream.is_empty()
                && w.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"._+-:".contains(&c))
        });
        if is_module && !modules.iter().any(|m| m == w) {
            modules.push(w.to_owned());
        }
    }
    let record_severity = str_of(rec.database_specific.as_ref(), "severity").map(vendor_word);

    for a in rec.affected.into_iter().flatten() {
        let Some(pkg) = a.package else { continue };
        let Some(eco) = ecosystem(&pkg.ecosystem) else {
            let note = format!("skipped ecosystem {}", pkg.ecosystem);
            if !adv.notes.contains(&note) {
                adv.notes.push(note);
            }
            continue;
        };
        let es = a.ecosystem_specific.as_ref();
        let ds = a.database_specific.as_ref();
        let severity = str_of(es, "ubuntu_priority")
            .map(Severity::from_ubuntu)
            .or_else(|| str_of(es, "urgency").map(Severity::from_debian))
            .or_else(|| {
                str_of(es, "severity")
                    .or_else(|| str_of(ds, "severity"))
                    .map(vendor_word)
            });
        let binaries: Vec<String> = es
            .and_then(|v| v.get("binaries"))
            .and_then(Value::as_array)
            .map(|bins| {
                bins.iter()
                    .filter_map(|b| {
                        b.get("binary_name")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let purl = pkg.purl.as_deref().unwrap_or("");
        let name_kind = if purl.contains("arch=source") {
            NameKind::Source
        } else {
            eco.name_kind
        };
        // Ubuntu purls name the pocket: `distro=esm-infra/xenial`,
        // `distro=trusty/esm`.
        let pocket = purl
            .split(['?', '&'])
            .find_map(|q| q.strip_prefix("distro="))
            .filter(|_| eco.distro == "ubuntu")
            .and_then(crate::ubuntu::release_key)
            .and_then(|(_, _, repo)| repo);
        let note = str_of(es, "availability").map(str::to_owned);

        let mut base = Affected::new(
            &eco.distro,
            &eco.release,
            &pkg.name,
            name_kind,
            eco.scheme,
            FixState::Affected,
        );
        base.codename = eco.codename.clone();
        base.repository = pocket.or_else(|| eco.repository.clone());
        base.severity = severity;
        base.binaries = binaries;
        base.note = note;
        base.vendor_status = "ECOSYSTEM".to_owned();

        for range in a.ranges.iter().flatten().filter(|r| r.kind == "ECOSYSTEM") {
            let mut row = base.clone();
            if let Some(repo) = str_of(range.database_specific.as_ref(), "yum_repository") {
                row.repository = Some(repo.to_owned());
            }
            let mut open: Option<Option<String>> = None;
            for ev in &range.events {
                if let Some(v) = &ev.introduced {
                    open = Some((v != "0").then(|| v.clone()));
                } else if let Some(v) = &ev.fixed {
                    let mut r = row.clone();
                    r.introduced = open.take().flatten();
                    r.modular = v.contains(".module");
                    r.state = FixState::Fixed { version: v.clone() };
                    adv.affected.push(r);
                } else if let Some(v) = &ev.last_affected {
                    let mut r = row.clone();
                    r.introduced = open.take().flatten();
                    r.last_affected = Some(v.clone());
                    adv.affected.push(r);
                }
            }
            if let Some(introduced) = open {
                let mut r = row;
                r.introduced = introduced;
                adv.affected.push(r);
            }
        }
    }
    adv.modules = if adv.affected.iter().any(|a| a.scheme == PackageType::Rpm) {
        modules
    } else {
        Vec::new()
    };
    let typed = rec.severity.unwrap_or_default();
    adv.severity = typed
        .iter()
        .find(|s| s.kind.eq_ignore_ascii_case("ubuntu"))
        .map(|s| Severity::from_ubuntu(&s.score))
        .or(title_severity)
        .or(record_severity)
        .or_else(|| adv.max_affected_severity())
        .or_else(|| {
            typed
                .iter()
                .find(|s| s.kind.starts_with("CVSS"))
                .map(|s| Severity::from_cvss(&s.score))
        })
        .unwrap_or_default();
    adv
}

/// An OSV database shipped as a tar archive (after [`compression::decompressed`]).
pub struct TarFeed<R: Read> {
    archive: tar::Archive<R>,
    name: String,
}

impl<R: Read> TarFeed<R> {
    /// `name` is used in error locations (`name: entry/path.json`).
    pub fn new(reader: R, name: &str) -> TarFeed<R> {
        TarFeed {
            archive: tar::Archive::new(reader),
            name: name.to_owned(),
        }
    }

    /// Every `.json` entry parsed as a record, in archive order. A bad record
    /// is an `Err` item and iteration continues; a broken archive ends it.
    pub fn records(&mut self) -> Result<impl Iterator<Item = Result<Advisory, Error>> + '_, Error> {
        crate::archive::tar_files(
            &mut self.archive,
            &self.name,
            MAX_RECORD_BYTES,
            |path| path.ends_with(".json"),
            |bytes, at| Some(parse_record(bytes, at)),
        )
    }
}

/// An OSV database shipped as a zip archive (e.g. osv.dev's `all.zip`).
/// Needs `Seek` to read the central directory; entries are decompressed one
/// at a time.
pub struct ZipFeed<R: Read + Seek> {
    archive: zip::ZipArchive<R>,
    name: String,
}

impl<R: Read + Seek> ZipFeed<R> {
    pub fn new(reader: R, name: &str) -> Result<ZipFeed<R>, Error> {
        let archive = zip::ZipArchive::new(reader).map_err(|e| Error::Zip {
            at: name.to_owned(),
            source: e,
        })?;
        Ok(ZipFeed {
            archive,
            name: name.to_owned(),
        })
    }

    /// Number of entries (files and directories) in the archive.
    pub fn len(&self) -> usize {
        self.archive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.archive.is_empty()
    }

    /// Every `.json` entry parsed as a record; a bad entry is an `Err` item.
    pub fn records(&mut self) -> impl Iterator<Item = Result<Advisory, Error>> + '_ {
        let mut buf = Vec::new();
        (0..self.archive.len()).filter_map(move |i| {
            let mut file = match self.archive.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    return Some(Err(Error::Zip {
                        at: format!("{}: entry {i}", self.name),
                        source: e,
                    }));
                }
            };
            if !file.is_file() || !file.name().ends_with(".json") {
                return None;
            }
            let at = format!("{}: {}", self.name, file.name());
            if file.size() > MAX_RECORD_BYTES {
                return Some(Err(Error::format(at, "entry exceeds the size limit")));
            }
            buf.clear();
            if let Err(e) = file.read_to_end(&mut buf) {
                return Some(Err(Error::io(at, e)));
            }
            Some(parse_record(&buf, &at))
        })
    }
}

/// Reads whatever OSV download `path` is: a single record (optionally
/// compressed), a zip of records, or a (compressed) tar of records. Calls
/// `f` for every record or per-record error and returns how many records
/// were parsed successfully. Errors that stop the whole read are returned.
pub fn read_path(path: &Path, mut f: impl FnMut(Result<Advisory, Error>)) -> Result<usize, Error> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| Error::io(&name, e))?;
    let (kind, _) = compression::sniff_reader(&mut file).map_err(|e| Error::io(&name, e))?;
    file.rewind().map_err(|e| Error::io(&name, e))?;
    let mut ok = 0;
    let mut count = |r: Result<Advisory, Error>| {
        ok += usize::from(r.is_ok());
        f(r);
    };
    if kind == Some(Compression::Zip) {
        let mut feed = ZipFeed::new(BufReader::new(file), &name)?;
        feed.records().for_each(&mut count);
        return Ok(ok);
    }
    let mut reader =
        compression::decompressed(BufReader::new(file)).map_err(|e| Error::io(&name, e))?;
    let (inner, head) = compression::sniff_reader(&mut reader).map_err(|e| Error::io(&name, e))?;
    let reader = std::io::Cursor::new(head).chain(reader);
    if inner == Some(Compression::Tar) {
        let mut feed = TarFeed::new(reader, &name);
        feed.records()?.for_each(&mut count);
    } else {
        count(read_record(reader, &name));
    }
    Ok(ok)
}
