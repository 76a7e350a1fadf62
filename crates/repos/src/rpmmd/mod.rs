//! rpm-md repositories (yum, dnf, zypper): `repodata/repomd.xml` and the
//! files it lists, read into a [`RepoSnapshot`], and dnf's choice of
//! candidates in [`select`].
//!
//! Only the files update computation needs are opened: `primary` (always
//! required), `updateinfo` and `modules` (when listed). Each is checked
//! against the size and checksum repomd.xml gives before it is parsed, so a
//! stale mirror or a truncated download is refused as a whole. Files that
//! are not read (filelists, other, the sqlite databases, comps, deltainfo)
//! may be absent.

mod modules;
mod primary;
mod repomd;
pub mod select;
mod skip;
mod updateinfo;
mod xml;

use std::io::{BufReader, Read};
use std::path::Path;

pub use modules::{mark_modular, parse_modules};
pub use primary::parse_primary;
pub use repomd::{Checksum, RepoMd, RepoMdData, parse_repomd, verify_checksum};
pub use updateinfo::parse_updateinfo;

use crate::{RepoError, RepoKind, RepoMeta, RepoSnapshot};

/// Where `repomd.xml` lives, relative to the repository root; the hrefs it
/// lists are relative to that root too.
pub const REPOMD: &str = "repodata/repomd.xml";

/// Reads the repository under `root` (the directory holding `repodata/`).
pub fn read_dir(root: &Path) -> Result<RepoSnapshot, RepoError> {
    let repomd_path = root.join(REPOMD);
    let repomd = std::fs::read(&repomd_path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            RepoError::malformed(
                repomd_path.display().to_string(),
                "not an rpm-md repository (no repodata/repomd.xml)",
            )
        } else {
            RepoError::Io {
                file: repomd_path.display().to_string(),
                source,
            }
        }
    })?;
    read_with(&repomd, |href| match std::fs::read(root.join(href)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    })
}

/// Reads a repository from its `repomd.xml` and a function that returns the
/// bytes of a listed file (`None` when it does not exist): a directory, a
/// download cache, or an archive `repos import` was given.
pub fn read_with(
    repomd_bytes: &[u8],
    mut open: impl FnMut(&str) -> std::io::Result<Option<Vec<u8>>>,
) -> Result<RepoSnapshot, RepoError> {
    let md = parse_repomd(repomd_bytes, REPOMD)?;
    let mut fetch = |kind: &str| -> Result<Option<(String, Vec<u8>)>, RepoError> {
        let Some(entry) = md.get(kind) else {
            return Ok(None);
        };
        let href = entry.href.as_str();
        if href.starts_with('/') || href.split('/').any(|part| part == "..") || href.contains("://")
        {
            return Err(RepoError::malformed(
                REPOMD,
                format!("{kind} location {href:?} is outside the repository"),
            ));
        }
        let bytes = open(href)
            .map_err(|source| RepoError::Io {
                file: href.to_owned(),
                source,
            })?
            .ok_or_else(|| RepoError::Missing {
                file: href.to_owned(),
                listed_by: REPOMD.to_owned(),
            })?;
        if let Some(size) = entry.size.filter(|&size| size != bytes.len() as u64) {
            return Err(RepoError::malformed(
                href,
                format!(
                    "{} bytes, but {REPOMD} says {size} (truncated or stale download)",
                    bytes.len()
                ),
            ));
        }
        match &entry.checksum {
            Some(c) => verify_checksum(&bytes, c, href)?,
            None => {
                return Err(RepoError::malformed(
                    REPOMD,
                    format!("{kind} entry has no checksum"),
                ));
            }
        }
        Ok(Some((href.to_owned(), bytes)))
    };

    let (primary_href, primary_bytes) = fetch("primary")?
        .ok_or_else(|| RepoError::malformed(REPOMD, "lists no primary metadata"))?;
    let mut packages = parse_primary(decompress(&primary_bytes, &primary_href)?, &primary_href)?;
    drop(primary_bytes);

    let advisories = match fetch("updateinfo")? {
        Some((href, bytes)) => parse_updateinfo(decompress(&bytes, &href)?, &href)?,
        None => Vec::new(),
    };

    let modules = match fetch("modules")? {
        Some((href, bytes)) => {
            let mut text = String::new();
            decompress(&bytes, &href)?
                .read_to_string(&mut text)
                .map_err(|e| {
                    RepoError::malformed(&href, format!("truncated, corrupt or not UTF-8: {e}"))
                })?;
            parse_modules(&text, &href)?
        }
        None => Vec::new(),
    };
    mark_modular(&mut packages, &modules);

    tracing::debug!(
        packages = packages.len(),
        advisories = advisories.len(),
        modules = modules.len(),
        revision = %md.revision,
        "read rpm-md repository"
    );
    Ok(RepoSnapshot {
        kind: RepoKind::RpmMd,
        meta: RepoMeta {
            suite: md.revision,
            cpes: md.cpes,
            ..RepoMeta::default()
        },
        packages,
        advisories,
        modules,
    })
}

/// A buffered reader over `bytes` with gz/bz2/xz/zst removed (recognised by
/// magic number, whatever the file is called).
pub fn decompress<'a>(
    bytes: &'a [u8],
    file: &str,
) -> Result<BufReader<Box<dyn Read + 'a>>, RepoError> {
    let inner = patchwatch_advisories::compression::decompressed(bytes)
        .map_err(|e| RepoError::malformed(file, format!("cannot decompress: {e}")))?;
    Ok(BufReader::with_capacity(64 * 1024, inner))
}
