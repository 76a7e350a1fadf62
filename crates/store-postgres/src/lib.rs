//! Patchwatch's PostgreSQL backend: several server processes share one
//! database.
//!
//! Unlike SQLite's single writer thread, nothing here serialises writes in
//! the process: every request runs its own transaction on a pooled
//! connection, and correctness under concurrency comes from the database
//! (unique constraints with `ON CONFLICT`, row locks, an advisory lock
//! between ingest and prune, and retries of transactions that lose a race;
//! see [`ingest`]). Per-process id caches (see [`cache`]) save round trips
//! and stay safe when another process prunes.
#![forbid(unsafe_code)]

mod cache;
mod error;
mod feeds;
mod ingest;
mod intern;
mod kernel;
mod migrate;
pub use migrate::latest_schema_version;
mod read;
mod repos;
mod sessions;
mod tokens;
mod triage;
mod users;

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
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

use cache::Caches;
pub(crate) use error::{pg_error, pool_error};

/// Connections a store opens by default: enough to keep a busy server's
/// ingest concurrent without crowding PostgreSQL's `max_connections` when
/// several server processes share it.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How a [`PostgresStore`] uses its connections.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Most connections open at once.
    pub pool_size: usize,
    /// How long a request waits for a free connection before the store
    /// reports itself unavailable (the server answers 503).
    pub acquire_timeout: Duration,
    /// Applied when the URL sets no `connect_timeout` of its own.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions {
            pool_size: DEFAULT_POOL_SIZE,
            acquire_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

pub struct PostgresStore {
    pool: Pool,
    caches: Caches,
}

impl PostgresStore {
    /// Connects with [`PostgresOptions::default`] and brings the schema up
    /// to date. `url` is anything tokio-postgres accepts: a
    /// `postgres://user@host:port/db?options=-csearch_path%3Dschema` URL or
    /// a libpq key/value string (`host=... dbname=... options=...`).
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Url(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("patchwatch");
        }
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                // Transactions roll back when dropped, so a returned
                // connection is clean; checking it isn't closed is enough.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(format!("building the connection pool: {e}")))?;
        {
            let mut client = pool.get().await.map_err(pool_error)?;
            migrate::run(&mut client).await?;
        }
        Ok(PostgresStore {
            pool,
            caches: Caches::default(),
        })
    }

    /// The connection pool, for callers that need raw access (tests, tools).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }
}

#[async_trait]
impl Database for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(pg_error)?;
        Ok(())
    }

    async fn create_site(&self, name: &str) -> Result<Site, StoreError> {
        ingest::create_site(&*self.client().await?, name).await
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        read::sites(&*self.client().await?, None).await
    }

    async fn site(&self, name: &str) -> Result<Option<Site>, StoreError> {
        Ok(read::sites(&*self.client().await?, Some(name)).await?.pop())
    }

    async fn add_token(&self, token: &NewToken) -> Result<TokenRecord, StoreError> {
        ingest::add_token(&*self.client().await?, token).await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        read::tokens(&*self.client().await?, None).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(read::tokens(&*self.client().await?, Some(hash))
            .await?
            .pop())
    }

    async fn revoke_token(
        &self,
        name: &str,
        revoked_by: Option<i64>,
    ) -> Result<Revocation, StoreError> {
        tokens::revoke(&self.client().await?, name, revoked_by).await
    }

    async fn delete_token(&self, name: &str) -> Result<bool, StoreError> {
        tokens::delete(&self.client().await?, name).await
    }

    async fn record_token_use(&self, id: i64, at: Millis) -> Result<bool, StoreError> {
        tokens::record_use(&self.client().await?, id, at).await
    }

    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome, StoreError> {
        ingest::ingest(&self.pool, &self.caches, &request).await
    }

    async fn ingest_repeat(
        &self,
        request: RepeatRequest,
    ) -> Result<Option<IngestOutcome>, StoreError> {
        ingest::repeat(&self.pool, &self.caches, &request).await
    }

    async fn hosts(&self, filter: &HostFilter) -> Result<Page<HostSummary>, StoreError> {
        read::hosts(&*self.client().await?, filter).await
    }

    async fn host_refs(&self, filter: &HostFilter) -> Result<Vec<HostRef>, StoreError> {
        read::host_refs(&*self.client().await?, filter).await
    }

    async fn host(&self, id: i64) -> Result<Option<HostDetail>, StoreError> {
        read::host(&*self.client().await?, id).await
    }

    async fn host_details(&self, filter: &HostFilter) -> Result<Vec<HostDetail>, StoreError> {
        read::host_details(&*self.client().await?, filter).await
    }

    async fn host_keys(&self) -> Result<patchwatch_store::HostKeys, StoreError> {
        read::host_keys(&mut *self.client().await?).await
    }

    async fn host_keys_version(&self) -> Result<i64, StoreError> {
        read::host_keys_version(&*self.client().await?).await
    }

    async fn delete_host(&self, id: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        // Reports and tags go with the host (ON DELETE CASCADE); its
        // package sets stay until the next prune.
        let stmt = client
            .prepare_cached("DELETE FROM hosts WHERE id = $1")
            .await
            .map_err(pg_error)?;
        let n = client.execute(&stmt, &[&id]).await.map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn hosts_without_kernel_verdict(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<KernelCheck>, StoreError> {
        kernel::unchecked(&*self.client().await?, after_id, limit).await
    }

    async fn set_kernel_verdicts(&self, verdicts: &[KernelVerdict]) -> Result<u64, StoreError> {
        kernel::store(&*self.client().await?, verdicts).await
    }

    async fn package_set(&self, set_id: i64) -> Result<Vec<Package>, StoreError> {
        read::package_set(&*self.client().await?, set_id).await
    }

    async fn package_set_members(
        &self,
        set_ids: &[i64],
    ) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
        read::package_set_members(&*self.client().await?, set_ids).await
    }

    async fn packages_by_id(&self, ids: &[i64]) -> Result<Vec<(i64, Package)>, StoreError> {
        read::packages_by_id(&*self.client().await?, ids).await
    }

    async fn reports(
        &self,
        host_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        read::reports(&*self.client().await?, host_id, limit, offset).await
    }

    async fn prune(&self, before: i64) -> Result<PruneStats, StoreError> {
        ingest::prune(&self.pool, &self.caches, before).await
    }

    async fn add_feed(&self, feed: &NewFeed) -> Result<Feed, StoreError> {
        validate_feed_name(&feed.name)?;
        feeds::add_feed(&*self.client().await?, feed).await
    }

    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        feeds::feeds(&self.client().await?, None).await
    }

    async fn feed(&self, name: &str) -> Result<Option<Feed>, StoreError> {
        Ok(feeds::feeds(&self.client().await?, Some(name)).await?.pop())
    }

    async fn import_generation(
        &self,
        feed_id: i64,
        document: Vec<u8>,
        sha256: &str,
        advisories: i64,
    ) -> Result<ImportOutcome, StoreError> {
        validate_sha256(sha256)?;
        let mut client = self.client().await?;
        feeds::import(&mut client, feed_id, &document, sha256, advisories).await
    }

    async fn current_documents(&self) -> Result<Vec<(Feed, Vec<u8>)>, StoreError> {
        feeds::current_documents(&mut *self.client().await?).await
    }

    async fn delete_feed(&self, name: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        // Generations go with the feed (ON DELETE CASCADE).
        let n = client
            .execute("DELETE FROM feeds WHERE name = $1", &[&name])
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn record_sync(&self, feed_id: i64, state: &SyncState) -> Result<(), StoreError> {
        feeds::record_sync(&*self.client().await?, feed_id, state).await
    }

    async fn set_feed_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE feeds SET enabled = $2 WHERE name = $1",
                &[&name, &enabled],
            )
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn add_repository(&self, repo: &NewRepository) -> Result<Repository, StoreError> {
        validate_repository(repo)?;
        repos::add(&*self.client().await?, repo).await
    }

    async fn repositories(&self) -> Result<Vec<Repository>, StoreError> {
        repos::repositories(&self.client().await?, None).await
    }

    async fn repository(&self, name: &str) -> Result<Option<Repository>, StoreError> {
        Ok(repos::repositories(&self.client().await?, Some(name))
            .await?
            .pop())
    }

    async fn remove_repository(&self, name: &str) -> Result<bool, StoreError> {
        // Snapshots go with the repository (ON DELETE CASCADE).
        let n = self
            .client()
            .await?
            .execute("DELETE FROM repositories WHERE name = $1", &[&name])
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn set_repository_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE repositories SET enabled = $2 WHERE name = $1",
                &[&name, &enabled],
            )
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn import_repo_snapshot(
        &self,
        repository_id: i64,
        document: Vec<u8>,
        sha256: &str,
        packages: i64,
    ) -> Result<RepoImportOutcome, StoreError> {
        validate_sha256(sha256)?;
        let mut client = self.client().await?;
        repos::import(&mut client, repository_id, &document, sha256, packages).await
    }

    async fn current_repo_snapshots(&self) -> Result<Vec<(Repository, Vec<u8>)>, StoreError> {
        repos::current_snapshots(&mut *self.client().await?).await
    }

    async fn record_repo_sync(
        &self,
        repository_id: i64,
        state: &SyncState,
    ) -> Result<(), StoreError> {
        repos::record_sync(&*self.client().await?, repository_id, state).await
    }

    async fn add_tag(&self, name: &str, reason: &str) -> Result<CveTag, StoreError> {
        patchwatch_store::validate_tag_name(name)?;
        triage::add_tag(&self.client().await?, name, reason.trim()).await
    }

    async fn tags(&self) -> Result<Vec<CveTag>, StoreError> {
        triage::tags(&self.client().await?, None).await
    }

    async fn set_tag_enabled(&self, name: &str, enabled: bool) -> Result<CveTag, StoreError> {
        triage::set_enabled(&self.client().await?, name, enabled).await
    }

    async fn remove_tag(&self, name: &str) -> Result<(), StoreError> {
        triage::remove_tag(&self.client().await?, name).await
    }

    async fn assign_tag(&self, assignment: &NewAssignment) -> Result<TagAssignment, StoreError> {
        let a = patchwatch_store::triage::validate_assignment(assignment)?;
        triage::assign(&self.client().await?, &a).await
    }

    async fn unassign_tag(&self, cve: &str, tag: &str) -> Result<(), StoreError> {
        let cve = patchwatch_store::canonical_cve(cve)?;
        triage::unassign(&self.client().await?, &cve, tag).await
    }

    async fn tag_assignments(&self) -> Result<Vec<TagAssignment>, StoreError> {
        triage::assignments(&self.client().await?).await
    }

    async fn add_exception(&self, exception: &NewException) -> Result<Exception, StoreError> {
        let e = patchwatch_store::triage::validate_exception(
            exception,
            patchwatch_store::now_millis(),
        )?;
        triage::add_exception(&self.client().await?, &e).await
    }

    async fn exceptions(&self) -> Result<Vec<Exception>, StoreError> {
        triage::exceptions(&self.client().await?, None).await
    }

    async fn remove_exception(&self, id: i64) -> Result<(), StoreError> {
        triage::remove_exception(&self.client().await?, id).await
    }

    async fn add_user(&self, user: &NewUser) -> Result<User, StoreError> {
        patchwatch_store::users::validate_user_name(&user.name)?;
        users::add_user(&self.client().await?, user).await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        users::users(&self.client().await?, None).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        Ok(users::users(&self.client().await?, Some(name)).await?.pop())
    }

    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute("DELETE FROM users WHERE name = $1", &[&name])
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn set_password(&self, name: &str, hash: Option<&str>) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE users SET password_hash = $2 WHERE name = $1",
                &[&name, &hash],
            )
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn grant(&self, user: &str, grant: &NewGrant) -> Result<UserGrant, StoreError> {
        users::grant(&self.client().await?, user, grant).await
    }

    async fn revoke(&self, user: &str, grant: &NewGrant) -> Result<bool, StoreError> {
        users::revoke(&self.client().await?, user, grant).await
    }

    async fn add_site_group(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<SiteGroup, StoreError> {
        patchwatch_store::users::validate_group_name(name)?;
        users::add_site_group(&self.client().await?, name, parent).await
    }

    async fn site_groups(&self) -> Result<Vec<SiteGroup>, StoreError> {
        users::site_groups(&self.client().await?).await
    }

    async fn remove_site_group(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute("DELETE FROM site_groups WHERE name = $1", &[&name])
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn set_group_member(
        &self,
        group: &str,
        site: &str,
        member: bool,
    ) -> Result<(), StoreError> {
        users::set_group_member(&self.client().await?, group, site, member).await
    }

    async fn create_session(
        &self,
        session: &NewSession,
        at: Millis,
    ) -> Result<Session, StoreError> {
        patchwatch_store::sessions::validate(session)?;
        sessions::create(&self.client().await?, session, at).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        sessions::session(&self.client().await?, id_hash).await
    }

    async fn touch_session(&self, id_hash: &str, at: Millis) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE web_sessions SET last_seen = GREATEST(last_seen, $2) WHERE id_hash = $1",
                &[&id_hash, &at],
            )
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let n = self
            .client()
            .await?
            .execute("DELETE FROM web_sessions WHERE id_hash = $1", &[&id_hash])
            .await
            .map_err(pg_error)?;
        Ok(n > 0)
    }

    async fn expire_sessions(
        &self,
        created_before: Millis,
        idle_before: Millis,
    ) -> Result<u64, StoreError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM web_sessions WHERE created_at < $1 OR last_seen < $2",
                &[&created_before, &idle_before],
            )
            .await
            .map_err(pg_error)
    }

    // Web UI dashboard trends (issue 11).
    async fn report_changes_since(
        &self,
        since: Millis,
    ) -> Result<Vec<patchwatch_store::ReportChange>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&patchwatch_store::report_changes_sql("$1::bigint"))
            .await
            .map_err(pg_error)?;
        let rows = client.query(&stmt, &[&since]).await.map_err(pg_error)?;
        rows.iter()
            .map(|r| patchwatch_store::rows::report_change(&error::PgColumns(r)))
            .collect()
    }
}
