//! Patchwatch's embedded backend: one SQLite file, zero set-up.
//!
//! Writes go through one thread that commits in groups (see [`writer`]);
//! reads use their own connections, which WAL mode lets run beside it.
#![forbid(unsafe_code)]

mod feeds;
mod ingest;
mod kernel;
mod migrate;
pub use migrate::{applied_schema_versions, schema_versions};
mod read;
mod repos;
mod sessions;
mod tokens;
mod triage;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use patchwatch_reports::Package;
use patchwatch_store::{CveTag, Exception, NewAssignment, NewException, TagAssignment};
use patchwatch_store::{
    Database, Feed, HostDetail, HostFilter, HostRef, HostSummary, ImportOutcome, IngestOutcome,
    IngestRequest, NewFeed, NewToken, Page, PruneStats, RepeatRequest, ReportRecord, Revocation,
    Site, StoreError, SyncState, TokenRecord, validate_feed_name, validate_sha256,
};
use patchwatch_store::{KernelCheck, KernelVerdict};
use patchwatch_store::{Millis, NewSession, Session};
use patchwatch_store::{NewGrant, NewUser, SiteGroup, User, UserGrant};
use patchwatch_store::{NewRepository, RepoImportOutcome, Repository, validate_repository};
use rusqlite::{Connection, OpenFlags};

use writer::Writer;

pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Readers>,
}

/// Idle read connections, reused.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// How long a connection waits for a lock another process holds before
/// giving up (the server then answers 503).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema
    /// up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
        configure(&conn)?;
        // WAL lets readers run beside the writer; FULL makes every commit
        // durable before the server answers 2xx (the writer's group commit
        // keeps that affordable).
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(sql_error)?;
        migrate::run(&conn)?;
        Ok(SqliteStore {
            writer: Writer::start(conn),
            readers: Arc::new(Readers {
                path: path.clone(),
                idle: Mutex::new(Vec::new()),
            }),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let result = f(&conn);
            readers.give(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }
}

impl Readers {
    const MAX_IDLE: usize = 16;

    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().expect("reader pool lock").pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", self.path.display())))?;
        configure(&conn)?;
        conn.execute_batch("PRAGMA query_only = ON")
            .map_err(sql_error)?;
        Ok(conn)
    }

    fn give(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < Self::MAX_IDLE {
            idle.push(conn);
        }
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;")
        .map_err(sql_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Maps SQLite's errors onto the store's: lock and I/O trouble is
/// "unavailable" (retry later), the rest is a backend error.
pub(crate) fn sql_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure | DiskFull
            | OutOfMemory | ReadOnly => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Backend(e.to_string()),
        },
        _ => StoreError::Backend(e.to_string()),
    }
}

#[async_trait]
impl Database for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(sql_error))
            .await
    }

    async fn create_site(&self, name: &str) -> Result<Site, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| ingest::create_site(c, &name))
            .await
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.read(read::sites).await
    }

    async fn site(&self, name: &str) -> Result<Option<Site>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| read::site(c, &name)).await
    }

    async fn add_token(&self, token: &NewToken) -> Result<TokenRecord, StoreError> {
        let row = ingest::NewTokenRow {
            name: token.name.clone(),
            kind: token.kind,
            site_id: token.site_id,
            access: token.access,
            user_id: token.user_id,
            group_id: token.group_id,
            hash: token.hash.clone(),
        };
        self.writer
            .write(move |c, _| ingest::add_token(c, &row))
            .await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|c| read::tokens(c, None)).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let hash = hash.to_owned();
        self.read(move |c| Ok(read::tokens(c, Some(&hash))?.pop()))
            .await
    }

    async fn revoke_token(
        &self,
        name: &str,
        revoked_by: Option<i64>,
    ) -> Result<Revocation, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| tokens::revoke(c, &name, revoked_by))
            .await
    }

    async fn delete_token(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| tokens::delete(c, &name))
            .await
    }

    async fn record_token_use(&self, id: i64, at: Millis) -> Result<bool, StoreError> {
        self.writer
            .write(move |c, _| tokens::record_use(c, id, at))
            .await
    }

    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome, StoreError> {
        self.writer
            .write(move |c, caches| ingest::ingest(c, caches, &request))
            .await
    }

    async fn ingest_repeat(
        &self,
        request: RepeatRequest,
    ) -> Result<Option<IngestOutcome>, StoreError> {
        self.writer
            .write(move |c, _| ingest::repeat(c, &request))
            .await
    }

    async fn hosts(&self, filter: &HostFilter) -> Result<Page<HostSummary>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| read::hosts(c, &filter)).await
    }

    async fn host_refs(&self, filter: &HostFilter) -> Result<Vec<HostRef>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| read::host_refs(c, &filter)).await
    }

    async fn host(&self, id: i64) -> Result<Option<HostDetail>, StoreError> {
        self.read(move |c| read::host(c, id)).await
    }

    async fn host_details(&self, filter: &HostFilter) -> Result<Vec<HostDetail>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| read::host_details(c, &filter)).await
    }

    async fn host_keys(&self) -> Result<patchwatch_store::HostKeys, StoreError> {
        self.read(read::host_keys).await
    }

    async fn host_keys_version(&self) -> Result<i64, StoreError> {
        self.read(read::host_keys_version).await
    }

    async fn delete_host(&self, id: i64) -> Result<bool, StoreError> {
        self.writer
            .write(move |c, _| {
                c.execute("DELETE FROM hosts WHERE id = ?1", [id])
                    .map(|n| n > 0)
                    .map_err(sql_error)
            })
            .await
    }

    async fn hosts_without_kernel_verdict(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<KernelCheck>, StoreError> {
        self.read(move |c| kernel::unchecked(c, after_id, limit))
            .await
    }

    async fn set_kernel_verdicts(&self, verdicts: &[KernelVerdict]) -> Result<u64, StoreError> {
        let verdicts = verdicts.to_vec();
        self.writer
            .write(move |c, _| kernel::store(c, &verdicts))
            .await
    }

    async fn package_set(&self, set_id: i64) -> Result<Vec<Package>, StoreError> {
        self.read(move |c| read::package_set(c, set_id)).await
    }

    async fn package_set_members(
        &self,
        set_ids: &[i64],
    ) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
        let set_ids = set_ids.to_vec();
        self.read(move |c| read::package_set_members(c, &set_ids))
            .await
    }

    async fn packages_by_id(&self, ids: &[i64]) -> Result<Vec<(i64, Package)>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |c| read::packages_by_id(c, &ids)).await
    }

    async fn reports(
        &self,
        host_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        self.read(move |c| read::reports(c, host_id, limit, offset))
            .await
    }

    async fn prune(&self, before: i64) -> Result<PruneStats, StoreError> {
        self.writer
            .write(move |c, caches| ingest::prune(c, caches, before))
            .await
    }

    async fn add_feed(&self, feed: &NewFeed) -> Result<Feed, StoreError> {
        validate_feed_name(&feed.name)?;
        let feed = feed.clone();
        self.writer
            .write(move |c, _| feeds::add_feed(c, &feed))
            .await
    }

    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        self.read(|c| feeds::feeds(c, None)).await
    }

    async fn feed(&self, name: &str) -> Result<Option<Feed>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| Ok(feeds::feeds(c, Some(&name))?.pop()))
            .await
    }

    async fn import_generation(
        &self,
        feed_id: i64,
        document: Vec<u8>,
        sha256: &str,
        advisories: i64,
    ) -> Result<ImportOutcome, StoreError> {
        validate_sha256(sha256)?;
        let sha256 = sha256.to_owned();
        // The writer may run the work again, so it borrows the document.
        self.writer
            .write(move |c, _| feeds::import(c, feed_id, &document, &sha256, advisories))
            .await
    }

    async fn current_documents(&self) -> Result<Vec<(Feed, Vec<u8>)>, StoreError> {
        self.read(feeds::current_documents).await
    }

    async fn delete_feed(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute("DELETE FROM feeds WHERE name = ?1", [&name])
                    .map(|n| n > 0)
                    .map_err(sql_error)
            })
            .await
    }

    async fn record_sync(&self, feed_id: i64, state: &SyncState) -> Result<(), StoreError> {
        let state = state.clone();
        self.writer
            .write(move |c, _| feeds::record_sync(c, feed_id, &state))
            .await
    }

    async fn set_feed_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute(
                    "UPDATE feeds SET enabled = ?2 WHERE name = ?1",
                    rusqlite::params![name, enabled],
                )
                .map(|n| n > 0)
                .map_err(sql_error)
            })
            .await
    }

    async fn add_repository(&self, repo: &NewRepository) -> Result<Repository, StoreError> {
        validate_repository(repo)?;
        let repo = repo.clone();
        self.writer.write(move |c, _| repos::add(c, &repo)).await
    }

    async fn repositories(&self) -> Result<Vec<Repository>, StoreError> {
        self.read(|c| repos::repositories(c, None)).await
    }

    async fn repository(&self, name: &str) -> Result<Option<Repository>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| Ok(repos::repositories(c, Some(&name))?.pop()))
            .await
    }

    async fn remove_repository(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute("DELETE FROM repositories WHERE name = ?1", [&name])
                    .map(|n| n > 0)
                    .map_err(sql_error)
            })
            .await
    }

    async fn set_repository_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute(
                    "UPDATE repositories SET enabled = ?2 WHERE name = ?1",
                    rusqlite::params![name, enabled],
                )
                .map(|n| n > 0)
                .map_err(sql_error)
            })
            .await
    }

    async fn import_repo_snapshot(
        &self,
        repository_id: i64,
        document: Vec<u8>,
        sha256: &str,
        packages: i64,
    ) -> Result<RepoImportOutcome, StoreError> {
        validate_sha256(sha256)?;
        let sha256 = sha256.to_owned();
        self.writer
            .write(move |c, _| repos::import(c, repository_id, &document, &sha256, packages))
            .await
    }

    async fn current_repo_snapshots(&self) -> Result<Vec<(Repository, Vec<u8>)>, StoreError> {
        self.read(repos::current_snapshots).await
    }

    async fn record_repo_sync(
        &self,
        repository_id: i64,
        state: &SyncState,
    ) -> Result<(), StoreError> {
        let state = state.clone();
        self.writer
            .write(move |c, _| repos::record_sync(c, repository_id, &state))
            .await
    }

    async fn add_tag(&self, name: &str, reason: &str) -> Result<CveTag, StoreError> {
        patchwatch_store::validate_tag_name(name)?;
        let (name, reason) = (name.to_owned(), reason.trim().to_owned());
        self.writer
            .write(move |c, _| triage::add_tag(c, &name, &reason))
            .await
    }

    async fn tags(&self) -> Result<Vec<CveTag>, StoreError> {
        self.read(|c| triage::tags(c, None)).await
    }

    async fn set_tag_enabled(&self, name: &str, enabled: bool) -> Result<CveTag, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| triage::set_enabled(c, &name, enabled))
            .await
    }

    async fn remove_tag(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| triage::remove_tag(c, &name))
            .await
    }

    async fn assign_tag(&self, assignment: &NewAssignment) -> Result<TagAssignment, StoreError> {
        let a = patchwatch_store::triage::validate_assignment(assignment)?;
        self.writer.write(move |c, _| triage::assign(c, &a)).await
    }

    async fn unassign_tag(&self, cve: &str, tag: &str) -> Result<(), StoreError> {
        let cve = patchwatch_store::canonical_cve(cve)?;
        let tag = tag.to_owned();
        self.writer
            .write(move |c, _| triage::unassign(c, &cve, &tag))
            .await
    }

    async fn tag_assignments(&self) -> Result<Vec<TagAssignment>, StoreError> {
        self.read(triage::assignments).await
    }

    async fn add_exception(&self, exception: &NewException) -> Result<Exception, StoreError> {
        let e = patchwatch_store::triage::validate_exception(
            exception,
            patchwatch_store::now_millis(),
        )?;
        self.writer
            .write(move |c, _| triage::add_exception(c, &e))
            .await
    }

    async fn exceptions(&self) -> Result<Vec<Exception>, StoreError> {
        self.read(|c| triage::exceptions(c, None)).await
    }

    async fn remove_exception(&self, id: i64) -> Result<(), StoreError> {
        self.writer
            .write(move |c, _| triage::remove_exception(c, id))
            .await
    }

    async fn add_user(&self, user: &NewUser) -> Result<User, StoreError> {
        patchwatch_store::users::validate_user_name(&user.name)?;
        let user = user.clone();
        self.writer
            .write(move |c, _| users::add_user(c, &user))
            .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|c| users::users(c, None)).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| Ok(users::users(c, Some(&name))?.pop()))
            .await
    }

    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute("DELETE FROM users WHERE name = ?1", [&name])
                    .map(|n| n > 0)
                    .map_err(sql_error)
            })
            .await
    }

    async fn set_password(&self, name: &str, hash: Option<&str>) -> Result<bool, StoreError> {
        let (name, hash) = (name.to_owned(), hash.map(str::to_owned));
        self.writer
            .write(move |c, _| {
                c.execute(
                    "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                    rusqlite::params![name, hash],
                )
                .map(|n| n > 0)
                .map_err(sql_error)
            })
            .await
    }

    async fn grant(&self, user: &str, grant: &NewGrant) -> Result<UserGrant, StoreError> {
        let (user, grant) = (user.to_owned(), grant.clone());
        self.writer
            .write(move |c, _| users::grant(c, &user, &grant))
            .await
    }

    async fn revoke(&self, user: &str, grant: &NewGrant) -> Result<bool, StoreError> {
        let (user, grant) = (user.to_owned(), grant.clone());
        self.writer
            .write(move |c, _| users::revoke(c, &user, &grant))
            .await
    }

    async fn add_site_group(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<SiteGroup, StoreError> {
        patchwatch_store::users::validate_group_name(name)?;
        let (name, parent) = (name.to_owned(), parent.map(str::to_owned));
        self.writer
            .write(move |c, _| users::add_site_group(c, &name, parent.as_deref()))
            .await
    }

    async fn site_groups(&self) -> Result<Vec<SiteGroup>, StoreError> {
        self.read(users::site_groups).await
    }

    async fn remove_site_group(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute("DELETE FROM site_groups WHERE name = ?1", [&name])
                    .map(|n| n > 0)
                    .map_err(sql_error)
            })
            .await
    }

    async fn set_group_member(
        &self,
        group: &str,
        site: &str,
        member: bool,
    ) -> Result<(), StoreError> {
        let (group, site) = (group.to_owned(), site.to_owned());
        self.writer
            .write(move |c, _| users::set_group_member(c, &group, &site, member))
            .await
    }

    async fn create_session(
        &self,
        session: &NewSession,
        at: Millis,
    ) -> Result<Session, StoreError> {
        patchwatch_store::sessions::validate(session)?;
        let session = session.clone();
        self.writer
            .write(move |c, _| sessions::create(c, &session, at))
            .await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.read(move |c| sessions::session(c, &id_hash)).await
    }

    async fn touch_session(&self, id_hash: &str, at: Millis) -> Result<bool, StoreError> {
        let id_hash = id_hash.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute(
                    "UPDATE web_sessions SET last_seen = max(last_seen, ?2) WHERE id_hash = ?1",
                    rusqlite::params![id_hash, at],
                )
                .map(|n| n > 0)
                .map_err(sql_error)
            })
            .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let id_hash = id_hash.to_owned();
        self.writer
            .write(move |c, _| {
                c.execute("DELETE FROM web_sessions WHERE id_hash = ?1", [&id_hash])
                    .map(|n| n > 0)
                    .map_err(sql_error)
            })
            .await
    }

    async fn expire_sessions(
        &self,
        created_before: Millis,
        idle_before: Millis,
    ) -> Result<u64, StoreError> {
        self.writer
            .write(move |c, _| {
                c.execute(
                    "DELETE FROM web_sessions WHERE created_at < ?1 OR last_seen < ?2",
                    [created_before, idle_before],
                )
                .map(|n| n as u64)
                .map_err(sql_error)
            })
            .await
    }

    // Web UI dashboard trends (issue 11).
    async fn report_changes_since(
        &self,
        since: Millis,
    ) -> Result<Vec<patchwatch_store::ReportChange>, StoreError> {
        self.read(move |c| {
            let sql = patchwatch_store::report_changes_sql("?1");
            let mut stmt = c.prepare_cached(&sql).map_err(sql_error)?;
            collect_rows(&mut stmt, [since], patchwatch_store::rows::report_change)
        })
        .await
    }
}

/// A rusqlite row as the store's shared record builders read it.
pub(crate) struct SqliteColumns<'a, 'b>(pub &'a rusqlite::Row<'b>);

impl patchwatch_store::rows::Columns for SqliteColumns<'_, '_> {
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.0.get(i).map_err(sql_error)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.0.get(i).map_err(sql_error)
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.0.get(i).map_err(sql_error)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.0.get(i).map_err(sql_error)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.0.get(i).map_err(sql_error)
    }
    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError> {
        self.0.get(i).map_err(sql_error)
    }
}

/// Runs a prepared query and builds a record from every row.
pub(crate) fn collect_rows<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    build: impl Fn(&dyn patchwatch_store::rows::Columns) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = stmt.query(params).map_err(sql_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        out.push(build(&SqliteColumns(row))?);
    }
    Ok(out)
}
