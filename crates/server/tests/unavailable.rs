//! A database that is down gives 503 with Retry-After, never a crash.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::StatusCode;
use patchwatch_reports::Package;
use patchwatch_server::ServerConfig;
use patchwatch_store::*;

struct Down;

fn down<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable("connection refused".into()))
}

#[async_trait]
impl Database for Down {
    fn backend(&self) -> &'static str {
        "postgres"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        down()
    }
    async fn create_site(&self, _: &str) -> Result<Site, StoreError> {
        down()
    }
    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        down()
    }
    async fn site(&self, _: &str) -> Result<Option<Site>, StoreError> {
        down()
    }
    async fn add_token(&self, _: &NewToken) -> Result<TokenRecord, StoreError> {
        down()
    }
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        down()
    }
    async fn token_by_hash(&self, _: &str) -> Result<Option<TokenRecord>, StoreError> {
        down()
    }
    async fn revoke_token(&self, _: &str, _: Option<i64>) -> Result<Revocation, StoreError> {
        down()
    }
    async fn delete_token(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn record_token_use(&self, _: i64, _: Millis) -> Result<bool, StoreError> {
        down()
    }
    async fn ingest(&self, _: IngestRequest) -> Result<IngestOutcome, StoreError> {
        down()
    }
    async fn ingest_repeat(&self, _: RepeatRequest) -> Result<Option<IngestOutcome>, StoreError> {
        down()
    }
    async fn hosts(&self, _: &HostFilter) -> Result<Page<HostSummary>, StoreError> {
        down()
    }
    async fn host_refs(&self, _: &HostFilter) -> Result<Vec<HostRef>, StoreError> {
        down()
    }
    async fn host(&self, _: i64) -> Result<Option<HostDetail>, StoreError> {
        down()
    }
    async fn host_details(&self, _: &HostFilter) -> Result<Vec<HostDetail>, StoreError> {
        down()
    }
    async fn host_keys(&self) -> Result<HostKeys, StoreError> {
        down()
    }
    async fn host_keys_version(&self) -> Result<i64, StoreError> {
        down()
    }
    async fn delete_host(&self, _: i64) -> Result<bool, StoreError> {
        down()
    }
    async fn hosts_without_kernel_verdict(
        &self,
        _: i64,
        _: u32,
    ) -> Result<Vec<patchwatch_store::KernelCheck>, StoreError> {
        down()
    }
    async fn set_kernel_verdicts(
        &self,
        _: &[patchwatch_store::KernelVerdict],
    ) -> Result<u64, StoreError> {
        down()
    }
    async fn package_set(&self, _: i64) -> Result<Vec<Package>, StoreError> {
        down()
    }
    async fn package_set_members(&self, _: &[i64]) -> Result<Vec<(i64, Vec<i64>)>, StoreError> {
        down()
    }
    async fn packages_by_id(&self, _: &[i64]) -> Result<Vec<(i64, Package)>, StoreError> {
        down()
    }
    async fn reports(&self, _: i64, _: u32, _: u32) -> Result<Vec<ReportRecord>, StoreError> {
        down()
    }
    async fn prune(&self, _: i64) -> Result<PruneStats, StoreError> {
        down()
    }
    async fn add_feed(&self, _: &NewFeed) -> Result<Feed, StoreError> {
        down()
    }
    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        down()
    }
    async fn feed(&self, _: &str) -> Result<Option<Feed>, StoreError> {
        down()
    }
    async fn import_generation(
        &self,
        _: i64,
        _: Vec<u8>,
        _: &str,
        _: i64,
    ) -> Result<ImportOutcome, StoreError> {
        down()
    }
    async fn current_documents(&self) -> Result<Vec<(Feed, Vec<u8>)>, StoreError> {
        down()
    }
    async fn delete_feed(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn record_sync(&self, _: i64, _: &SyncState) -> Result<(), StoreError> {
        down()
    }
    async fn set_feed_enabled(&self, _: &str, _: bool) -> Result<bool, StoreError> {
        down()
    }
    async fn add_repository(
        &self,
        _: &patchwatch_store::NewRepository,
    ) -> Result<patchwatch_store::Repository, StoreError> {
        down()
    }
    async fn repositories(&self) -> Result<Vec<patchwatch_store::Repository>, StoreError> {
        down()
    }
    async fn repository(
        &self,
        _: &str,
    ) -> Result<Option<patchwatch_store::Repository>, StoreError> {
        down()
    }
    async fn remove_repository(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn set_repository_enabled(&self, _: &str, _: bool) -> Result<bool, StoreError> {
        down()
    }
    async fn import_repo_snapshot(
        &self,
        _: i64,
        _: Vec<u8>,
        _: &str,
        _: i64,
    ) -> Result<patchwatch_store::RepoImportOutcome, StoreError> {
        down()
    }
    async fn current_repo_snapshots(
        &self,
    ) -> Result<Vec<(patchwatch_store::Repository, Vec<u8>)>, StoreError> {
        down()
    }
    async fn record_repo_sync(
        &self,
        _: i64,
        _: &patchwatch_store::SyncState,
    ) -> Result<(), StoreError> {
        down()
    }
    async fn add_tag(&self, _: &str, _: &str) -> Result<CveTag, StoreError> {
        down()
    }
    async fn tags(&self) -> Result<Vec<CveTag>, StoreError> {
        down()
    }
    async fn set_tag_enabled(&self, _: &str, _: bool) -> Result<CveTag, StoreError> {
        down()
    }
    async fn remove_tag(&self, _: &str) -> Result<(), StoreError> {
        down()
    }
    async fn assign_tag(&self, _: &NewAssignment) -> Result<TagAssignment, StoreError> {
        down()
    }
    async fn unassign_tag(&self, _: &str, _: &str) -> Result<(), StoreError> {
        down()
    }
    async fn tag_assignments(&self) -> Result<Vec<TagAssignment>, StoreError> {
        down()
    }
    async fn add_exception(&self, _: &NewException) -> Result<Exception, StoreError> {
        down()
    }
    async fn exceptions(&self) -> Result<Vec<Exception>, StoreError> {
        down()
    }
    async fn remove_exception(&self, _: i64) -> Result<(), StoreError> {
        down()
    }
    async fn add_user(&self, _: &NewUser) -> Result<User, StoreError> {
        down()
    }
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        down()
    }
    async fn user(&self, _: &str) -> Result<Option<User>, StoreError> {
        down()
    }
    async fn remove_user(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn set_password(&self, _: &str, _: Option<&str>) -> Result<bool, StoreError> {
        down()
    }
    async fn grant(&self, _: &str, _: &NewGrant) -> Result<UserGrant, StoreError> {
        down()
    }
    async fn revoke(&self, _: &str, _: &NewGrant) -> Result<bool, StoreError> {
        down()
    }
    async fn add_site_group(&self, _: &str, _: Option<&str>) -> Result<SiteGroup, StoreError> {
        down()
    }
    async fn site_groups(&self) -> Result<Vec<SiteGroup>, StoreError> {
        down()
    }
    async fn remove_site_group(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn set_group_member(&self, _: &str, _: &str, _: bool) -> Result<(), StoreError> {
        down()
    }
    async fn create_session(&self, _: &NewSession, _: Millis) -> Result<Session, StoreError> {
        down()
    }
    async fn session(&self, _: &str) -> Result<Option<Session>, StoreError> {
        down()
    }
    async fn touch_session(&self, _: &str, _: Millis) -> Result<bool, StoreError> {
        down()
    }
    async fn delete_session(&self, _: &str) -> Result<bool, StoreError> {
        down()
    }
    async fn expire_sessions(&self, _: Millis, _: Millis) -> Result<u64, StoreError> {
        down()
    }
    async fn report_changes_since(&self, _: Millis) -> Result<Vec<ReportChange>, StoreError> {
        down()
    }
}

#[tokio::test]
async fn a_database_outage_is_503() {
    let s = common::start_with(Arc::new(Down), ServerConfig::default()).await;
    let health = s.get("/healthz").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.json["status"], "unavailable");
    let r = s.post("pwi_anything", None, b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json["error"], "the database is unavailable; retry later");
    assert_eq!(
        s.get("/api/v1/hosts").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        s.get("/api/v1/cves").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
