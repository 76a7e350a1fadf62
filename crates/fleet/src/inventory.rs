//! Readers for real installed-package databases.

use std::io::Read;
use std::path::Path;

use patchwatch_reports::{Package, PackageType};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum InventoryError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
}

/// Reads a file, decompressing it when its name ends in `.xz`.
pub fn read_maybe_xz(path: &Path) -> Result<String, InventoryError> {
    let io = |source| InventoryError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "xz") {
        xz2::read::XzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(io)?;
    } else {
        std::io::BufReader::new(file)
            .read_to_string(&mut text)
            .map_err(io)?;
    }
    Ok(text)
}

/// Installed packages of a dpkg status file (`install ok installed` and
/// `hold ok installed`), with their source package where it differs.
pub fn dpkg_status(text: &str) -> Result<Vec<Package>, InventoryError> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut name = "";
        let mut status = "";
        let mut version = "";
        let mut arch = "";
        let mut source = "";
        for line in stanza.lines() {
            if let Some((k, v)) = line.split_once(": ") {
                match k {
                    "Package" => name = v,
                    "Status" => status = v,
                    "Version" => version = v,
                    "Architecture" => arch = v,
                    "Source" => source = v,
                    _ => {}
                }
            }
        }
        if name.is_empty() || !(status == "install ok installed" || status == "hold ok installed") {
            continue;
        }
        let (epoch, upstream, revision) = Package::split_evr(PackageType::Deb, version);
        // `Source: name (version)` when the source version differs.
        let (source_name, source_version) = match source.split_once(" (") {
            Some((n, v)) => (n.to_owned(), v.trim_end_matches(')').to_owned()),
            None if source.is_empty() => (name.to_owned(), version.to_owned()),
            None => (source.to_owned(), version.to_owned()),
        };
        out.push(Package {
            name: name.to_owned(),
            epoch,
            version: upstream,
            release: revision,
            arch: arch.to_owned(),
            kind: PackageType::Deb,
            source_name,
            source_version,
        });
    }
    if out.is_empty() {
        return Err(InventoryError::Format(
            "no installed package in the dpkg status".into(),
        ));
    }
    Ok(out)
}

/// The rpm list of a container image manifest (`{rpms: [...]}`).
pub fn rpm_manifest(text: &str) -> Result<Vec<Package>, InventoryError> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        rpms: Vec<Rpm>,
    }
    #[derive(serde::Deserialize)]
    struct Rpm {
        name: String,
        #[serde(default)]
        epoch: Option<serde_json::Value>,
        version: String,
        release: String,
        architecture: String,
        #[serde(default)]
        srpm_name: String,
        #[serde(default)]
        srpm_nevra: String,
    }
    let m: Manifest = serde_json::from_str(text)
        .map_err(|e| InventoryError::Format(format!("rpm manifest: {e}")))?;
    Ok(m.rpms
        .into_iter()
        .filter(|r| r.name != "gpg-pubkey")
        .map(|r| {
            let epoch = match r.epoch {
                Some(serde_json::Value::Number(n)) if n.as_u64() != Some(0) => n.to_string(),
                Some(serde_json::Value::String(s)) if s != "0" => s,
                _ => String::new(),
            };
            // srpm_nevra: name-version-release.src
            let source_version = r
                .srpm_nevra
                .strip_prefix(&format!("{}-", r.srpm_name))
                .map(|s| s.trim_end_matches(".src").to_owned())
                .unwrap_or_default();
            Package {
                name: r.name,
                epoch,
                version: r.version,
                release: r.release,
                arch: r.architecture,
                kind: PackageType::Rpm,
                source_name: r.srpm_name,
                source_version,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_debian_host() {
        let path = crate::shared_data_dir().join("hosts/this-machine_debian12_dpkg-status.xz");
        let pkgs = dpkg_status(&read_maybe_xz(&path).unwrap()).unwrap();
        assert_eq!(pkgs.len(), 716);
        let libc = pkgs.iter().find(|p| p.name == "libc6").unwrap();
        assert_eq!(libc.source_name, "glibc");
        assert_eq!(libc.kind, PackageType::Deb);
    }

    #[test]
    fn reads_the_real_rhel_image() {
        let path = crate::shared_data_dir().join("hosts/claircore_ubi9-httpd.rpm-manifest.json");
        let pkgs = rpm_manifest(&read_maybe_xz(&path).unwrap()).unwrap();
        assert_eq!(pkgs.len(), 243);
        assert!(pkgs.iter().all(|p| !p.source_name.is_empty()));
    }
}
