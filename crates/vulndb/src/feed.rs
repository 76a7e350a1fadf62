//! Feed documents to advisories, and the current generations of every
//! feed to one [`AdvisoryIndex`].
//!
//! An import parses the whole document before anything is stored, and any
//! error refuses it: a truncated download must never become the current
//! generation. The same parser then reads the stored documents back when
//! the index is built. OVAL documents are the exception to "parsed into
//! advisories": their parsed [`patchwatch_oval::Document`]s are kept as
//! they are ([`LoadedIndex::oval`], see [`crate::oval_feeds`]).

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchwatch_advisories::compression::{self, Compression};
use patchwatch_advisories::debian::list::{AdvisoryList, ListKind};
use patchwatch_advisories::{Advisory, Source, alpine, debian, osv, ubuntu};
use patchwatch_assess::{AdvisoryIndex, Feed, Finding};
use patchwatch_store::{Database, FeedKind, StoreError};
use sha2::{Digest, Sha256};

use crate::oval_feeds::{OvalFeed, advisory_definitions, parse_oval};

/// Why a document was refused or the index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The parser's message names the file and the entry, line or key.
    #[error(transparent)]
    Parse(#[from] patchwatch_advisories::Error),
    #[error("{name}: {message}")]
    Document { name: String, message: String },
    /// The OVAL parser's message gives the byte offset and the OVAL id.
    #[error("{name}: {source}")]
    Oval {
        name: String,
        #[source]
        source: patchwatch_oval::ParseError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored generation of feed {feed:?} no longer parses")]
    Stored {
        feed: String,
        #[source]
        source: Box<FeedError>,
    },
}

/// Lowercase hex SHA-256 of a document, as the store keeps it.
pub fn sha256_hex(doc: &[u8]) -> String {
    hex::encode(Sha256::digest(doc))
}

/// Parses a whole document of `kind`, handing every advisory to `f`, and
/// returns how many there were. The first error of any record refuses the
/// whole document. `name` labels error positions.
///
/// An OVAL document hands nothing to `f`: it is parsed completely and its
/// vulnerability and patch definitions are counted.
pub fn parse_document(
    kind: FeedKind,
    name: &str,
    doc: &[u8],
    mut f: impl FnMut(Advisory),
) -> Result<usize, FeedError> {
    let io = |e: std::io::Error| FeedError::Document {
        name: name.to_owned(),
        message: e.to_string(),
    };
    let count = match kind {
        FeedKind::Osv => parse_osv(name, doc, &mut f)?,
        FeedKind::DebianTracker => {
            let reader = compression::decompressed(Cursor::new(doc)).map_err(io)?;
            debian::tracker::parse(reader, name, &mut f)?
        }
        FeedKind::DebianDsa | FeedKind::DebianDla => {
            let list = if kind == FeedKind::DebianDsa {
                ListKind::Dsa
            } else {
                ListKind::Dla
            };
            let reader = compression::decompressed(Cursor::new(doc)).map_err(io)?;
            let mut n = 0;
            for adv in AdvisoryList::new(BufReader::new(reader), list, name) {
                f(adv?);
                n += 1;
            }
            n
        }
        FeedKind::AlpineSecdb => {
            let mut reader =
                BufReader::new(compression::decompressed(Cursor::new(doc)).map_err(io)?);
            // secdb is published as JSON and as YAML: a JSON document starts
            // with `{` after optional white space.
            let json = loop {
                let buf = reader.fill_buf().map_err(io)?;
                match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                    Some(i) => break buf[i] == b'{',
                    None if buf.is_empty() => break false,
                    None => {
                        let n = buf.len();
                        reader.consume(n);
                    }
                }
            };
            if json {
                alpine::parse_json(reader, name, &mut f)?
            } else {
                alpine::parse_yaml(reader, name, &mut f)?
            }
        }
        FeedKind::UbuntuTracker => {
            let reader = compression::decompressed(Cursor::new(doc)).map_err(io)?;
            let mut archive = ubuntu::TrackerArchive::new(reader, name);
            let mut n = 0;
            for adv in archive.records()? {
                f(adv?);
                n += 1;
            }
            n
        }
        FeedKind::Oval => advisory_definitions(&parse_oval(name, doc)?),
    };
    if count == 0 {
        // An empty or mislabelled file would silently drop every finding.
        return Err(FeedError::Document {
            name: name.to_owned(),
            message: format!("no {kind} advisories found"),
        });
    }
    Ok(count)
}

/// OSV comes as one record, a zip of records or a (compressed) tar of them.
fn parse_osv(name: &str, doc: &[u8], f: &mut impl FnMut(Advisory)) -> Result<usize, FeedError> {
    let io = |e: std::io::Error| FeedError::Document {
        name: name.to_owned(),
        message: e.to_string(),
    };
    let mut n = 0;
    let mut take = |r: Result<Advisory, patchwatch_advisories::Error>| -> Result<(), FeedError> {
        f(r?);
        n += 1;
        Ok(())
    };
    if compression::sniff(doc) == Some(Compression::Zip) {
        let mut zip = osv::ZipFeed::new(Cursor::new(doc), name)?;
        for r in zip.records() {
            take(r)?;
        }
        return Ok(n);
    }
    let mut reader = compression::decompressed(Cursor::new(doc)).map_err(io)?;
    let (inner, head) = compression::sniff_reader(&mut reader).map_err(io)?;
    let reader = Cursor::new(head).chain(reader);
    if inner == Some(Compression::Tar) {
        let mut tar = osv::TarFeed::new(reader, name);
        for r in tar.records()? {
            take(r)?;
        }
    } else {
        take(osv::read_record(reader, name))?;
    }
    Ok(n)
}

/// The index over every enabled feed's current generation.
pub struct LoadedIndex {
    pub index: AdvisoryIndex,
    /// A digest of every advisory's content by (source, id): comparing two
    /// loads tells which advisories a feed update changed.
    pub fingerprints: HashMap<(Source, String), u64>,
    /// The OVAL feeds' documents, evaluated per package set.
    pub oval: Vec<OvalFeed>,
    /// Feed names by the source kind findings report, to name the feed a
    /// finding came from.
    pub feeds_by_source: BTreeMap<&'static str, Vec<String>>,
    pub feeds: usize,
    pub advisories: usize,
    pub elapsed: Duration,
}

impl LoadedIndex {
    /// The feed names behind a finding's source kind (`osv`), comma-joined.
    pub fn feed_name(&self, source: &str) -> String {
        self.feeds_by_source
            .get(source)
            .map_or_else(|| source.to_owned(), |names| names.join(","))
    }

    /// The feed a finding came from: for OVAL the one feed whose document
    /// made it (its data scope), otherwise [`LoadedIndex::feed_name`].
    pub fn finding_feed(&self, f: &Finding) -> String {
        if f.feed() == Feed::Oval && self.oval.iter().any(|o| o.name == f.data()) {
            return f.data().to_owned();
        }
        self.feed_name(f.feed().as_str())
    }
}

fn source_name(s: Source) -> &'static str {
    patchwatch_assess::Feed::Advisory(s).as_str()
}

/// A digest of an advisory's whole content, streamed through the hasher
/// without building the serialised text.
fn fingerprint(adv: &Advisory) -> u64 {
    struct HashWriter(DefaultHasher);
    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = HashWriter(DefaultHasher::new());
    // Serialising plain data into a writer that cannot fail cannot fail.
    let _ = serde_json::to_writer(&mut w, adv);
    w.0.finish()
}

/// Reads the current generations from the database and builds the index
/// (parsing on a blocking thread: it is CPU work).
pub async fn load_index(db: &dyn Database) -> Result<LoadedIndex, FeedError> {
    Ok(load_index_since(db, None).await?.0)
}

/// Advisories that differ between two loads: new or changed ones as they
/// are now, and removed ones as withdrawn stubs (the previous index knows
/// which names they named). `None` when there was nothing to compare with.
pub type Changes = Option<Vec<Advisory>>;

/// [`load_index`], also returning what changed since `previous`.
pub async fn load_index_since(
    db: &dyn Database,
    previous: Option<Arc<LoadedIndex>>,
) -> Result<(LoadedIndex, Changes), FeedError> {
    let start = Instant::now();
    let documents = db.current_documents().await?;
    let read = start.elapsed();
    let (mut loaded, changes) = tokio::task::spawn_blocking(move || {
        let previous = previous.as_deref();
        let mut fingerprints: HashMap<(Source, String), u64> = HashMap::new();
        let mut changed: Vec<Advisory> = Vec::new();
        let mut builder = AdvisoryIndex::builder();
        let mut feeds_by_source: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut oval = Vec::new();
        let mut advisories = 0;
        let feeds = documents.len();
        for (feed, doc) in documents {
            let stored = |e: FeedError| FeedError::Stored {
                feed: feed.name.clone(),
                source: Box::new(e),
            };
            if feed.kind == FeedKind::Oval {
                let o = OvalFeed::new(
                    feed.name.clone(),
                    parse_oval(&feed.name, &doc).map_err(stored)?,
                );
                advisories += o.definitions;
                feeds_by_source
                    .entry(Feed::Oval.as_str())
                    .or_default()
                    .push(feed.name.clone());
                oval.push(o);
                continue;
            }
            let mut sources = Vec::new();
            let n = parse_document(feed.kind, &feed.name, &doc, |a| {
                if !sources.contains(&a.source) {
                    sources.push(a.source);
                }
                let fp = fingerprint(&a);
                let key = (a.source, a.id.clone());
                if let Some(prev) = previous
                    && prev.fingerprints.get(&key) != Some(&fp)
                {
                    changed.push(a.clone());
                }
                fingerprints.insert(key, fp);
                builder.add(a);
            })
            .map_err(stored)?;
            advisories += n;
            for s in sources {
                feeds_by_source
                    .entry(source_name(s))
                    .or_default()
                    .push(feed.name.clone());
            }
        }
        let changes = previous.map(|prev| {
            for (source, id) in prev.fingerprints.keys() {
                if !fingerprints.contains_key(&(*source, id.clone())) {
                    let mut gone = Advisory::new(id, *source);
                    gone.withdrawn = true;
                    changed.push(gone);
                }
            }
            changed
        });
        Ok::<_, FeedError>((
            LoadedIndex {
                index: builder.build(),
                fingerprints,
                oval,
                feeds_by_source,
                feeds,
                advisories,
                elapsed: Duration::ZERO,
            },
            changes,
        ))
    })
    .await
    .map_err(|e| FeedError::Document {
        name: "index".into(),
        message: format!("building the index failed: {e}"),
    })??;
    loaded.elapsed = start.elapsed();
    tracing::info!(
        feeds = loaded.feeds,
        oval_feeds = loaded.oval.len(),
        advisories = loaded.advisories,
        read_ms = read.as_millis() as u64,
        total_ms = loaded.elapsed.as_millis() as u64,
        "advisory index loaded from the database"
    );
    Ok((loaded, changes))
}

/// Checks and canonicalises a CVE id: `CVE-YYYY-NNNN` (4 or more digits
/// after the year), case-insensitive on input. The store owns the rule, as
/// it refuses malformed ids in tag assignments and exceptions.
pub fn parse_cve_id(raw: &str) -> Option<String> {
    patchwatch_store::parse_cve_id(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert_eq!(
            parse_cve_id("cve-2024-12797").as_deref(),
            Some("CVE-2024-12797")
        );
        assert!(parse_cve_id("CVE-2024-123").is_none());
        assert!(parse_cve_id("CVE-24-1234").is_none());
        assert!(parse_cve_id("ALSA-2025:1330").is_none());
        assert!(parse_cve_id("CVE-2024-12797x").is_none());
    }

    #[test]
    fn broken_documents_are_refused() {
        let err = parse_document(
            FeedKind::DebianTracker,
            "t.json",
            b"{\"openssl\": {",
            |_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("t.json"), "{err}");
        let err = parse_document(FeedKind::Osv, "x.json", b"", |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json"), "{err}");
        assert_eq!(sha256_hex(b"").len(), 64);
    }
}
