//! Alpine secdb (<https://secdb.alpinelinux.org/>): one document per release
//! and repository, `{distroversion, reponame, archs, packages: [{pkg: {name,
//! secfixes: {fixed-version: [CVE …]}}}]}`, as JSON (current) or YAML (the
//! legacy alpine-secdb repository, up to v3.11).
//!
//! Mapping decisions:
//! * One [`Advisory`] per secfix (package + fixed version), id
//!   `v3.9/main/ansible/2.7.13-r0` (release/repository/package/version),
//!   because that is the unit the vendor states; its CVEs are all fixed by
//!   that version. The single [`Affected`] row has distro `alpine`, release
//!   `3.9` (edge stays `edge`), repository `main`, the source (origin)
//!   package, scheme apk and the document's `archs`.
//! * Fixed version `0` -> [`FixState::NotAffected`] (the package was never
//!   vulnerable in that release).
//! * Ids are normalised (`CVE 2018-16859`, `CVE_2019-2426` ->
//!   `CVE-2018-16859`, `CVE-2019-2426`); non-CVE ids (`XSA-214`,
//!   `TALOS-2017-0499`) go to aliases; every entry that had to be
//!   normalised is recorded in [`Advisory::notes`] as `normalised id "…"`.
//! * secdb has no severity: [`crate::SeverityLevel::Unknown`].
//!
//! Both readers stream package by package. The header fields come first in
//! every real file; if a document lists `packages` before `distroversion`,
//! packages are buffered until the header is complete.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use patchwatch_reports::model::PackageType;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use yaml_rust2::parser::Parser;
use yaml_rust2::{Event, ScanError};

use crate::advisory::{Advisory, Affected, FixState, NameKind, Source};
use crate::error::Error;
use crate::ids;
use crate::release;

/// One package's secfixes: (fixed version, raw id strings).
type Secfixes = Vec<(String, Vec<String>)>;

#[derive(Default)]
struct Header {
    distroversion: Option<String>,
    reponame: Option<String>,
    archs: Vec<String>,
}

/// Collects packages and emits advisories once the header is known.
struct Emitter<'f, F> {
    header: Header,
    buffered: Vec<(String, Secfixes)>,
    f: &'f mut F,
    count: usize,
}

impl<F: FnMut(Advisory)> Emitter<'_, F> {
    fn package(&mut self, name: String, fixes: Secfixes) {
        if self.header.distroversion.is_none() || self.header.reponame.is_none() {
            self.buffered.push((name, fixes));
            return;
        }
        let v = self.header.distroversion.as_deref().unwrap_or_default();
        let repo = self.header.reponame.as_deref().unwrap_or_default();
        let release = release::alpine_release(v);
        for (version, raw_ids) in fixes {
            let mut adv =
                Advisory::new(&format!("{v}/{repo}/{name}/{version}"), Source::AlpineSecdb);
            adv.title = format!("{name} {version}");
            for raw in &raw_ids {
                let (cves, others, odd) = ids::split_ids(raw);
                for id in cves.iter().chain(&others) {
                    adv.add_id(id);
                }
                if odd && !(cves.is_empty() && others.len() == 1) {
                    adv.notes.push(format!("normalised id {raw:?}"));
                }
            }
            let state = if version == "0" {
                FixState::NotAffected
            } else {
                FixState::Fixed { version }
            };
            let mut row = Affected::new(
                "alpine",
                &release,
                &name,
                NameKind::Source,
                PackageType::Apk,
                state,
            );
            row.repository = Some(repo.to_owned());
            row.arch = self.header.archs.clone();
            row.vendor_status = "secfixes".to_owned();
            adv.affected.push(row);
            (self.f)(adv);
            self.count += 1;
        }
    }

    fn finish(mut self, at: &str) -> Result<usize, Error> {
        if !self.buffered.is_empty() {
            if self.header.distroversion.is_none() || self.header.reponame.is_none() {
                return Err(Error::format(
                    at,
                    "secdb document without distroversion/reponame",
                ));
            }
            for (name, fixes) in std::mem::take(&mut self.buffered) {
                self.package(name, fixes);
            }
        }
        Ok(self.count)
    }
}

// ---------------------------------------------------------------- JSON

#[derive(Deserialize)]
struct JsonPackage {
    pkg: JsonPkg,
}

#[derive(Deserialize)]
struct JsonPkg {
    name: String,
    /// Sorted by version string: JSON object order carries no meaning here.
    #[serde(default)]
    secfixes: Option<std::collections::BTreeMap<String, Ids>>,
}

/// The id list of one secfix. Real files also write `{}` or `null` for
/// "no ids"; anything that is not a string is ignored.
#[derive(Default)]
struct Ids(Vec<String>);

impl<'de> serde::Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ids, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ids;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of ids")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ids, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<serde_json::Value>()? {
                    if let serde_json::Value::String(s) = item {
                        out.push(s);
                    }
                }
                Ok(Ids(out))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ids, E> {
                Ok(Ids(vec![v.to_owned()]))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ids, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Ids::default())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Ids, E> {
                Ok(Ids::default())
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Ids, E> {
                Ok(Ids::default())
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Ids, E> {
                Ok(Ids::default())
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Ids, E> {
                Ok(Ids::default())
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Ids, E> {
                Ok(Ids::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de, F: FnMut(Advisory)> Visitor<'de> for &mut Emitter<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Alpine secdb document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "distroversion" => self.header.distroversion = Some(map.next_value()?),
                "reponame" => self.header.reponame = Some(map.next_value()?),
                "archs" => self.header.archs = map.next_value()?,
                "packages" => map.next_value_seed(Packages(&mut *self))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Packages<'e, 'f, F>(&'e mut Emitter<'f, F>);

impl<'de, F: FnMut(Advisory)> DeserializeSeed<'de> for Packages<'_, '_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // `deserialize_any`: an empty document writes `packages: {}`.
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(Advisory)> Visitor<'de> for Packages<'_, '_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of packages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(p) = seq.next_element::<JsonPackage>()? {
            let fixes = p.pkg.secfixes.unwrap_or_default();
            let fixes = fixes.into_iter().map(|(v, ids)| (v, ids.0)).collect();
            self.0.package(p.pkg.name, fixes);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Streams an Alpine secdb JSON document; calls `f` per secfix advisory and
/// returns how many there were.
pub fn parse_json<R: Read>(
    reader: R,
    name: &str,
    mut f: impl FnMut(Advisory),
) -> Result<usize, Error> {
    let mut em = Emitter {
        header: Header::default(),
        buffered: Vec::new(),
        f: &mut f,
        count: 0,
    };
    let mut de = serde_json::Deserializer::from_reader(io::BufReader::new(reader));
    de.deserialize_map(&mut em)
        .and_then(|()| de.end())
        .map_err(|e| Error::json(name, e))?;
    em.finish(name)
}

// ---------------------------------------------------------------- YAML

/// UTF-8 decoding char iterator for the YAML scanner, which wants chars.
/// An I/O error ends the input and is kept for the caller to report.
struct Chars<R> {
    reader: R,
    error: Rc<RefCell<Option<io::Error>>>,
}

impl<R: BufRead> Chars<R> {
    fn byte(&mut self) -> Option<u8> {
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    *self.error.borrow_mut() = Some(e);
                    return None;
                }
            };
            let b = *buf.first()?;
            self.reader.consume(1);
            return Some(b);
        }
    }
}

impl<R: BufRead> Iterator for Chars<R> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        let first = self.byte()?;
        let (len, init) = match first {
            0x00..=0x7f => return Some(first as char),
            0xc0..=0xdf => (1, u32::from(first & 0x1f)),
            0xe0..=0xef => (2, u32::from(first & 0x0f)),
            0xf0..=0xf7 => (3, u32::from(first & 0x07)),
            _ => return Some(char::REPLACEMENT_CHARACTER),
        };
        let mut cp = init;
        for _ in 0..len {
            match self.byte() {
                Some(b) if b & 0xc0 == 0x80 => cp = (cp << 6) | u32::from(b & 0x3f),
                _ => return Some(char::REPLACEMENT_CHARACTER),
            }
        }
        Some(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER))
    }
}

struct Yaml<R: BufRead> {
    parser: Parser<Chars<R>>,
    error: Rc<RefCell<Option<io::Error>>>,
    name: String,
}

impl<R: BufRead> Yaml<R> {
    fn next(&mut self) -> Result<Event, Error> {
        let r = self.parser.next_token();
        if let Some(e) = self.error.borrow_mut().take() {
            return Err(Error::io(&self.name, e));
        }
        r.map(|(ev, _)| ev).map_err(|e: ScanError| Error::Yaml {
            at: format!(
                "{}:{}:{}",
                self.name,
                e.marker().line(),
                e.marker().col() + 1
            ),
            message: e.info().to_owned(),
        })
    }

    fn unexpected(&self, what: &str, ev: &Event) -> Error {
        Error::Yaml {
            at: self.name.clone(),
            message: format!("expected {what}, found {ev:?}"),
        }
    }

    /// Skips the rest of a node whose first event was `first`.
    fn skip(&mut self, first: Event) -> Result<(), Error> {
        let mut depth = match first {
            Event::SequenceStart(..) | Event::MappingStart(..) => 1,
            _ => return Ok(()),
        };
        while depth > 0 {
            match self.next()? {
                Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                Event::StreamEnd => return Err(self.unexpected("end of node", &Event::StreamEnd)),
                _ => {}
            }
        }
        Ok(())
    }

    fn scalar(&mut self) -> Result<Option<String>, Error> {
        match self.next()? {
            Event::Scalar(s, ..) => Ok(Some(s)),
            other => self.skip(other).map(|()| None),
        }
    }

    /// A sequence of scalars, a single scalar (as one item) or null.
    fn scalars(&mut self) -> Result<Vec<String>, Error> {
        match self.next()? {
            Event::Scalar(s, ..) => Ok(if s.is_empty() || s == "~" || s == "null" {
                Vec::new()
            } else {
                vec![s]
            }),
            Event::SequenceStart(..) => {
                let mut out = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => return Ok(out),
                        Event::Scalar(s, ..) => out.push(s),
                        other => self.skip(other)?,
                    }
                }
            }
            other => self.skip(other).map(|()| Vec::new()),
        }
    }

    /// `{pkg: {name, secfixes}}`; returns `None` for items of another shape.
    fn package(&mut self) -> Result<Option<(String, Secfixes)>, Error> {
        let (mut name, mut fixes) = (None, Vec::new());
        loop {
            match self.next()? {
                Event::MappingEnd => break,
                Event::Scalar(k, ..) if k == "pkg" => match self.next()? {
                    Event::MappingStart(..) => loop {
                        match self.next()? {
                            Event::MappingEnd => break,
                            Event::Scalar(k, ..) if k == "name" => name = self.scalar()?,
                            Event::Scalar(k, ..) if k == "secfixes" => match self.next()? {
                                Event::MappingStart(..) => loop {
                                    match self.next()? {
                                        Event::MappingEnd => break,
                                        Event::Scalar(version, ..) => {
                                            fixes.push((version, self.scalars()?))
                                        }
                                        other => {
                                            return Err(self.unexpected("fixed version", &other));
                                        }
                                    }
                                },
                                other => self.skip(other)?,
                            },
                            Event::Scalar(..) => {
                                let v = self.next()?;
                                self.skip(v)?;
                            }
                            other => return Err(self.unexpected("pkg key", &other)),
                        }
                    },
                    other => self.skip(other)?,
                },
                Event::Scalar(..) => {
                    let v = self.next()?;
                    self.skip(v)?;
                }
                other => return Err(self.unexpected("package key", &other)),
            }
        }
        Ok(name.map(|n| (n, fixes)))
    }
}

/// Streams an Alpine secdb YAML document (event parser, no tree); calls `f`
/// per secfix advisory and returns how many there were. Fixed versions are
/// read as written (`1.10-r0` stays a string).
pub fn parse_yaml<R: BufRead>(
    reader: R,
    name: &str,
    mut f: impl FnMut(Advisory),
) -> Result<usize, Error> {
    let error = Rc::new(RefCell::new(None));
    let parser = Parser::new(Chars {
        reader,
        error: Rc::clone(&error),
    });
    let mut y = Yaml {
        parser,
        error,
        name: name.to_owned(),
    };
    let mut em = Emitter {
        header: Header::default(),
        buffered: Vec::new(),
        f: &mut f,
        count: 0,
    };
    // Stream start, optional document start, then the top-level mapping.
    loop {
        match y.next()? {
            Event::StreamStart | Event::DocumentStart => {}
            Event::MappingStart(..) => break,
            Event::StreamEnd => return em.finish(name),
            other => return Err(y.unexpected("a mapping", &other)),
        }
    }
    loop {
        match y.next()? {
            Event::MappingEnd => break,
            Event::Scalar(k, ..) => match k.as_str() {
                "distroversion" => em.header.distroversion = y.scalar()?,
                "reponame" => em.header.reponame = y.scalar()?,
                "archs" => em.header.archs = y.scalars()?,
                "packages" => match y.next()? {
                    Event::SequenceStart(..) => loop {
                        match y.next()? {
                            Event::SequenceEnd => break,
                            Event::MappingStart(..) => {
                                if let Some((n, fixes)) = y.package()? {
                                    em.package(n, fixes);
                                }
                            }
                            other => y.skip(other)?,
                        }
                    },
                    other => y.skip(other)?,
                },
                _ => {
                    let v = y.next()?;
                    y.skip(v)?;
                }
            },
            other => return Err(y.unexpected("a key", &other)),
        }
    }
    em.finish(name)
}
