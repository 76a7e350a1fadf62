//! Recognising and undoing the compression vendors ship feeds in, so the
//! feed sync can open any download without trusting its file name.

use std::io::{self, Cursor, Read};

/// What the first bytes of a download say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    /// A zip archive: a container, not a stream; open it with
    /// [`crate::osv::ZipFeed`].
    Zip,
    /// An uncompressed tar archive (`ustar` magic at offset 257).
    Tar,
}

/// How many leading bytes [`sniff`] needs to recognise every format (tar's
/// magic ends at offset 262).
pub const SNIFF_LEN: usize = 262;

/// Recognises a format by its magic number. Give it at least
/// [`SNIFF_LEN`] bytes to recognise tar; compression formats need 6.
/// Returns `None` for anything else (plain JSON, YAML, text).
pub fn sniff(first_bytes: &[u8]) -> Option<Compression> {
    let b = first_bytes;
    if b.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if b.starts_with(b"BZh") && b.len() >= 4 && (b'1'..=b'9').contains(&b[3]) {
        Some(Compression::Bzip2)
    } else if b.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Compression::Xz)
    } else if b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") {
        // Local file header, or the end record of an empty archive.
        Some(Compression::Zip)
    } else if b.len() >= 262 && &b[257..262] == b"ustar" {
        Some(Compression::Tar)
    } else {
        None
    }
}

/// Reads up to `n` bytes (fewer only at end of input) without losing them:
/// the returned prefix must be put back in front of the reader.
fn peek<R: Read>(reader: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    reader.by_ref().take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The reader with one layer of compression (gzip, bzip2, xz or zstd)
/// removed, recognised by magic number; other input is passed through
/// unchanged, including tar (a container the caller iterates). Multi-member
/// gzip/bzip2/xz streams (as written by parallel compressors) are read to
/// the end. Zip is refused: it is an archive of files, not a stream.
pub fn decompressed<'a, R: Read + 'a>(mut reader: R) -> io::Result<Box<dyn Read + 'a>> {
    let (kind, head) = sniff_reader(&mut reader)?;
    let whole = Cursor::new(head).chain(reader);
    Ok(match kind {
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Some(Compression::Bzip2) => Box::new(bzip2::read::MultiBzDecoder::new(whole)),
        Some(Compression::Xz) => Box::new(xz2::read::XzDecoder::new_multi_decoder(whole)),
        Some(Compression::Zstd) => Box::new(zstd::stream::read::Decoder::new(whole)?),
        Some(Compression::Zip) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "zip is an archive, not a compressed stream; open it with osv::ZipFeed",
            ));
        }
        Some(Compression::Tar) | None => Box::new(whole),
    })
}

/// Reads the first [`SNIFF_LEN`] bytes and sniffs them. The bytes are
/// returned so the caller can chain them back in front of the reader.
pub fn sniff_reader<R: Read>(reader: &mut R) -> io::Result<(Option<Compression>, Vec<u8>)> {
    let head = peek(reader, SNIFF_LEN)?;
    Ok((sniff(&head), head))
}
