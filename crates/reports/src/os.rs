//! OS strings and os-release fields, normalised to distro + release.

use crate::model::{OsInfo, OsRelease};

/// Normalises what a host said about its OS. os-release fields win when the
/// client sent them; otherwise the free-form string is parsed.
pub fn normalise(info: &OsInfo, raw: &str) -> OsRelease {
    if !info.id.is_empty() {
        return OsRelease {
            distro: info.id.to_ascii_lowercase(),
            release: info.version_id.clone(),
        };
    }
    if raw.trim().is_empty() {
        return OsRelease::unknown("");
    }
    OsRelease::unknown(raw)
}
