//! `repos sync`: a repository's index downloaded over HTTP with the feeds'
//! downloader (`vulndb::Syncer`: conditional requests, size cap, idle
//! timeout, proxies from the environment), written to a scratch directory
//! in the repository's own layout, then read exactly as `repos import`
//! reads files, so the same checks apply and a failed or truncated
//! download never replaces the current snapshot.
//!
//! The conditional request is made for the top file (`InRelease`,
//! `repomd.xml`, `APKINDEX.tar.gz`): when it is not modified, nothing else
//! is fetched.

use std::path::Path;

use patchwatch_repos::RepoError;
use patchwatch_repos::apt::{Release, packages_path};
use patchwatch_repos::rpmmd::{REPOMD, parse_repomd};
use patchwatch_store::{Database, RepoImportOutcome, Repository, RepositoryKind, StoreError};
use patchwatch_vulndb::{Download, Progress, SyncError, Syncer, Validators, finished_sync_state};
use serde::Serialize;
use thiserror::Error;

use crate::codec::{CodecError, encode};
use crate::import::{ImportError, ImportSpec, read_snapshot};

#[derive(Debug, Error)]
pub enum RepoSyncError {
    #[error("repository {0:?} has no http:// or https:// source to sync from; use `repos import`")]
    NotHttp(String),
    /// Boxed: the downloader's error is large and this one is returned
    /// on every path.
    #[error(transparent)]
    Download(Box<SyncError>),
    #[error(transparent)]
    Index(#[from] ImportError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("writing the download to {path}: {source}")]
    Scratch {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SyncError> for RepoSyncError {
    fn from(e: SyncError) -> RepoSyncError {
        RepoSyncError::Download(Box::new(e))
    }
}

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RepoSyncOutcome {
    Imported(RepoImportOutcome),
    /// The server answered 304 for the top file: nothing downloaded.
    NotModified,
}

/// Syncs one repository and records the outcome on it.
pub async fn sync_repository(
    syncer: &Syncer,
    db: &dyn Database,
    repo: &Repository,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<RepoSyncOutcome, RepoSyncError> {
    let result = sync_inner(syncer, db, repo, progress).await;
    let state = finished_sync_state(&result);
    match result {
        Ok((outcome, _)) => {
            db.record_repo_sync(repo.id, &state).await?;
            Ok(outcome)
        }
        Err(e) => {
            if let Err(store) = db.record_repo_sync(repo.id, &state).await {
                tracing::warn!(repository = %repo.name, error = %store, "could not record the sync error");
            }
            Err(e)
        }
    }
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), RepoSyncError> {
    let path = dir.join(rel);
    let scratch = |source| RepoSyncError::Scratch {
        path: path.display().to_string(),
        source,
    };
    // Paths come from the index: refuse anything leaving the directory.
    if rel.split('/').any(|c| c == ".." || c.is_empty()) || rel.starts_with('/') {
        return Err(RepoSyncError::Index(ImportError::Repo(
            RepoError::malformed(rel, "unsafe path in the repository index"),
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(scratch)?;
    }
    std::fs::write(&path, bytes).map_err(scratch)
}

async fn sync_inner(
    syncer: &Syncer,
    db: &dyn Database,
    repo: &Repository,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(RepoSyncOutcome, Validators), RepoSyncError> {
    let base = repo.source.trim().trim_end_matches('/').to_owned();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(RepoSyncError::NotHttp(repo.name.clone()));
    }
    let arch = repo.architectures.first().cloned().unwrap_or_default();
    let (root, top) = match repo.kind {
        RepositoryKind::Apt if repo.suite.is_empty() => (base.clone(), "InRelease".to_owned()),
        RepositoryKind::Apt => (
            format!("{base}/dists/{}", repo.suite),
            "InRelease".to_owned(),
        ),
        RepositoryKind::RpmMd => (base.clone(), REPOMD.to_owned()),
        RepositoryKind::Apk if base.ends_with("APKINDEX.tar.gz") => {
            let (dir, file) = base.rsplit_once('/').unwrap_or((&base, "APKINDEX.tar.gz"));
            (dir.to_owned(), file.to_owned())
        }
        RepositoryKind::Apk => (format!("{base}/{arch}"), "APKINDEX.tar.gz".to_owned()),
    };
    let conditional = repo.current.is_some().then_some(&repo.sync);
    let (top_bytes, validators) = match syncer
        .download(&format!("{root}/{top}"), conditional, progress)
        .await?
    {
        Download::NotModified(v) => return Ok((RepoSyncOutcome::NotModified, v)),
        Download::Body(bytes, v) => (bytes, v),
    };
    let scratch = tempfile::tempdir().map_err(|source| RepoSyncError::Scratch {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let dir = scratch.path();
    write(dir, &top, &top_bytes)?;
    let file = |listed: &str| format!("{root}/{listed}");
    match repo.kind {
        RepositoryKind::Apt => {
            let text = String::from_utf8_lossy(&top_bytes);
            let release = Release::parse(&file(&top), &text).map_err(ImportError::from)?;
            let mut wanted: Vec<String> = Vec::new();
            let components: Vec<&str> = if repo.components.is_empty() && repo.suite.is_empty() {
                vec![""]
            } else if repo.components.is_empty() {
                vec!["main"]
            } else {
                repo.components.iter().map(String::as_str).collect()
            };
            let arch_all =
                !release.no_arch_all_index && release.meta.architectures.iter().any(|a| a == "all");
            for c in &components {
                let mut bases = vec![packages_path(c, &arch)];
                if arch_all && !c.is_empty() {
                    bases.push(packages_path(c, "all"));
                }
                for b in bases {
                    // The first compressed form listed, as `import` reads it.
                    if let Some(f) = [".xz", ".gz", ".zst", ".bz2", ""]
                        .iter()
                        .find_map(|s| release.file(&format!("{b}{s}")))
                    {
                        wanted.push(f.path.clone());
                    }
                }
            }
            for listed in wanted {
                if let Download::Body(bytes, _) =
                    syncer.download(&file(&listed), None, progress).await?
                {
                    write(dir, &listed, &bytes)?;
                }
            }
        }
        RepositoryKind::RpmMd => {
            let repomd = parse_repomd(&top_bytes, &file(&top)).map_err(ImportError::from)?;
            for d in repomd
                .data
                .iter()
                .filter(|d| matches!(d.kind.as_str(), "primary" | "updateinfo" | "modules"))
            {
                if let Download::Body(bytes, _) =
                    syncer.download(&file(&d.href), None, progress).await?
                {
                    write(dir, &d.href, &bytes)?;
                }
            }
        }
        RepositoryKind::Apk => {}
    }
    let spec_path = match repo.kind {
        RepositoryKind::Apk => dir.join(&top),
        _ => dir.to_path_buf(),
    };
    let (kind, suite, components) = (repo.kind, repo.suite.clone(), repo.components.clone());
    let (snapshot, document, sha256) = tokio::task::spawn_blocking(move || {
        let snapshot = read_snapshot(&ImportSpec {
            kind,
            path: &spec_path,
            suite: &suite,
            components: &components,
            arch: &arch,
        })?;
        let (document, sha256) = encode(&snapshot)?;
        drop(scratch);
        Ok::<_, RepoSyncError>((snapshot, document, sha256))
    })
    .await
    .map_err(|e| RepoSyncError::Scratch {
        path: "the import task".into(),
        source: std::io::Error::other(e.to_string()),
    })??;
    let outcome = db
        .import_repo_snapshot(repo.id, document, &sha256, snapshot.packages.len() as i64)
        .await?;
    Ok((RepoSyncOutcome::Imported(outcome), validators))
}
