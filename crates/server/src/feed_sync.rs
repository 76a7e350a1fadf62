//! Periodic feed sync (`[server] feed_sync_interval`): every enabled feed
//! with a URL source is downloaded again once its last sync is older than
//! the interval; so is every enabled repository with a URL source
//! (`repo_updates::sync_due`).
//!
//! Several server processes may share one PostgreSQL database. Each feed's
//! last sync time lives in the database, and a feed is re-read just before
//! it is synced, so once one process has synced a feed the others find it
//! not due. Two processes can still start the same feed at the same
//! moment; that costs a second download but does no harm: imports of one
//! feed are serialised (a row lock in PostgreSQL, the single writer in
//! SQLite) and the second finds the same SHA-256 already current.

use std::sync::Arc;
use std::time::Duration;

use patchwatch_store::{Database, now_millis};
use patchwatch_vulndb::sync::syncs_by_default;
use patchwatch_vulndb::{SyncOptions, SyncOutcome, Syncer};

/// How often to look for due feeds: often enough that a feed is synced
/// soon after it falls due, rarely enough to be negligible (one query).
fn check_every(interval: Duration) -> Duration {
    interval.min(Duration::from_secs(300))
}

/// Runs forever: syncs due feeds, then waits for the next check.
pub async fn sync_forever(db: Arc<dyn Database>, interval: Duration, options: SyncOptions) {
    let syncer = match Syncer::new(options) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "periodic feed sync disabled");
            return;
        }
    };
    // Processes started together (a deployment) check at different
    // moments, so one usually finds the others' syncs already done.
    let jitter = Duration::from_secs(u64::from(std::process::id()) % 60);
    tokio::time::sleep(Duration::from_secs(5) + jitter).await;
    let mut tick = tokio::time::interval(check_every(interval));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        sync_due(&*db, &syncer, interval).await;
        crate::repo_updates::sync_due(&*db, &syncer, interval).await;
    }
}

/// Syncs every enabled URL feed whose last sync (successful or not) is
/// older than `interval`; returns how many were attempted.
pub async fn sync_due(db: &dyn Database, syncer: &Syncer, interval: Duration) -> usize {
    let feeds = match db.feeds().await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "listing feeds for the periodic sync failed; will retry");
            return 0;
        }
    };
    let mut attempted = 0;
    for listed in feeds.iter().filter(|f| syncs_by_default(f)) {
        // Fresh state: another process may have synced it meanwhile.
        let feed = match db.feed(&listed.name).await {
            Ok(Some(f)) if syncs_by_default(&f) => f,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(feed = %listed.name, error = %e, "reading the feed failed");
                continue;
            }
        };
        let due_before = now_millis() - interval.as_millis() as i64;
        if feed.sync.synced_at.is_some_and(|at| at > due_before) {
            continue;
        }
        attempted += 1;
        match syncer.sync(db, &feed, &|_| {}).await {
            Ok(SyncOutcome::Imported { generation, .. }) => tracing::info!(
                feed = %feed.name,
                generation = generation.number,
                advisories = generation.advisories,
                "feed synced: new generation"
            ),
            Ok(outcome) => tracing::debug!(feed = %feed.name, ?outcome, "feed unchanged"),
            Err(e) => tracing::warn!(
                feed = %feed.name,
                error = %e,
                "feed sync failed; the current generation stays"
            ),
        }
    }
    attempted
}
