//! `Release` / `InRelease`: what an apt repository says about itself and the
//! SHA-256 of every index file it publishes.
//!
//! The OpenPGP signature of an `InRelease` is *not* verified here (that
//! needs the site's keyring and belongs to the sync step); the clear-signed
//! wrapper is removed and the signed text parsed as apt parses it.

use crate::error::RepoError;
use crate::model::RepoMeta;

/// One index file the Release lists under `SHA256:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Path relative to the Release (`main/binary-amd64/Packages.xz`).
    pub path: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// A parsed `Release` or `InRelease`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub meta: RepoMeta,
    /// The `SHA256:` list, in file order.
    pub files: Vec<ReleaseFile>,
    /// `Valid-Until`, as written (RFC 2822), empty if absent.
    pub valid_until: String,
    /// `Acquire-By-Hash: yes`: indexes can be fetched by their checksum.
    pub acquire_by_hash: bool,
    /// `No-Support-for-Architecture-all: Packages`: `Architecture: all`
    /// packages are listed in every `binary-ARCH` index, so apt does not
    /// read a `binary-all` one.
    pub no_arch_all_index: bool,
}

impl Release {
    /// The entry for `path` (`main/binary-amd64/Packages.xz`), if listed.
    pub fn file(&self, path: &str) -> Option<&ReleaseFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Parses a `Release` or a clear-signed `InRelease`. `file` names the
    /// document in errors.
    pub fn parse(file: &str, text: &str) -> Result<Release, RepoError> {
        let body = signed_text(file, text)?;
        let mut release = Release {
            meta: RepoMeta::default(),
            files: Vec::new(),
            valid_until: String::new(),
            acquire_by_hash: false,
            no_arch_all_index: false,
        };
        let mut in_sha256 = false;
        let mut saw_sha256 = false;
        for (n, line) in body.lines().enumerate() {
            if line.trim().is_empty() {
                // A Release is a single paragraph; apt stops at the first
                // blank line too.
                break;
            }
            if line.starts_with([' ', '\t']) {
                if in_sha256 {
                    release.files.push(checksum_line(file, n + 1, line)?);
                }
                continue;
            }
            let Some((field, value)) = line.split_once(':') else {
                return Err(RepoError::malformed(
                    file,
                    format!("line {}: not a `Field: value` line: {line:?}", n + 1),
                ));
            };
            let value = value.trim();
            in_sha256 = field.eq_ignore_ascii_case("SHA256");
            saw_sha256 |= in_sha256;
            let meta = &mut release.meta;
            match field.to_ascii_lowercase().as_str() {
                "origin" => meta.origin = value.to_owned(),
                "label" => meta.label = value.to_owned(),
                "suite" | "archive" => meta.suite = value.to_owned(),
                "codename" => meta.codename = value.to_owned(),
                "version" => meta.version = value.to_owned(),
                "date" => meta.date = rfc2822_to_rfc3339(value).unwrap_or_default(),
                "valid-until" => release.valid_until = value.to_owned(),
                "components" => meta.components = words(value),
                "architectures" => meta.architectures = words(value),
                "notautomatic" => meta.not_automatic = value.eq_ignore_ascii_case("yes"),
                "butautomaticupgrades" => {
                    meta.but_automatic_upgrades = value.eq_ignore_ascii_case("yes")
                }
                "acquire-by-hash" => release.acquire_by_hash = value.eq_ignore_ascii_case("yes"),
                "no-support-for-architecture-all" => {
                    release.no_arch_all_index = value.split_whitespace().any(|v| v == "Packages")
                }
                _ => {}
            }
        }
        if !saw_sha256 {
            // apt refuses a Release with only MD5Sum/SHA1 as too weak.
            return Err(RepoError::malformed(
                file,
                "no SHA256 checksums (MD5Sum and SHA1 alone are too weak to trust)",
            ));
        }
        Ok(release)
    }
}

fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

fn checksum_line(file: &str, line_no: usize, line: &str) -> Result<ReleaseFile, RepoError> {
    let bad = |why: &str| {
        RepoError::malformed(
            file,
            format!("line {line_no}: {why} in SHA256 entry {:?}", line.trim()),
        )
    };
    let mut parts = line.split_whitespace();
    let (Some(hash), Some(size), Some(path), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected `hash size path`"));
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("not a SHA-256"));
    }
    let size = size.parse().map_err(|_| bad("size is not a number"))?;
    Ok(ReleaseFile {
        path: path.to_owned(),
        size,
        sha256: hash.to_ascii_lowercase(),
    })
}

const SIGNED_HEADER: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const SIGNATURE_HEADER: &str = "-----BEGIN PGP SIGNATURE-----";

/// The text a clear-signed message signs (RFC 4880 §7), or the input as is
/// when it is not clear-signed (a plain `Release`).
fn signed_text(file: &str, text: &str) -> Result<String, RepoError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    match lines.next() {
        Some(first) if first.trim_end() == SIGNED_HEADER => {}
        _ => {
            if text.contains(SIGNED_HEADER) || text.contains(SIGNATURE_HEADER) {
                return Err(RepoError::malformed(
                    file,
                    "OpenPGP armour inside the document instead of a clear-signed wrapper",
                ));
            }
            return Ok(text.to_owned());
        }
    }
    // Armour headers (`Hash: SHA512`) end at the first empty line.
    for line in lines.by_ref() {
        if line.trim_end().is_empty() {
            break;
        }
    }
    let mut body = String::with_capacity(text.len());
    for line in lines {
        if line.trim_end() == SIGNATURE_HEADER {
            return Ok(body);
        }
        // Dash-escaped lines (`- -----`) lose their escape.
        body.push_str(line.strip_prefix("- ").unwrap_or(line));
        body.push('\n');
    }
    Err(RepoError::malformed(
        file,
        "clear-signed message without its signature block (truncated?)",
    ))
}

/// `Sat, 11 Jul 2026 10:16:37 UTC` as `2026-07-11T10:16:37Z`; `None` for
/// anything else (the field is informational).
fn rfc2822_to_rfc3339(value: &str) -> Option<String> {
    let rest = value.split_once(", ").map_or(value, |(_, r)| r);
    let mut parts = rest.split_whitespace();
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u32 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    let zone = parts.next().unwrap_or("UTC");
    if !matches!(zone, "UTC" | "GMT" | "+0000" | "Z") || parts.next().is_some() {
        return None;
    }
    let hms: Vec<u32> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nSuite: stable-security\nNotAutomatic: yes\nButAutomaticUpgrades: yes\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nSHA256:\n 8185a31dad942e3e9ec627d824cfdb67daeb96180b4c830f94ca12bccee97493  2513441 main/binary-amd64/Packages\n- -not-a-field: dash escaped\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";

    #[test]
    fn clear_signed_release_is_unwrapped_and_parsed() {
        let r = Release::parse("InRelease", SIGNED).unwrap();
        assert_eq!(r.meta.origin, "Debian");
        assert_eq!(r.meta.suite, "stable-security");
        assert!(r.meta.not_automatic && r.meta.but_automatic_upgrades);
        assert_eq!(r.meta.date, "2026-07-11T10:16:37Z");
        assert_eq!(r.files.len(), 1);
        assert_eq!(r.files[0].size, 2_513_441);
        assert_eq!(r.file("main/binary-amd64/Packages"), Some(&r.files[0]));
    }

    #[test]
    fn a_signed_message_cut_before_its_signature_is_refused() {
        let cut = &SIGNED[..SIGNED.find(SIGNATURE_HEADER).unwrap()];
        let err = Release::parse("InRelease", cut).unwrap_err().to_string();
        assert!(err.contains("without its signature block"), "{err}");
    }

    #[test]
    fn release_without_sha256_is_refused() {
        let err = Release::parse("Release", "Suite: x\nMD5Sum:\n 00 1 a\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no SHA256"), "{err}");
    }

    #[test]
    fn bad_checksum_lines_name_the_line() {
        let err = Release::parse("Release", "Suite: x\nSHA256:\n zz 1 a\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("not a SHA-256"),
            "{err}"
        );
    }
}
