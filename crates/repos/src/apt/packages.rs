//! Streaming `Packages` index reader: decompresses (plain, gzip, xz, bzip2,
//! zstd, recognised by magic number), hashes and parses in one pass over
//! fixed-size chunks, so memory stays bounded by the result, not the file.

use std::cell::Cell;
use std::io::{self, Read};
use std::sync::mpsc;

use memchr::memchr;
use patchwatch_reports::{Package, PackageType};
use sha2::{Digest, Sha256};

use super::release::ReleaseFile;
use crate::error::RepoError;
use crate::model::AvailablePackage;

/// How much decompressed text is read per step; a stanza longer than this
/// just grows the buffer.
const CHUNK: usize = 1 << 20;

/// What the Release says the file must be: the entry for the file as
/// stored (`Packages.xz`) and the entry for its decompressed content
/// (`Packages`). The file is accepted when either matches; mirrors and
/// caches recompress indexes, so the content entry is the one that usually
/// decides.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expected<'a> {
    pub stored: Option<&'a ReleaseFile>,
    pub content: Option<&'a ReleaseFile>,
}

/// Reads a `Packages` index, verifying it against `expected` (when it names
/// anything). `file` names it in errors.
///
/// Decompression runs on its own thread, handing over fixed-size chunks
/// while this one hashes and parses them: xz decoding is the larger half of
/// the work, so the two overlap on two cores.
pub fn read_packages<R: Read + Send>(
    file: &str,
    reader: R,
    expected: Expected<'_>,
) -> Result<Vec<AvailablePackage>, RepoError> {
    let mut stored = Hashing::default();
    let mut content = Hashing::default();
    let packages = std::thread::scope(|scope| {
        let (chunks, received) = mpsc::sync_channel::<Chunk>(4);
        let stored = &mut stored;
        let producer = scope.spawn(move || decompress_into(reader, stored, &chunks));
        let parsed = parse_chunks(file, &received, &mut content);
        // An early parse error stops the producer at its next send.
        drop(received);
        match producer.join() {
            Ok(()) => parsed,
            Err(_) => Err(RepoError::Corrupt {
                file: file.to_owned(),
                source: io::Error::other("the decompressor failed (panicked)"),
            }),
        }
    })?;
    verify(file, expected, stored, content)?;
    Ok(packages)
}

/// What the decompression thread hands over.
enum Chunk {
    Text(Vec<u8>),
    /// Reading the input failed (an I/O error, not damaged data).
    Unreadable(io::Error),
    /// The compressed data is damaged or cut short.
    Corrupt(io::Error),
}

fn decompress_into<R: Read>(reader: R, stored: &mut Hashing, chunks: &mpsc::SyncSender<Chunk>) {
    let input_failed = Cell::new(false);
    let raw = HashingReader {
        inner: reader,
        state: stored,
        failed: &input_failed,
    };
    let mut text = match patchwatch_advisories::decompressed(raw) {
        Ok(t) => t,
        Err(e) => {
            let _ = chunks.send(Chunk::Unreadable(e));
            return;
        }
    };
    loop {
        let mut chunk = vec![0; CHUNK];
        let message = match read_full(&mut text, &mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                Chunk::Text(chunk)
            }
            // Reading the file itself failed: not the data's fault.
            Err(e) if input_failed.get() => Chunk::Unreadable(e),
            Err(e) => Chunk::Corrupt(e),
        };
        let failed = !matches!(message, Chunk::Text(_));
        if chunks.send(message).is_err() || failed {
            return;
        }
    }
}

#[derive(Default)]
struct Hashing {
    sha256: Sha256,
    len: u64,
}

impl Hashing {
    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.len += bytes.len() as u64;
    }
}

struct HashingReader<'h, R> {
    inner: R,
    state: &'h mut Hashing,
    /// Set when the underlying read fails, to tell an I/O error from
    /// damaged data once the decoder passes it on.
    failed: &'h Cell<bool>,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed.set(true);
            }
        })?;
        self.state.update(&buf[..n]);
        Ok(n)
    }
}

fn verify(
    file: &str,
    expected: Expected<'_>,
    stored: Hashing,
    content: Hashing,
) -> Result<(), RepoError> {
    let stored_sum = hex::encode(stored.sha256.finalize());
    let content_sum = hex::encode(content.sha256.finalize());
    let matches =
        |e: &ReleaseFile, sum: &str, len: u64| e.size == len && e.sha256.eq_ignore_ascii_case(sum);
    if expected
        .stored
        .is_some_and(|e| matches(e, &stored_sum, stored.len))
        || expected
            .content
            .is_some_and(|e| matches(e, &content_sum, content.len))
    {
        return Ok(());
    }
    // Report against the content entry when there is one: it is the one
    // a recompressed file can still match.
    let (entry, sum, len) = match (expected.content, expected.stored) {
        (Some(e), _) => (e, content_sum, content.len),
        (None, Some(e)) => (e, stored_sum, stored.len),
        (None, None) => return Ok(()),
    };
    Err(RepoError::Checksum {
        file: file.to_owned(),
        algorithm: "SHA256".into(),
        expected: format!("{} ({} bytes, as {})", entry.sha256, entry.size, entry.path),
        actual: format!("{sum} ({len} bytes)"),
    })
}

/// Parses the chunks as they arrive, every complete stanza as soon as it
/// is in the buffer; the rest waits for the next chunk.
fn parse_chunks(
    file: &str,
    chunks: &mpsc::Receiver<Chunk>,
    content: &mut Hashing,
) -> Result<Vec<AvailablePackage>, RepoError> {
    let mut parser = StanzaParser {
        file,
        line: 1,
        out: Vec::new(),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    // The sender is dropped when the input ends.
    while let Ok(chunk) = chunks.recv() {
        let text = match chunk {
            Chunk::Text(text) => text,
            Chunk::Unreadable(source) => {
                return Err(RepoError::Io {
                    file: file.to_owned(),
                    source,
                });
            }
            Chunk::Corrupt(source) => {
                return Err(RepoError::Corrupt {
                    file: file.to_owned(),
                    source,
                });
            }
        };
        content.update(&text);
        buf.extend_from_slice(&text);
        // Everything up to the last blank line is whole stanzas.
        if let Some(end) = memchr::memmem::rfind(&buf, b"\n\n") {
            parser.parse(&buf[..end + 2])?;
            buf.drain(..end + 2);
        }
    }
    parser.parse(&buf)?;
    Ok(parser.out)
}

/// `read` until `buf` is full or the input ends: decoders return short
/// reads, and few large steps keep the stanza scan cheap.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

struct StanzaParser<'f> {
    file: &'f str,
    /// Line number of the next line to parse, for errors.
    line: usize,
    out: Vec<AvailablePackage>,
}

#[derive(Default)]
struct Fields<'a> {
    package: &'a [u8],
    version: &'a [u8],
    architecture: &'a [u8],
    source: &'a [u8],
    multi_arch: &'a [u8],
    phased: &'a [u8],
    first_line: usize,
    any: bool,
}

impl StanzaParser<'_> {
    fn parse(&mut self, mut text: &[u8]) -> Result<(), RepoError> {
        let mut fields = Fields::default();
        while !text.is_empty() {
            let end = memchr(b'\n', text).unwrap_or(text.len());
            let mut line = &text[..end];
            text = &text[(end + 1).min(text.len())..];
            let line_no = self.line;
            self.line += 1;
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            if line.is_empty() {
                self.finish(&mut fields)?;
                continue;
            }
            if !fields.any {
                fields.any = true;
                fields.first_line = line_no;
            }
            let first = line[0];
            if first == b' ' || first == b'\t' || first == b'#' {
                // Continuation lines (Description) and comments.
                continue;
            }
            if !matches!(first | 0x20, b'p' | b'v' | b'a' | b's' | b'm') {
                continue;
            }
            let Some(colon) = memchr(b':', line) else {
                return Err(self.error(line_no, "not a `Field: value` line"));
            };
            let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
            let slot = if name.eq_ignore_ascii_case(b"Package") {
                &mut fields.package
            } else if name.eq_ignore_ascii_case(b"Version") {
                &mut fields.version
            } else if name.eq_ignore_ascii_case(b"Architecture") {
                &mut fields.architecture
            } else if name.eq_ignore_ascii_case(b"Source") {
                &mut fields.source
            } else if name.eq_ignore_ascii_case(b"Multi-Arch") {
                &mut fields.multi_arch
            } else if name.eq_ignore_ascii_case(b"Phased-Update-Percentage") {
                &mut fields.phased
            } else {
                continue;
            };
            *slot = value;
        }
        self.finish(&mut fields)
    }

    fn finish(&mut self, fields: &mut Fields<'_>) -> Result<(), RepoError> {
        if !fields.any {
            return Ok(());
        }
        let f = std::mem::take(fields);
        let line = f.first_line;
        let text = |what: &str, bytes: &[u8]| -> Result<String, RepoError> {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| self.error(line, &format!("{what} is not UTF-8")))
        };
        for (what, value) in [
            ("Package", f.package),
            ("Version", f.version),
            ("Architecture", f.architecture),
        ] {
            if value.is_empty() {
                return Err(self.error(line, &format!("stanza without {what}")));
            }
        }
        let name = text("Package", f.package)?;
        let version = text("Version", f.version)?;
        let (epoch, upstream, revision) = Package::split_evr(PackageType::Deb, &version);
        // `Source: name (version)` when the source version differs.
        let source = text("Source", f.source)?;
        let (source_name, source_version) = match source.split_once(" (") {
            Some((n, v)) => (n.trim().to_owned(), v.trim_end_matches(')').to_owned()),
            None if source.is_empty() => (name.clone(), version.clone()),
            None => (source, version),
        };
        let phased_percentage = if f.phased.is_empty() {
            None
        } else {
            match std::str::from_utf8(f.phased)
                .ok()
                .and_then(|p| p.parse::<u8>().ok())
            {
                Some(p) if p <= 100 => Some(p),
                _ => {
                    return Err(self.error(line, "Phased-Update-Percentage is not 0..100"));
                }
            }
        };
        let arch = text("Architecture", f.architecture)?;
        let multi_arch = text("Multi-Arch", f.multi_arch)?;
        self.out.push(AvailablePackage {
            package: Package {
                name,
                epoch,
                version: upstream,
                release: revision,
                arch,
                kind: PackageType::Deb,
                source_name,
                source_version,
            },
            module: None,
            phased_percentage,
            multi_arch,
        });
        Ok(())
    }

    fn error(&self, line: usize, message: &str) -> RepoError {
        RepoError::malformed(self.file, format!("line {line}: {message}"))
    }
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "Package: a\nVersion: 1:2.0-1\nArchitecture: amd64\nSource: asrc (2.0-0.1)\nMulti-Arch: same\nDescription: x\n more\n\nPackage: b\nArchitecture: all\nVersion: 3\nPhased-Update-Percentage: 40\n";

    #[test]
    fn stanzas_become_packages() {
        let p = read_packages("Packages", TWO.as_bytes(), Expected::default()).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].package.evr(), "1:2.0-1");
        assert_eq!(p[0].package.source_name, "asrc");
        assert_eq!(p[0].package.source_version, "2.0-0.1");
        assert_eq!(p[0].multi_arch, "same");
        assert_eq!(p[1].package.source_name, "b");
        assert_eq!(p[1].package.arch, "all");
        assert_eq!(p[1].phased_percentage, Some(40));
    }

    #[test]
    fn a_stanza_without_version_names_its_line() {
        let err = read_packages(
            "Packages",
            "Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\nArchitecture: all\n"
                .as_bytes(),
            Expected::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 5") && err.contains("without Version"),
            "{err}"
        );
    }

    /// Fails after handing over part of the file, like a dropped mount.
    struct FailingReader(&'static [u8]);

    impl Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("device went away"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_failing_read_is_an_io_error_not_corruption() {
        let err = read_packages(
            "Packages",
            FailingReader(TWO.as_bytes()),
            Expected::default(),
        )
        .unwrap_err();
        assert!(matches!(err, RepoError::Io { .. }), "{err}");
        assert!(err.to_string().contains("device went away"), "{err}");
    }

    #[test]
    fn checksum_of_content_or_of_stored_file_is_accepted() {
        let sum = hex::encode(Sha256::digest(TWO.as_bytes()));
        let good = ReleaseFile {
            path: "Packages".into(),
            size: TWO.len() as u64,
            sha256: sum.clone(),
        };
        let wrong = ReleaseFile {
            sha256: "0".repeat(64),
            ..good.clone()
        };
        let ok = |stored, content| {
            read_packages("Packages", TWO.as_bytes(), Expected { stored, content }).is_ok()
        };
        assert!(ok(Some(&good), None));
        assert!(ok(None, Some(&good)));
        assert!(ok(Some(&wrong), Some(&good)));
        let err = read_packages(
            "Packages",
            TWO.as_bytes(),
            Expected {
                stored: None,
                content: Some(&wrong),
            },
        )
        .unwrap_err();
        assert!(matches!(err, RepoError::Checksum { .. }), "{err}");
        assert!(err.to_string().contains(&sum), "{err}");
    }
}
