//! Opening the database a URL names.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use patchwatch_store::Database;
use patchwatch_store_postgres::PostgresStore;
use patchwatch_store_sqlite::SqliteStore;

/// Where the data lives, parsed from `sqlite:PATH` or `postgres://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(url: &str) -> anyhow::Result<Location> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                bail!("the database URL {url:?} names no file; use sqlite:PATH");
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_owned()));
        }
        bail!("unsupported database URL {url:?}: use sqlite:PATH or postgres://USER@HOST/DATABASE")
    }

    /// The URL with any password hidden, for messages.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => {
                let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                format!("sqlite:{}", abs.display())
            }
            Location::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
                    let user_end = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
                    format!("{}:***{}", &url[..user_end], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }

    pub async fn open(&self) -> anyhow::Result<Arc<dyn Database>> {
        Ok(match self {
            Location::Sqlite(path) => Arc::new(
                SqliteStore::open(path)
                    .with_context(|| format!("opening the database {}", self.display()))?,
            ),
            Location::Postgres(url) => Arc::new(
                PostgresStore::connect(url)
                    .await
                    .with_context(|| format!("opening the database {}", self.display()))?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hides_passwords() {
        assert_eq!(
            Location::parse("sqlite:pw.db").unwrap(),
            Location::Sqlite("pw.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/pw.db").unwrap(),
            Location::Sqlite("/var/lib/pw.db".into())
        );
        let pg = Location::parse("postgres://pw:secret@db/pw").unwrap();
        assert_eq!(pg.display(), "postgres://pw:***@db/pw");
        let err = Location::parse("mysql://x").unwrap_err().to_string();
        assert!(err.contains("unsupported database URL"), "{err}");
        assert!(Location::parse("sqlite:").is_err());
    }
}
