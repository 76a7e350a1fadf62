//! Alpine repositories: `APKINDEX.tar.gz` into a [`RepoSnapshot`], the
//! installed database (`lib/apk/db/installed`, the same record format), and
//! apk's choice of candidates in [`select`].
//!
//! `APKINDEX.tar.gz` is two gzip streams back to back: a signature tar
//! segment (`.SIGN.RSA.<key>.rsa.pub`, without an end-of-archive marker)
//! and a tar holding `DESCRIPTION` and `APKINDEX`. Read as one concatenated
//! gzip stream, it is one tar with three members.

pub mod select;

use std::io::Read;

use patchwatch_reports::{Package, PackageType};

use crate::{AvailablePackage, RepoError, RepoKind, RepoMeta, RepoSnapshot};

/// The most a tar header's size may reserve up front (the largest real
/// APKINDEX, Alpine's community repository, is about 10 MiB).
const MAX_SIZE_HINT: u64 = 32 << 20;

/// Reads an `APKINDEX.tar.gz`. `file` names it in errors.
pub fn parse_apkindex(bytes: &[u8], file: &str) -> Result<RepoSnapshot, RepoError> {
    let corrupt = |e: std::io::Error| {
        RepoError::malformed(file, format!("truncated or corrupt archive: {e}"))
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(RepoError::malformed(file, "not a gzip file"));
    }
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(bytes));
    archive.set_ignore_zeros(true);
    let mut description = None;
    let mut index = None;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        let target = match path.as_str() {
            "DESCRIPTION" => &mut description,
            "APKINDEX" => &mut index,
            _ => continue,
        };
        // The header's size is only a hint: a damaged one must not make us
        // reserve gigabytes before reading a byte.
        let hint = entry.size().min(MAX_SIZE_HINT) as usize;
        let mut text = String::with_capacity(hint);
        entry.read_to_string(&mut text).map_err(corrupt)?;
        *target = Some(text);
    }
    let index = index.ok_or_else(|| RepoError::malformed(file, "has no APKINDEX member"))?;
    let packages = parse_records(&index, &format!("{file}:APKINDEX"))?
        .into_iter()
        .map(|package| AvailablePackage {
            package,
            module: None,
            phased_percentage: None,
            multi_arch: String::new(),
        })
        .collect::<Vec<_>>();
    let mut architectures: Vec<String> = packages.iter().map(|p| p.package.arch.clone()).collect();
    architectures.sort();
    architectures.dedup();
    Ok(RepoSnapshot {
        kind: RepoKind::Apk,
        meta: RepoMeta {
            suite: description.unwrap_or_default().trim().to_owned(),
            architectures,
            ..RepoMeta::default()
        },
        packages,
        advisories: Vec::new(),
        modules: Vec::new(),
    })
}

/// Reads `lib/apk/db/installed`: the installed packages of an Alpine host.
pub fn parse_installed(text: &str, file: &str) -> Result<Vec<Package>, RepoError> {
    parse_records(text, file)
}

/// Blank-line separated records of `K:value` lines (`P` name, `V`
/// version, `A` arch, `o` origin); every other key is skipped.
pub fn parse_records(text: &str, file: &str) -> Result<Vec<Package>, RepoError> {
    let mut packages = Vec::new();
    let mut current = Record::default();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            current.finish(&mut packages, file, n)?;
            continue;
        }
        let (key, value) = match line.as_bytes() {
            [k, b':', ..] => (*k, &line[2..]),
            _ => {
                return Err(RepoError::malformed(
                    file,
                    format!("line {}: not a `K:value` line: {:?}", n + 1, truncate(line)),
                ));
            }
        };
        match key {
            b'P' => current.name = Some(value),
            b'V' => current.version = Some(value),
            b'A' => current.arch = Some(value),
            b'o' => current.origin = Some(value),
            _ => {}
        }
    }
    current.finish(&mut packages, file, text.lines().count())?;
    Ok(packages)
}

#[derive(Default)]
struct Record<'t> {
    name: Option<&'t str>,
    version: Option<&'t str>,
    arch: Option<&'t str>,
    origin: Option<&'t str>,
}

impl Record<'_> {
    fn finish(&mut self, out: &mut Vec<Package>, file: &str, line: usize) -> Result<(), RepoError> {
        let r = std::mem::take(self);
        if r.name.is_none() && r.version.is_none() && r.arch.is_none() && r.origin.is_none() {
            return Ok(());
        }
        let (Some(name), Some(version)) = (r.name, r.version) else {
            return Err(RepoError::malformed(
                file,
                format!("record ending at line {line} lacks its P: (name) or V: (version)"),
            ));
        };
        out.push(Package {
            name: name.to_owned(),
            epoch: String::new(),
            version: version.to_owned(),
            release: String::new(),
            arch: r.arch.unwrap_or_default().to_owned(),
            kind: PackageType::Apk,
            source_name: r.origin.unwrap_or_default().to_owned(),
            source_version: String::new(),
        });
        Ok(())
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
