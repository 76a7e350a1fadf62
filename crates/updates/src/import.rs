//! Reading a repository's index from files (`repos import`, for sites
//! without access to the mirrors), whatever the layout the operator has:
//!
//! * apt: a `dists/SUITE` directory (with `InRelease` or `Release`), an
//!   `InRelease`/`Release` file in one, or apt's own `lists/` directory
//!   (`HOST_PATH_dists_SUITE_InRelease` and its flattened index names);
//! * rpm-md: the directory holding `repodata/`;
//! * apk: an `APKINDEX.tar.gz`, or a directory holding one (directly or
//!   under the architecture).
//!
//! Every index is checked against what its Release or repomd lists; any
//! error names the file, and nothing is returned (so nothing is stored)
//! unless the whole repository parsed.

use std::path::{Path, PathBuf};

use patchwatch_repos::{RepoError, RepoSnapshot, apk, apt, rpmmd};
use patchwatch_store::{Database, RepoImportOutcome, Repository, RepositoryKind, StoreError};
use thiserror::Error;

use crate::codec::{CodecError, encode};

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error(
        "{dir}: no apt lists file for suite {suite:?} (looked for *_dists_{suite}_InRelease and *_Release){hint}"
    )]
    NoSuite {
        dir: String,
        suite: String,
        hint: String,
    },
    #[error(
        "{0}: neither an InRelease/Release file nor a directory holding one; give the suite (--suite) to read apt lists"
    )]
    NotApt(String),
    #[error("{0}: no APKINDEX.tar.gz here (nor under {1})")]
    NoApkIndex(String, String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// What to read.
#[derive(Debug, Clone)]
pub struct ImportSpec<'a> {
    pub kind: RepositoryKind,
    pub path: &'a Path,
    /// apt suite, to pick it out of a `lists/` directory.
    pub suite: &'a str,
    /// apt components (`main` when empty, or none for a flat repository
    /// when the suite is empty too).
    pub components: &'a [String],
    /// apt architecture (`amd64`) or apk's (`x86_64`).
    pub arch: &'a str,
}

pub fn read_snapshot(spec: &ImportSpec<'_>) -> Result<RepoSnapshot, ImportError> {
    if !spec.path.exists() {
        return Err(ImportError::NotFound(spec.path.display().to_string()));
    }
    match spec.kind {
        RepositoryKind::Apt => read_apt(spec),
        RepositoryKind::RpmMd => Ok(rpmmd::read_dir(spec.path)?),
        RepositoryKind::Apk => read_apk(spec),
    }
}

fn read_apt(spec: &ImportSpec<'_>) -> Result<RepoSnapshot, ImportError> {
    // No components: `main` of a suite, or a flat repository's own index.
    let components: Vec<&str> = if spec.components.is_empty() && spec.suite.is_empty() {
        vec![""]
    } else if spec.components.is_empty() {
        vec!["main"]
    } else {
        spec.components.iter().map(String::as_str).collect()
    };
    let path = spec.path;
    let release = if path.is_dir() {
        match ["InRelease", "Release"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.exists())
        {
            Some(release) => release,
            None => lists_release(path, spec.suite)?,
        }
    } else {
        path.to_path_buf()
    };
    let dir = release.parent().unwrap_or(Path::new(".")).to_path_buf();
    let file_name = release
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let prefix = file_name
        .strip_suffix("_InRelease")
        .or_else(|| file_name.strip_suffix("_Release"))
        .map(str::to_owned);
    if prefix.is_none() && file_name != "InRelease" && file_name != "Release" {
        return Err(ImportError::NotApt(path.display().to_string()));
    }
    let snapshot = apt::import_dist(&release, &components, spec.arch, |listed| {
        locate(&dir, prefix.as_deref(), listed)
    })?;
    Ok(snapshot)
}

/// A mirror tree keeps the listed path; apt's `lists/` flattens it onto
/// the Release's own name.
fn locate(dir: &Path, lists_prefix: Option<&str>, listed: &str) -> PathBuf {
    match lists_prefix {
        Some(prefix) => dir.join(format!("{prefix}_{}", listed.replace('/', "_"))),
        None => dir.join(listed),
    }
}

fn lists_release(dir: &Path, suite: &str) -> Result<PathBuf, ImportError> {
    if suite.is_empty() {
        return Err(ImportError::NotApt(dir.display().to_string()));
    }
    let mut found: Vec<PathBuf> = Vec::new();
    let mut suites: Vec<String> = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| RepoError::Io {
        file: dir.display().to_string(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name
            .strip_suffix("_InRelease")
            .or_else(|| name.strip_suffix("_Release"))
        else {
            continue;
        };
        if let Some((_, s)) = stem.rsplit_once("_dists_") {
            suites.push(s.to_owned());
            if s == suite {
                found.push(entry.path());
            }
        }
    }
    // InRelease sorts before Release: prefer it, as apt does.
    found.sort();
    match found.into_iter().next() {
        Some(p) => Ok(p),
        None => {
            suites.sort();
            suites.dedup();
            let hint = if suites.is_empty() {
                String::new()
            } else {
                format!("; suites here: {}", suites.join(", "))
            };
            Err(ImportError::NoSuite {
                dir: dir.display().to_string(),
                suite: suite.to_owned(),
                hint,
            })
        }
    }
}

fn read_apk(spec: &ImportSpec<'_>) -> Result<RepoSnapshot, ImportError> {
    let path = spec.path;
    let file = if path.is_dir() {
        let direct = path.join("APKINDEX.tar.gz");
        let under_arch = path.join(spec.arch).join("APKINDEX.tar.gz");
        if direct.exists() {
            direct
        } else if under_arch.exists() {
            under_arch
        } else {
            return Err(ImportError::NoApkIndex(
                path.display().to_string(),
                spec.arch.to_owned(),
            ));
        }
    } else {
        path.to_path_buf()
    };
    let name = file.display().to_string();
    let bytes = std::fs::read(&file).map_err(|source| RepoError::Io {
        file: name.clone(),
        source,
    })?;
    Ok(apk::parse_apkindex(&bytes, &name)?)
}

/// Why [`import_files`] stored nothing.
#[derive(Debug, Error)]
pub enum ImportFilesError {
    #[error(transparent)]
    Read(#[from] ImportError),
    #[error(transparent)]
    Encode(#[from] CodecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the import task failed: {0}")]
    Task(String),
}

/// Reads `repo`'s index from the files at `path`, as its kind, suite,
/// components and first architecture say, and makes it the repository's
/// current snapshot if it all parses (`repos import`; the tests' and
/// benchmarks' repositories). Reading runs on a blocking thread. Returns
/// what the store did and the number of packages read.
pub async fn import_files(
    db: &dyn Database,
    repo: &Repository,
    path: &Path,
) -> Result<(RepoImportOutcome, usize), ImportFilesError> {
    let (repo_id, spec_repo, files) = (repo.id, repo.clone(), path.to_owned());
    let (document, sha256, packages) = tokio::task::spawn_blocking(move || {
        let arch = spec_repo
            .architectures
            .first()
            .map(String::as_str)
            .unwrap_or("");
        let snapshot = read_snapshot(&ImportSpec {
            kind: spec_repo.kind,
            path: &files,
            suite: &spec_repo.suite,
            components: &spec_repo.components,
            arch,
        })?;
        let (document, sha256) = encode(&snapshot)?;
        Ok::<_, ImportFilesError>((document, sha256, snapshot.packages.len()))
    })
    .await
    .map_err(|e| ImportFilesError::Task(e.to_string()))??;
    let outcome = db
        .import_repo_snapshot(repo_id, document, &sha256, packages as i64)
        .await?;
    Ok((outcome, packages))
}
