//! apt repositories: `Release`/`InRelease`, `Packages` indexes, and the
//! candidate apt would choose for each installed package.
//!
//! A distribution (`dists/bookworm`, or a flat repository) is read into one
//! [`RepoSnapshot`]: its Release fields in [`RepoSnapshot::meta`] and the
//! packages of the requested components for one architecture, every index
//! checked against the Release's SHA-256 before anything is returned.
//! [`policy`] then computes updates exactly as apt 2.6 does.

mod fleet;
pub mod packages;
pub mod policy;
pub mod preferences;
pub mod release;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub use fleet::FleetUpdates;
pub use packages::{Expected, read_packages};
pub use policy::{AptConfig, AptIndex, AptUpdate, InstalledOrigin, Pin, PinTarget, ReleaseMatch};
pub use preferences::parse_preferences;
pub use release::{Release, ReleaseFile};

use crate::error::RepoError;
use crate::model::{AvailablePackage, RepoKind, RepoSnapshot};

/// The compressed forms apt looks for, in the order we prefer them (xz
/// decompresses fastest per byte stored among the small ones).
const SUFFIXES: [&str; 6] = [".xz", ".gz", ".zst", ".bz2", "", ".lzma"];

/// The index path a Release lists for one component and architecture:
/// `main/binary-amd64/Packages`, or `Packages` for a flat repository
/// (empty component).
pub fn packages_path(component: &str, arch: &str) -> String {
    if component.is_empty() {
        "Packages".to_owned()
    } else {
        format!("{component}/binary-{arch}/Packages")
    }
}

/// Reads a distribution: the Release at `release_path`, then for every
/// component the `Packages` index in the first form the Release lists and
/// `locate` finds on disk. `locate` maps a path as listed
/// (`main/binary-amd64/Packages.xz`) to a file: `dir.join(path)` for a
/// mirror tree, or apt's flattened `lists/` names.
///
/// Errors: the Release lists no index for a component (`Malformed`), it
/// lists some but none exists (`Missing`), or a file fails its checksum,
/// does not decompress or does not parse.
pub fn import_dist(
    release_path: &Path,
    components: &[&str],
    arch: &str,
    locate: impl Fn(&str) -> PathBuf,
) -> Result<RepoSnapshot, RepoError> {
    let release_name = release_path.display().to_string();
    let text = std::fs::read_to_string(release_path).map_err(|source| RepoError::Io {
        file: release_name.clone(),
        source,
    })?;
    let release = Release::parse(&release_name, &text)?;
    // Like apt, read `binary-all` too where the Release says it has one.
    let arch_all = !release.no_arch_all_index
        && arch != "all"
        && release.meta.architectures.iter().any(|a| a == "all");
    let mut packages = Vec::new();
    for component in components {
        let base = packages_path(component, arch);
        let Some(found) = find_index(&release, &release_name, &base, &locate)? else {
            return Err(RepoError::malformed(
                &release_name,
                format!("lists no {base} index (component {component:?}, architecture {arch})"),
            ));
        };
        packages.extend(found);
        if arch_all && !component.is_empty() {
            let base = packages_path(component, "all");
            if let Some(found) = find_index(&release, &release_name, &base, &locate)? {
                packages.extend(found);
            }
        }
    }
    Ok(snapshot(release, components, packages))
}

/// The packages of the index `base` (`main/binary-amd64/Packages`) in the
/// first form the Release lists and `locate` finds; `Ok(None)` when the
/// Release lists no form of it, `Missing` when it lists some but none
/// exists, or the file's own error.
fn find_index(
    release: &Release,
    release_name: &str,
    base: &str,
    locate: &impl Fn(&str) -> PathBuf,
) -> Result<Option<Vec<AvailablePackage>>, RepoError> {
    let listed: Vec<&ReleaseFile> = SUFFIXES
        .iter()
        .filter_map(|s| release.file(&format!("{base}{s}")))
        .collect();
    let Some(first) = listed.first() else {
        return Ok(None);
    };
    let Some((entry, path)) = listed
        .iter()
        .map(|e| (*e, locate(&e.path)))
        .find(|(_, p)| p.exists())
    else {
        return Err(RepoError::Missing {
            file: locate(&first.path).display().to_string(),
            listed_by: release_name.to_owned(),
        });
    };
    let expected = Expected {
        stored: Some(entry),
        content: release.file(base),
    };
    read_index_file(&path, expected).map(Some)
}

/// Reads one `Packages` file (any compression), checked against
/// `expected`.
pub fn read_index_file(
    path: &Path,
    expected: Expected<'_>,
) -> Result<Vec<AvailablePackage>, RepoError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| RepoError::Io {
        file: name.clone(),
        source,
    })?;
    read_packages(&name, BufReader::with_capacity(1 << 16, file), expected)
}

/// The snapshot of a distribution: its Release fields, the components read,
/// and their packages.
pub fn snapshot(
    release: Release,
    components: &[&str],
    packages: Vec<AvailablePackage>,
) -> RepoSnapshot {
    let mut meta = release.meta;
    meta.components = components
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| (*c).to_owned())
        .collect();
    RepoSnapshot {
        kind: RepoKind::Apt,
        meta,
        packages,
        advisories: Vec::new(),
        modules: Vec::new(),
    }
}
