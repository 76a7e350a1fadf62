//! A fresh, empty store in its own schema for each test, dropped afterwards.

#![allow(dead_code)] // Each test binary uses part of this.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use patchwatch_reports::Package;
use patchwatch_store::{
    CveTag, Database, Exception, Feed, HostDetail, HostFilter, HostRef, HostSummary, ImportOutcome,
    IngestOutcome, IngestRequest, NewAssignment, NewException, NewFeed, NewToken, Page, PruneStats,
    RepeatRequest, ReportRecord, Revocation, Site, StoreError, SyncState, TagAssignment,
    TokenRecord,
};
use patchwatch_store::{Millis, NewSession, Session};
use patchwatch_store::{NewGrant, NewUser, SiteGroup, User, UserGrant};
use patchwatch_store_postgres::{PostgresOptions, PostgresStore};
use tokio_postgres::NoTls;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store in a schema of its own; the schema is dropped with it.
pub struct TestDb {
    store: PostgresStore,
    url: String,
    schema: String,
}

fn base_url() -> String {
    std::env::var("PATCHWATCH_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with the schema as the connection's `search_path`, for URLs and
/// for libpq key/value strings alike.
fn with_search_path(url: &str, schema: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-csearch_path%3D{schema}")
    } else {
        format!("{url} options='-csearch_path={schema}'")
    }
}

fn unique_schema() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = std::collections::hash_map::RandomState::new().hash_one(n) as u32;
    format!("pw_test_{}_{n}_{random:08x}", std::process::id())
}

/// Opens a fresh store, or `None` (after a notice) when PostgreSQL can't be
/// reached, unless `CI=true`, where an unreachable database fails the test.
pub async fn open(options: PostgresOptions) -> Option<TestDb> {
    let url = base_url();
    let admin = match tokio_postgres::connect(&url, NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(conn);
            client
        }
        Err(e) => {
            let e = match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            };
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL at {url} is unreachable ({e}); CI requires it");
            }
            eprintln!(
                "notice: skipping: PostgreSQL at {url} is unreachable ({e}); \
                 set PATCHWATCH_TEST_POSTGRES to test the PostgreSQL backend"
            );
            return None;
        }
    };
    let schema = unique_schema();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("creating the test schema");
    let store = PostgresStore::connect_with(&with_search_path(&url, &schema), options)
        .await
        .expect("connecting the store");
    Some(TestDb { store, url, schema })
}

impl TestDb {
    /// Another store on the same schema: what a second server process
    /// sharing the database sees (its own pool, its own caches).
    pub async fn another_process(&self) -> PostgresStore {
        PostgresStore::connect(&with_search_path(&self.url, &self.schema))
            .await
            .expect("connecting a second store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop can't await, and may run inside the test's runtime: tidy up
        // on a thread with a runtime of its own. Best effort.
        let tidy = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, NoTls).await.ok()?;
                let conn = tokio::spawn(conn);
                let dropped = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await;
                if let Err(e) = dropped {
                    eprintln!("notice: leaving schema {schema}: {e}");
                }
                drop(client);
                let _ = conn.await;
                Some(())
            })
        });
        let _ = tidy.join();
    }
}

#[async_trait]
impl Database for TestDb {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
    async fn create_site(&self, name: &str) -> Result<Site, StoreError> {
        self.store.create_site(name).await
    }
    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        self.store.sites().await
    }
    async fn site(&self, name: &str) -> Result<Option<Site>, StoreError> {
        self.store.site(name).await
    }
    async fn add_token(&self, token: &NewToken) -> Result<TokenRecord, StoreError> {
        self.store.add_token(token).await
    }
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.store.tokens().await
    }
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.store.token_by_hash(hash).await
    }
    async fn revoke_token(
        &self,
        name: &str,
        revoked_by: Option<i64>,
    ) -> Result<Revocation, StoreError> {
        self.store.revoke_token(name, revoked_by).await
    }
    async fn delete_token(&self, name: &str) -> Result<bool, StoreError> {
        self.store.delete_token(name).await
    }
    async fn record_token_use(&self, id: i64, at: Millis) -> Result<bool, StoreError> {
        self.store.record_token_use(id, at).await
    }
    async fn ingest(&self, request: IngestRequest) -> Result<IngestOutcome, StoreError> {
        self.store.ingest(request).await
    }
    async fn ingest_repeat(
        &self,
        request: RepeatRequest,
    ) -> Result<Option<IngestOutcome>, StoreError> {
        self.store.ingest_repeat(request).await
    }
    async fn hosts(&self, filter: &HostFilter) -> Result<Page<HostSummary>, StoreError> {
        self.store.hosts(filter).await
    }
    async fn host_refs(&self, filter: &HostFilter) -> Result<Vec<HostRef>, StoreError> {
        self.store.host_refs(filter).await
    }
    async fn host(&self, id: i64) -> Result<Option<HostDetail>, StoreError> {
        self.store.host(id).await
    }
    async fn host_details(&self, filter: &HostFilter) -> Result<Vec<HostDetail>, StoreError> {
        self.store.host_details(filter).await
    }
    async fn host_keys(&self) -> Result<patchwatch_store::HostKeys, StoreError> {
        self.store.host_keys().await
    }

    async fn host_keys_version(&self) -> Result<i64, StoreError> {
        self.store.host_keys_version().await
    }
    async fn delete_host(&self, id: i64) -> Result<bool, StoreError> {
        self.store.delete_host(id).await
    }
    async fn hosts_without_kernel_verdict(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<patchwatch_store::KernelCheck>, StoreError> {
        self.store
            .hosts_without_kernel_verdict(after_id, limit)
            .await
    }
    async fn set_kernel_verdicts(
        &self,
        verdicts: &[patchwatch_store::KernelVerdict],
    ) -> Result<u64, StoreError> {
        self.store.set_kernel_verdicts(verdicts).await
    }
    async fn package_set(&self, set_id: i64) -> Result<Vec<Package>, StoreError> {
        self.store.package_set(set_id).await
    }
    async fn package_set_members(
        &self,
        set_ids: &[i64],
    ) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
        self.store.package_set_members(set_ids).await
    }
    async fn packages_by_id(&self, ids: &[i64]) -> Result<Vec<(i64, Package)>, StoreError> {
        self.store.packages_by_id(ids).await
    }
    async fn reports(
        &self,
        host_id: i64,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        self.store.reports(host_id, limit, offset).await
    }
    async fn prune(&self, before: i64) -> Result<PruneStats, StoreError> {
        self.store.prune(before).await
    }
    async fn add_feed(&self, feed: &NewFeed) -> Result<Feed, StoreError> {
        self.store.add_feed(feed).await
    }
    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        self.store.feeds().await
    }
    async fn feed(&self, name: &str) -> Result<Option<Feed>, StoreError> {
        self.store.feed(name).await
    }
    async fn import_generation(
        &self,
        feed_id: i64,
        document: Vec<u8>,
        sha256: &str,
        advisories: i64,
    ) -> Result<ImportOutcome, StoreError> {
        self.store
            .import_generation(feed_id, document, sha256, advisories)
            .await
    }
    async fn current_documents(&self) -> Result<Vec<(Feed, Vec<u8>)>, StoreError> {
        self.store.current_documents().await
    }
    async fn delete_feed(&self, name: &str) -> Result<bool, StoreError> {
        self.store.delete_feed(name).await
    }
    async fn record_sync(&self, feed_id: i64, state: &SyncState) -> Result<(), StoreError> {
        self.store.record_sync(feed_id, state).await
    }
    async fn set_feed_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        self.store.set_feed_enabled(name, enabled).await
    }
    async fn add_repository(
        &self,
        repo: &patchwatch_store::NewRepository,
    ) -> Result<patchwatch_store::Repository, StoreError> {
        self.store.add_repository(repo).await
    }
    async fn repositories(&self) -> Result<Vec<patchwatch_store::Repository>, StoreError> {
        self.store.repositories().await
    }
    async fn repository(
        &self,
        name: &str,
    ) -> Result<Option<patchwatch_store::Repository>, StoreError> {
        self.store.repository(name).await
    }
    async fn remove_repository(&self, name: &str) -> Result<bool, StoreError> {
        self.store.remove_repository(name).await
    }
    async fn set_repository_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        self.store.set_repository_enabled(name, enabled).await
    }
    async fn import_repo_snapshot(
        &self,
        repository_id: i64,
        document: Vec<u8>,
        sha256: &str,
        packages: i64,
    ) -> Result<patchwatch_store::RepoImportOutcome, StoreError> {
        self.store
            .import_repo_snapshot(repository_id, document, sha256, packages)
            .await
    }
    async fn current_repo_snapshots(
        &self,
    ) -> Result<Vec<(patchwatch_store::Repository, Vec<u8>)>, StoreError> {
        self.store.current_repo_snapshots().await
    }
    async fn record_repo_sync(
        &self,
        repository_id: i64,
        state: &SyncState,
    ) -> Result<(), StoreError> {
        self.store.record_repo_sync(repository_id, state).await
    }
    async fn add_tag(&self, name: &str, reason: &str) -> Result<CveTag, StoreError> {
        self.store.add_tag(name, reason).await
    }
    async fn tags(&self) -> Result<Vec<CveTag>, StoreError> {
        self.store.tags().await
    }
    async fn set_tag_enabled(&self, name: &str, enabled: bool) -> Result<CveTag, StoreError> {
        self.store.set_tag_enabled(name, enabled).await
    }
    async fn remove_tag(&self, name: &str) -> Result<(), StoreError> {
        self.store.remove_tag(name).await
    }
    async fn assign_tag(&self, a: &NewAssignment) -> Result<TagAssignment, StoreError> {
        self.store.assign_tag(a).await
    }
    async fn unassign_tag(&self, cve: &str, tag: &str) -> Result<(), StoreError> {
        self.store.unassign_tag(cve, tag).await
    }
    async fn tag_assignments(&self) -> Result<Vec<TagAssignment>, StoreError> {
        self.store.tag_assignments().await
    }
    async fn add_exception(&self, e: &NewException) -> Result<Exception, StoreError> {
        self.store.add_exception(e).await
    }
    async fn exceptions(&self) -> Result<Vec<Exception>, StoreError> {
        self.store.exceptions().await
    }
    async fn remove_exception(&self, id: i64) -> Result<(), StoreError> {
        self.store.remove_exception(id).await
    }
    async fn add_user(&self, user: &NewUser) -> Result<User, StoreError> {
        self.store.add_user(user).await
    }
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.store.users().await
    }
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.store.user(name).await
    }
    async fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        self.store.remove_user(name).await
    }
    async fn set_password(&self, name: &str, hash: Option<&str>) -> Result<bool, StoreError> {
        self.store.set_password(name, hash).await
    }
    async fn grant(&self, user: &str, grant: &NewGrant) -> Result<UserGrant, StoreError> {
        self.store.grant(user, grant).await
    }
    async fn revoke(&self, user: &str, grant: &NewGrant) -> Result<bool, StoreError> {
        self.store.revoke(user, grant).await
    }
    async fn add_site_group(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<SiteGroup, StoreError> {
        self.store.add_site_group(name, parent).await
    }
    async fn site_groups(&self) -> Result<Vec<SiteGroup>, StoreError> {
        self.store.site_groups().await
    }
    async fn remove_site_group(&self, name: &str) -> Result<bool, StoreError> {
        self.store.remove_site_group(name).await
    }
    async fn set_group_member(
        &self,
        group: &str,
        site: &str,
        member: bool,
    ) -> Result<(), StoreError> {
        self.store.set_group_member(group, site, member).await
    }
    async fn create_session(
        &self,
        session: &NewSession,
        at: Millis,
    ) -> Result<Session, StoreError> {
        self.store.create_session(session, at).await
    }
    async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        self.store.session(id_hash).await
    }
    async fn touch_session(&self, id_hash: &str, at: Millis) -> Result<bool, StoreError> {
        self.store.touch_session(id_hash, at).await
    }
    async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        self.store.delete_session(id_hash).await
    }
    async fn expire_sessions(
        &self,
        created_before: Millis,
        idle_before: Millis,
    ) -> Result<u64, StoreError> {
        self.store
            .expire_sessions(created_before, idle_before)
            .await
    }

    async fn report_changes_since(
        &self,
        since: Millis,
    ) -> Result<Vec<patchwatch_store::ReportChange>, StoreError> {
        self.store.report_changes_since(since).await
    }
}
