//! The Debian security tracker's JSON dump (`/tracker/data/json`):
//! `{srcpkg: {CVE-or-TEMP-id: {description, scope, debianbug,
//! releases: {codename: {status, repositories, fixed_version, urgency,
//! nodsa, nodsa_reason}}}}}`.
//!
//! The real file is about 100 MB, so it is read with a serde visitor over the
//! top-level map: one `(srcpkg, CVE)` entry is in memory at a time and is
//! handed to the callback as one [`Advisory`] (id = the CVE id, one
//! [`Affected`] row per release). The same CVE under two source packages
//! gives two advisories with the same id; the matcher merges by id.
//!
//! Mapping of `status` (per release):
//! * `resolved` + `fixed_version: "0"` -> [`FixState::NotAffected`] (the
//!   tracker's way of saying the release never had the vulnerable code);
//!   `resolved` + version -> [`FixState::Fixed`].
//! * `open` -> [`FixState::Affected`], refined by the no-DSA fields: `nodsa`
//!   with `nodsa_reason: ignored` -> [`FixState::WillNotFix`], `postponed`
//!   -> [`FixState::Deferred`], empty reason -> [`FixState::NoAdvisory`]
//!   (`nodsa` text kept as the note); urgency `end-of-life` ->
//!   [`FixState::EndOfLife`].
//! * `undetermined` (and anything unknown) -> [`FixState::UnderInvestigation`].
//! * Urgency (`unimportant`, `low`, `medium`, `high`, `not yet assigned`, with
//!   `*`/`**` NVD-guess marks) becomes the row's severity; the advisory
//!   severity is the highest row severity.

use std::fmt;
use std::io::Read;

use patchwatch_reports::model::PackageType;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::advisory::{Advisory, Affected, FixState, NameKind, Severity, Source};
use crate::error::Error;
use crate::release;

#[derive(Deserialize)]
struct Entry {
    description: Option<String>,
    #[serde(default, deserialize_with = "map_or_empty_list")]
    releases: Vec<(String, ReleaseEntry)>,
}

#[derive(Deserialize)]
struct ReleaseEntry {
    status: Option<String>,
    fixed_version: Option<String>,
    urgency: Option<String>,
    nodsa: Option<String>,
    nodsa_reason: Option<String>,
}

/// The tracker writes an empty `releases` as `[]` (a PHP-ism); accept a map
/// or any list (its items are ignored).
fn map_or_empty_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, ReleaseEntry)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, ReleaseEntry)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of releases or an empty list")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, ReleaseEntry>()? {
                out.push((k, v));
            }
            Ok(out)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

/// Maps one release entry of the tracker to a row.
fn row(pkg: &str, codename: &str, r: ReleaseEntry) -> Affected {
    let status = r.status.unwrap_or_default();
    let urgency = r.urgency.unwrap_or_default();
    let reason = r.nodsa_reason.unwrap_or_default();
    let (state, vendor_status) = match status.as_str() {
        "resolved" => match r.fixed_version {
            Some(v) if v == "0" => (FixState::NotAffected, "resolved".to_owned()),
            Some(v) => (FixState::Fixed { version: v }, "resolved".to_owned()),
            None => (
                FixState::UnderInvestigation,
                "resolved (no version)".to_owned(),
            ),
        },
        "open" if urgency == "end-of-life" => (FixState::EndOfLife, "open".to_owned()),
        "open" if r.nodsa.is_some() => {
            let state = match reason.as_str() {
                "ignored" => FixState::WillNotFix,
                "postponed" => FixState::Deferred,
                _ => FixState::NoAdvisory,
            };
            let raw = if reason.is_empty() {
                "open/nodsa".to_owned()
            } else {
                format!("open/nodsa:{reason}")
            };
            (state, raw)
        }
        "open" => (FixState::Affected, "open".to_owned()),
        other => (FixState::UnderInvestigation, other.to_owned()),
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
    a.vendor_status = vendor_status;
    a.note = r.nodsa.filter(|s| !s.is_empty());
    if !urgency.is_empty() {
        a.severity = Some(Severity::from_debian(&urgency));
    }
    a
}

fn convert(pkg: &str, id: &str, e: Entry) -> Advisory {
    let mut adv = Advisory::new(id, Source::DebianTracker);
    adv.add_id(id);
    adv.title = e.description.unwrap_or_default();
    adv.affected = e
        .releases
        .into_iter()
        .map(|(codename, r)| row(pkg, &codename, r))
        .collect();
    adv.severity = adv.max_affected_severity().unwrap_or_default();
    adv
}

struct Top<'f, F> {
    f: &'f mut F,
    count: usize,
    last: String,
}

impl<'de, F: FnMut(Advisory)> Visitor<'de> for &mut Top<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of source packages")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(pkg) = map.next_key::<String>()? {
            map.next_value_seed(Package {
                top: &mut *self,
                pkg: &pkg,
            })?;
        }
        Ok(())
    }
}

struct Package<'t, 'f, F> {
    top: &'t mut Top<'f, F>,
    pkg: &'t str,
}

impl<'de, F: FnMut(Advisory)> DeserializeSeed<'de> for Package<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Advisory)> Visitor<'de> for Package<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of CVE entries")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(id) = map.next_key::<String>()? {
            self.top.last.clear();
            self.top.last.push_str(self.pkg);
            self.top.last.push('/');
            self.top.last.push_str(&id);
            let entry: Entry = map.next_value()?;
            (self.top.f)(convert(self.pkg, &id, entry));
            self.top.count += 1;
        }
        Ok(())
    }
}

/// Streams the tracker JSON from `reader`, calling `f` once per
/// `(source package, CVE)` entry; returns the number of entries. `name`
/// labels errors, which also name the last entry read successfully.
/// Malformed JSON stops the parse (the rest of a JSON document cannot be
/// located reliably).
pub fn parse<R: Read>(reader: R, name: &str, mut f: impl FnMut(Advisory)) -> Result<usize, Error> {
    let mut top = Top {
        f: &mut f,
        count: 0,
        last: String::new(),
    };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let result = de.deserialize_map(&mut top).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(top.count),
        Err(e) => {
            let at = if top.last.is_empty() {
                name.to_owned()
            } else {
                format!("{name}: after {}", top.last)
            };
            Err(Error::json(at, e))
        }
    }
}
