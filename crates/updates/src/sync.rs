//! `repos sync`: a repository's index downloaded over HTTP with the feeds'
//! downloader (`vulndb::Syncer`: conditional requests, size cap, idle
//! timeout, proxies from the environment), written to a scratch directory
//! in the repository's own layout, then read exactly as `repos import`
//! reads files, so the same checks apply and a failed or truncated
//! download never replaces the current snapshot.
//!
//! The conditional request is made for the top file (`InRelease`,
//! `repomd.xml`, `APKINDEX.tar.gz`): when it is not modified, nothing else
//! is fetched. When it changed but lists the same index files (Packages,
//! primary, updateinfo, modules) with the same checksums as the current
//! snapshot was read from (apt's `Release` is re-signed daily with a new
//! `Valid-Until`), they are not downloaded again either: the outcome is
//! `indexes-unchanged`, saying why.
//!
//! An rpm-md source that is a `mirrorlist` or `metalink` URL (see
//! [`crate::mirrors`]) is fetched first; its mirrors are tried in order
//! until one serves a complete, valid repository (and, for a metalink, a
//! `repomd.xml` whose hash it lists).

use std::path::Path;

use patchwatch_repos::apt::{Release, packages_path};
use patchwatch_repos::rpmmd::{REPOMD, parse_repomd};
use patchwatch_repos::{IndexFile, RepoError};
use patchwatch_store::{Database, RepoImportOutcome, Repository, RepositoryKind, StoreError};
use patchwatch_vulndb::{Download, Progress, SyncError, Syncer, Validators, finished_sync_state};
use serde::Serialize;
use thiserror::Error;

use crate::codec::{CodecError, decode, encode};
use crate::import::{ImportError, ImportSpec, read_snapshot};
use crate::mirrors::{Metalink, MirrorSource, parse_metalink, parse_mirrorlist};

/// Most mirrors of one list tried in one sync.
pub const MAX_MIRRORS_TRIED: usize = 8;

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
    #[error("{source_url}: {problem}")]
    MirrorList { source_url: String, problem: String },
    #[error("{0}")]
    Metalink(String),
    #[error("{source_url}: none of the {tried} mirrors tried served the repository: {errors}")]
    AllMirrorsFailed {
        source_url: String,
        tried: usize,
        errors: String,
    },
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
    /// The top file changed, but lists every index file with the checksum
    /// the current snapshot was read from: nothing else downloaded.
    IndexesUnchanged {
        reason: String,
    },
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
    if repo.kind == RepositoryKind::RpmMd
        && let Some(list) = MirrorSource::of(&base)
    {
        return sync_from_mirrors(syncer, db, repo, &base, list, progress).await;
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
    sync_from(syncer, db, repo, &root, &top, conditional, None, progress).await
}

/// Fetches the mirror list or metalink at `list_url` and syncs from its
/// mirrors in order; the first complete one wins.
async fn sync_from_mirrors(
    syncer: &Syncer,
    db: &dyn Database,
    repo: &Repository,
    list_url: &str,
    list: MirrorSource,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(RepoSyncOutcome, Validators), RepoSyncError> {
    let problem = |problem: String| RepoSyncError::MirrorList {
        source_url: list_url.to_owned(),
        problem,
    };
    // Never conditional: the validators kept are those of a mirror's
    // repomd.xml, and the list changes as mirrors come and go.
    let bytes = match syncer.download(list_url, None, progress).await? {
        Download::Body(bytes, _) => bytes,
        Download::NotModified(_) => {
            return Err(problem("answered 304 to an unconditional request".into()));
        }
    };
    let (mirrors, metalink) = match list {
        MirrorSource::Mirrorlist => {
            let text = String::from_utf8_lossy(&bytes);
            (parse_mirrorlist(&text), None)
        }
        MirrorSource::Metalink => {
            let metalink = parse_metalink(&bytes).map_err(problem)?;
            (metalink.mirrors.clone(), Some(metalink))
        }
    };
    if mirrors.is_empty() {
        return Err(problem("lists no http or https mirror".into()));
    }
    let mut errors = Vec::new();
    for mirror in mirrors.iter().take(MAX_MIRRORS_TRIED) {
        match sync_from(
            syncer,
            db,
            repo,
            mirror,
            REPOMD,
            None,
            metalink.as_ref(),
            progress,
        )
        .await
        {
            Ok((outcome, _)) => {
                tracing::info!(repository = %repo.name, %mirror, "synced from a mirror");
                return Ok((outcome, Validators::default()));
            }
            // The store failing is not the mirror's fault: another mirror
            // would fail the same way.
            Err(e @ RepoSyncError::Store(_)) => return Err(e),
            Err(e) => {
                tracing::warn!(repository = %repo.name, %mirror, error = %e, "mirror failed; trying the next");
                errors.push(format!("{mirror}: {e}"));
            }
        }
    }
    Err(RepoSyncError::AllMirrorsFailed {
        source_url: list_url.to_owned(),
        tried: errors.len(),
        errors: errors.join("; "),
    })
}

/// The index files the current snapshot of `repo` was read from (empty
/// when it has none, or was imported from files).
async fn current_index_files(
    db: &dyn Database,
    repo: &Repository,
) -> Result<Vec<IndexFile>, RepoSyncError> {
    if repo.current.is_none() {
        return Ok(Vec::new());
    }
    let Some((_, document)) = db
        .current_repo_snapshots()
        .await?
        .into_iter()
        .find(|(r, _)| r.id == repo.id)
    else {
        return Ok(Vec::new());
    };
    let snapshot = tokio::task::spawn_blocking(move || decode(&document))
        .await
        .map_err(|e| RepoSyncError::Scratch {
            path: "the snapshot decoding task".into(),
            source: std::io::Error::other(e.to_string()),
        })??;
    Ok(snapshot.meta.index_files)
}

/// Syncs from one place: `root/top` and the files it lists.
#[allow(clippy::too_many_arguments)]
async fn sync_from(
    syncer: &Syncer,
    db: &dyn Database,
    repo: &Repository,
    root: &str,
    top: &str,
    conditional: Option<&patchwatch_store::SyncState>,
    metalink: Option<&Metalink>,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(RepoSyncOutcome, Validators), RepoSyncError> {
    let arch = repo.architectures.first().cloned().unwrap_or_default();
    let (top_bytes, validators) = match syncer
        .download(&format!("{root}/{top}"), conditional, progress)
        .await?
    {
        Download::NotModified(v) => return Ok((RepoSyncOutcome::NotModified, v)),
        Download::Body(bytes, v) => (bytes, v),
    };
    if let Some(metalink) = metalink {
        metalink
            .verify(&top_bytes)
            .map_err(|e| RepoSyncError::Metalink(format!("{root}/{top}: {e}")))?;
    }
    let file = |listed: &str| format!("{root}/{listed}");
    // The index files to read, with the checksums the top file gives.
    let mut wanted: Vec<IndexFile> = Vec::new();
    match repo.kind {
        RepositoryKind::Apt => {
            let text = String::from_utf8_lossy(&top_bytes);
            let release = Release::parse(&file(top), &text).map_err(ImportError::from)?;
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
                        wanted.push(IndexFile {
                            path: f.path.clone(),
                            algorithm: "sha256".into(),
                            checksum: f.sha256.clone(),
                        });
                    }
                }
            }
        }
        RepositoryKind::RpmMd => {
            let repomd = parse_repomd(&top_bytes, &file(top)).map_err(ImportError::from)?;
            for d in repomd
                .data
                .iter()
                .filter(|d| matches!(d.kind.as_str(), "primary" | "updateinfo" | "modules"))
            {
                let (algorithm, checksum) = d
                    .checksum
                    .as_ref()
                    .map(|c| (c.algorithm.clone(), c.hex.clone()))
                    .unwrap_or_default();
                wanted.push(IndexFile {
                    path: d.href.clone(),
                    algorithm,
                    checksum,
                });
            }
        }
        RepositoryKind::Apk => {}
    }
    wanted.sort();
    let all_checksummed = wanted.iter().all(|f| !f.checksum.is_empty());
    if !wanted.is_empty() && all_checksummed {
        let mut current = current_index_files(db, repo).await?;
        current.sort();
        if current == wanted {
            return Ok((
                RepoSyncOutcome::IndexesUnchanged {
                    reason: format!(
                        "{top} lists the {} index file(s) the current snapshot was read from, \
                         with the same checksums: nothing else downloaded",
                        wanted.len()
                    ),
                },
                validators,
            ));
        }
    }
    let scratch = tempfile::tempdir().map_err(|source| RepoSyncError::Scratch {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let dir = scratch.path();
    write(dir, top, &top_bytes)?;
    for listed in &wanted {
        if let Download::Body(bytes, _) =
            syncer.download(&file(&listed.path), None, progress).await?
        {
            write(dir, &listed.path, &bytes)?;
        }
    }
    let spec_path = match repo.kind {
        RepositoryKind::Apk => dir.join(top),
        _ => dir.to_path_buf(),
    };
    let (kind, suite, components) = (repo.kind, repo.suite.clone(), repo.components.clone());
    let (snapshot, document, sha256) = tokio::task::spawn_blocking(move || {
        let mut snapshot = read_snapshot(&ImportSpec {
            kind,
            path: &spec_path,
            suite: &suite,
            components: &components,
            arch: &arch,
        })?;
        // Read and checked against the top file: the next sync may skip
        // them while their checksums stay.
        if all_checksummed {
            snapshot.meta.index_files = wanted;
        }
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
