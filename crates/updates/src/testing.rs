//! Fixtures the server's and the web UI's tests share (feature `testing`):
//! the real bookworm indexes of the shared data set as stored repositories.

use patchwatch_store::{Database, NewRepository, Repository, RepositoryKind};

use crate::{ImportFilesError, import_files};

/// Debian 12's three suites, as its hosts' apt sources name them.
pub const BOOKWORM_SUITES: [&str; 3] = ["bookworm", "bookworm-updates", "bookworm-security"];

/// Stores each of `suites` (of [`BOOKWORM_SUITES`]) as an apt repository,
/// `main` for amd64, a default of Debian 12 hosts, with its real index
/// from the shared data set's `debian/apt-lists` as current snapshot.
pub async fn add_bookworm(
    db: &dyn Database,
    suites: &[&str],
) -> Result<Vec<Repository>, ImportFilesError> {
    let lists = patchwatch_fleet::shared_data_dir().join("debian/apt-lists");
    let mut added = Vec::with_capacity(suites.len());
    for &suite in suites {
        let source = if suite.ends_with("-security") {
            "http://deb.debian.org/debian-security"
        } else {
            "http://deb.debian.org/debian"
        };
        let repo = db
            .add_repository(&NewRepository {
                name: suite.into(),
                kind: RepositoryKind::Apt,
                source: source.into(),
                suite: suite.into(),
                components: vec!["main".into()],
                architectures: vec!["amd64".into()],
                priority: 0,
                cost: 1000,
                default_for: vec!["debian 12".into()],
            })
            .await?;
        import_files(db, &repo, &lists).await?;
        added.push(repo);
    }
    Ok(added)
}
