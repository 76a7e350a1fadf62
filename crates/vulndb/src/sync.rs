//! Downloading a feed's document and storing it as the feed's new
//! generation.
//!
//! A sync asks the vendor's server with the validators of the document
//! fetched last time (`If-None-Match`, `If-Modified-Since`), so an
//! unchanged feed costs one small request. A new document is read whole
//! into memory (up to a size limit), parsed completely, and only then
//! stored: any failure (HTTP status, timeout, a body shorter than its
//! `Content-Length`, a document that doesn't parse) is recorded on the
//! feed as its sync error and the current generation stays as it was.
//!
//! Proxies: the HTTP client takes them from the environment, as curl does:
//! `HTTP_PROXY` / `http_proxy` for `http://` URLs, `HTTPS_PROXY` /
//! `https_proxy` for `https://` URLs, `ALL_PROXY` for both, and hosts in
//! `NO_PROXY` are reached directly.

use std::error::Error as _;
use std::path::PathBuf;
use std::time::Duration;

use patchwatch_store::{
    Database, Feed, FeedKind, Generation, ImportOutcome, StoreError, SyncState,
};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_LENGTH, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use serde::Serialize;

use crate::feed::{FeedError, parse_document, sha256_hex};

/// Default largest document a sync downloads: the biggest vendor feeds
/// (all of Debian's OSV, say) are a few hundred megabytes.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// How downloads are made.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// A larger document is refused (it is held in memory while parsed).
    pub max_bytes: u64,
    /// Time allowed to connect to the server (or proxy).
    pub connect_timeout: Duration,
    /// Time allowed without receiving anything, before the response
    /// headers or between two pieces of the body: a stalled download is
    /// given up, a slow but moving one is not.
    pub idle_timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// How far a download has got, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes: u64,
    /// The `Content-Length`, when the server sent one.
    pub total: Option<u64>,
}

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum SyncOutcome {
    /// A new document, now the current generation.
    Imported {
        generation: Generation,
        previous: Option<i64>,
    },
    /// Downloaded, but it is the current generation's document (same
    /// SHA-256): nothing stored.
    Unchanged { generation: Generation },
    /// The server answered 304 Not Modified: nothing downloaded.
    NotModified,
}

/// Why a sync failed. Whatever it was, the feed's current generation is
/// untouched and the message is recorded as the feed's sync error.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("feed {feed:?} has no source to sync from")]
    NoSource { feed: String },
    #[error("cannot sync from {url:?}: only http://, https:// and file:// URLs or paths")]
    Scheme { url: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// Connecting, TLS, the proxy, a timeout or a broken connection; the
    /// message has the whole chain of causes.
    #[error("GET {url}: {message}")]
    Request { url: String, message: String },
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: no data for {seconds} s")]
    Stalled { url: String, seconds: u64 },
    #[error("GET {url}: the document is larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("GET {url}: truncated download: {got} of {expected} bytes")]
    Truncated {
        url: String,
        got: u64,
        expected: u64,
    },
    #[error("reading {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the document does not parse as {kind}: {source}")]
    Parse {
        kind: FeedKind,
        #[source]
        source: FeedError,
    },
    #[error("the parser thread failed")]
    Parser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a feed's source points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Http(String),
    File(PathBuf),
}

impl Source {
    /// Reads a feed's source: an http(s) URL, a `file://` URL or a path.
    pub fn parse(source: &str) -> Result<Source, SyncError> {
        let scheme_error = || SyncError::Scheme {
            url: source.to_owned(),
        };
        let lower = source.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            reqwest::Url::parse(source).map_err(|_| scheme_error())?;
            Ok(Source::Http(source.to_owned()))
        } else if lower.starts_with("file://") {
            let url = reqwest::Url::parse(source).map_err(|_| scheme_error())?;
            url.to_file_path()
                .map(Source::File)
                .map_err(|()| scheme_error())
        } else if source.contains("://") {
            Err(scheme_error())
        } else {
            Ok(Source::File(PathBuf::from(source)))
        }
    }
}

/// Whether `feeds sync` without names (and the server's periodic sync)
/// takes this feed: enabled, with a URL source. Plain paths are imported
/// by hand (`feeds import`) unless named.
pub fn syncs_by_default(feed: &Feed) -> bool {
    let lower = feed.source.to_ascii_lowercase();
    feed.enabled
        && ["http://", "https://", "file://"]
            .iter()
            .any(|p| lower.starts_with(p))
}

/// Downloads feeds; one client (and its connection pool) for all of them.
#[derive(Debug, Clone)]
pub struct Syncer {
    client: reqwest::Client,
    options: SyncOptions,
}

impl Syncer {
    pub fn new(options: SyncOptions) -> Result<Syncer, SyncError> {
        // The proxy settings come from the environment (reqwest's default);
        // no transparent decompression (not enabled), so the stored
        // document is byte for byte what the vendor published.
        let client = reqwest::Client::builder()
            .user_agent(concat!("patchwatch/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .build()
            .map_err(|e| SyncError::Client(chain(&e)))?;
        Ok(Syncer { client, options })
    }

    /// Syncs one feed and records the outcome on it (validators and time
    /// on success; time and error on failure).
    pub async fn sync(
        &self,
        db: &dyn Database,
        feed: &Feed,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<SyncOutcome, SyncError> {
        let result = self.sync_inner(db, feed, progress).await;
        let state = finished_sync_state(&result);
        match result {
            Ok((outcome, _)) => {
                db.record_sync(feed.id, &state).await?;
                Ok(outcome)
            }
            Err(e) => {
                if let Err(store) = db.record_sync(feed.id, &state).await {
                    tracing::warn!(feed = %feed.name, error = %store, "could not record the sync error");
                }
                Err(e)
            }
        }
    }

    async fn sync_inner(
        &self,
        db: &dyn Database,
        feed: &Feed,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(SyncOutcome, Validators), SyncError> {
        if feed.source.trim().is_empty() {
            return Err(SyncError::NoSource {
                feed: feed.name.clone(),
            });
        }
        let (doc, validators, label) = match Source::parse(&feed.source)? {
            Source::File(path) => {
                let doc = tokio::fs::read(&path)
                    .await
                    .map_err(|source| SyncError::File {
                        path: path.clone(),
                        source,
                    })?;
                progress(Progress {
                    bytes: doc.len() as u64,
                    total: Some(doc.len() as u64),
                });
                // Files carry no validators; an unchanged file is recognised
                // by its SHA-256 below.
                (doc, Validators::default(), path.display().to_string())
            }
            // Validators only make sense while their document is current:
            // with no current generation a 304 would leave nothing to assess.
            Source::Http(url) => match self
                .download(&url, feed.current.is_some().then_some(&feed.sync), progress)
                .await?
            {
                Download::NotModified(v) => return Ok((SyncOutcome::NotModified, v)),
                Download::Body(doc, v) => (doc, v, url),
            },
        };
        let sha256 = sha256_hex(&doc);
        if let Some(g) = feed.current.as_ref().filter(|g| g.sha256 == sha256) {
            let outcome = SyncOutcome::Unchanged {
                generation: g.clone(),
            };
            return Ok((outcome, validators));
        }
        let kind = feed.kind;
        let (doc, count) = tokio::task::spawn_blocking(move || {
            parse_document(kind, &label, &doc, |_| {}).map(|n| (doc, n))
        })
        .await
        .map_err(|_| SyncError::Parser)?
        .map_err(|source| SyncError::Parse { kind, source })?;
        let outcome = match db
            .import_generation(feed.id, doc, &sha256, count as i64)
            .await?
        {
            ImportOutcome::Imported {
                generation,
                previous,
            } => SyncOutcome::Imported {
                generation,
                previous,
            },
            // Another process stored the same document meanwhile.
            ImportOutcome::Unchanged { generation } => SyncOutcome::Unchanged { generation },
        };
        Ok((outcome, validators))
    }

    /// One conditional GET with the size cap, idle timeout and
    /// truncation check; `conditional` holds the validators of the copy
    /// the caller has (`None`: download unconditionally). Also used by
    /// `repos sync` for repository index files.
    pub async fn download(
        &self,
        url: &str,
        conditional: Option<&SyncState>,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Download, SyncError> {
        let request_error = |e: reqwest::Error| SyncError::Request {
            url: url.to_owned(),
            message: chain(&e),
        };
        let stalled = || SyncError::Stalled {
            url: url.to_owned(),
            seconds: self.options.idle_timeout.as_secs(),
        };
        let mut request = self.client.get(url);
        if let Some(held) = conditional {
            if let Some(etag) = &held.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &held.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = tokio::time::timeout(self.options.idle_timeout, request.send())
            .await
            .map_err(|_| stalled())?
            .map_err(request_error)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            // A 304 may carry fresh validators; otherwise the old ones hold.
            let fresh = Validators::from_headers(response.headers());
            let held = conditional.cloned().unwrap_or_default();
            return Ok(Download::NotModified(Validators {
                etag: fresh.etag.or(held.etag),
                last_modified: fresh.last_modified.or(held.last_modified),
            }));
        }
        if !status.is_success() {
            return Err(SyncError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let validators = Validators::from_headers(response.headers());
        let too_large = || SyncError::TooLarge {
            url: url.to_owned(),
            limit: self.options.max_bytes,
        };
        // Read the header ourselves: reqwest's content_length() is also
        // the body's size hint, which is not what the server promised.
        let total = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if total.is_some_and(|t| t > self.options.max_bytes) {
            return Err(too_large());
        }
        let mut doc = Vec::with_capacity(total.unwrap_or(0).min(64 << 20) as usize);
        progress(Progress { bytes: 0, total });
        loop {
            let chunk = tokio::time::timeout(self.options.idle_timeout, response.chunk())
                .await
                .map_err(|_| stalled())?
                // hyper reports a body that ends before its Content-Length
                // here; the check below catches any it lets through.
                .map_err(request_error)?;
            let Some(chunk) = chunk else { break };
            if doc.len() as u64 + chunk.len() as u64 > self.options.max_bytes {
                return Err(too_large());
            }
            doc.extend_from_slice(&chunk);
            progress(Progress {
                bytes: doc.len() as u64,
                total,
            });
        }
        if let Some(expected) = total
            && doc.len() as u64 != expected
        {
            return Err(SyncError::Truncated {
                url: url.to_owned(),
                got: doc.len() as u64,
                expected,
            });
        }
        Ok(Download::Body(doc, validators))
    }
}

/// What [`Syncer::download`] got.
pub enum Download {
    NotModified(Validators),
    Body(Vec<u8>, Validators),
}

/// What a finished sync leaves on record, for a feed or a repository: the
/// new validators, or the error and none (so the next request asks
/// unconditionally).
pub fn finished_sync_state<T, E: std::fmt::Display>(
    result: &Result<(T, Validators), E>,
) -> SyncState {
    let synced_at = Some(patchwatch_store::now_millis());
    match result {
        Ok((_, validators)) => SyncState {
            etag: validators.etag.clone(),
            last_modified: validators.last_modified.clone(),
            synced_at,
            error: None,
        },
        Err(e) => SyncState {
            synced_at,
            error: Some(e.to_string()),
            ..SyncState::default()
        },
    }
}

/// A response's validators, kept for the next conditional request.
#[derive(Debug, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn from_headers(h: &HeaderMap) -> Validators {
        let get = |name| {
            h.get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Validators {
            etag: get(ETAG),
            last_modified: get(LAST_MODIFIED),
        }
    }
}

/// An error with all its causes: reqwest's own message alone ("error
/// sending request") does not say what went wrong.
fn chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    if e.is_timeout() && !out.contains("timed out") {
        out.push_str(" (timed out)");
    }
    out
}
