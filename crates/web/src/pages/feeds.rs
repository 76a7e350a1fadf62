//! `GET /feeds` and `GET /repos`: the vulnerability feeds and package
//! repositories, their last sync, age and last error (configuration, not
//! site data: any reader sees them, as `GET /api/v1/repos`). The dashboard
//! shows the same rows.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use patchwatch_server::AppState;
use patchwatch_store::{Feed, Millis, Repository, format_millis, now_millis};

use crate::page::{Chrome, WebError, render};
use crate::session::WebUser;

/// "3 min", "5 h", "12 d": how long ago `at` was.
pub fn age_text(at: Millis, now: Millis) -> String {
    let minutes = (now - at).max(0) / 60_000;
    match minutes {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

pub struct FeedRow {
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub source: String,
    /// `#N` of the current generation, or empty before the first import.
    pub generation: String,
    pub advisories: String,
    pub imported: String,
    pub last_sync: String,
    /// Age of the data: since the last successful sync, else the import.
    pub age: String,
    pub error: Option<String>,
}

impl FeedRow {
    pub fn new(f: &Feed, now: Millis) -> FeedRow {
        let fresh_at = match (&f.sync.error, f.sync.synced_at) {
            (None, Some(at)) => Some(at),
            _ => f.current.as_ref().map(|g| g.imported_at),
        };
        FeedRow {
            name: f.name.clone(),
            kind: f.kind.as_str().to_owned(),
            enabled: f.enabled,
            source: f.source.clone(),
            generation: f
                .current
                .as_ref()
                .map(|g| format!("#{}", g.number))
                .unwrap_or_default(),
            advisories: f
                .current
                .as_ref()
                .map(|g| g.advisories.to_string())
                .unwrap_or_default(),
            imported: f
                .current
                .as_ref()
                .map(|g| format_millis(g.imported_at))
                .unwrap_or_else(|| "never".into()),
            last_sync: f
                .sync
                .synced_at
                .map(format_millis)
                .unwrap_or_else(|| "never".into()),
            age: fresh_at.map(|at| age_text(at, now)).unwrap_or_default(),
            error: f.sync.error.clone(),
        }
    }
}

pub struct RepoRow {
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub url: String,
    pub last_sync: String,
    pub age: String,
    /// `#N (date)` of the current snapshot.
    pub snapshot: String,
    pub packages: String,
    pub error: Option<String>,
}

impl RepoRow {
    pub fn new(r: &Repository, now: Millis) -> RepoRow {
        let fresh_at = match (&r.sync.error, r.sync.synced_at) {
            (None, Some(at)) => Some(at),
            _ => r.current.as_ref().map(|s| s.imported_at),
        };
        let mut url = r.source.clone();
        if !r.suite.is_empty() {
            url = format!("{url} {}", r.suite);
        }
        if !r.components.is_empty() {
            url = format!("{url} {}", r.components.join(" "));
        }
        RepoRow {
            name: r.name.clone(),
            kind: r.kind.as_str().to_owned(),
            enabled: r.enabled,
            url,
            last_sync: r
                .sync
                .synced_at
                .map(format_millis)
                .unwrap_or_else(|| "never".into()),
            age: fresh_at.map(|at| age_text(at, now)).unwrap_or_default(),
            snapshot: r
                .current
                .as_ref()
                .map(|s| format!("#{} ({})", s.number, format_millis(s.imported_at)))
                .unwrap_or_else(|| "none imported".into()),
            packages: r
                .current
                .as_ref()
                .map(|s| s.packages.to_string())
                .unwrap_or_default(),
            error: r.sync.error.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    chrome: Chrome,
    feeds: Vec<FeedRow>,
}

/// `GET /feeds`
pub async fn feeds(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.caller.reader()?;
    let now = now_millis();
    let feeds = state
        .db
        .feeds()
        .await?
        .iter()
        .map(|f| FeedRow::new(f, now))
        .collect();
    Ok(render(&FeedsPage {
        chrome: user.chrome("feeds"),
        feeds,
    }))
}

#[derive(Template)]
#[template(path = "repos.html")]
struct ReposPage {
    chrome: Chrome,
    repos: Vec<RepoRow>,
}

/// `GET /repos`
pub async fn repos(State(state): State<AppState>, user: WebUser) -> Result<Response, WebError> {
    user.caller.reader()?;
    let now = now_millis();
    let repos = state
        .db
        .repositories()
        .await?
        .iter()
        .map(|r| RepoRow::new(r, now))
        .collect();
    Ok(render(&ReposPage {
        chrome: user.chrome("repos"),
        repos,
    }))
}

#[cfg(test)]
mod tests {
    use super::age_text;

    #[test]
    fn ages_read_naturally() {
        let h = 3_600_000;
        assert_eq!(age_text(0, 5 * 60_000), "5 min");
        assert_eq!(age_text(0, 3 * h), "3 h");
        assert_eq!(age_text(0, 72 * h), "3 d");
        assert_eq!(age_text(10, 0), "0 min");
    }
}
