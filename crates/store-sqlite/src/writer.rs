//! One writer thread per database, committing in groups.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync.
//! Every write therefore goes through this thread, which takes all the work
//! that is waiting, runs each piece in its own savepoint (so one failure
//! doesn't undo the others), commits once, and only then answers each
//! caller. Under load a few hundred reports share one fsync; alone, a report
//! is committed at once.

use std::collections::HashMap;
use std::thread;

use patchwatch_store::{PackageKey, SetHash, StoreError};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::sql_error;

/// Ids the writer has already looked up. Only the writer inserts, so they
/// stay valid until another process writes (see `data_version`).
#[derive(Default)]
pub(crate) struct Caches {
    pub packages: HashMap<PackageKey, i64>,
    pub sets: HashMap<SetHash, (i64, i64)>,
    pub os_releases: HashMap<(String, String), i64>,
}

impl Caches {
    /// Bounded so a long-running server doesn't grow without limit.
    const MAX_PACKAGES: usize = 4_000_000;
    const MAX_SETS: usize = 1_000_000;

    fn clear(&mut self) {
        self.packages.clear();
        self.sets.clear();
        self.os_releases.clear();
    }

    fn trim(&mut self) {
        if self.packages.len() > Self::MAX_PACKAGES {
            self.packages.clear();
        }
        if self.sets.len() > Self::MAX_SETS {
            self.sets.clear();
        }
    }
}

/// A piece of work and the caller waiting for it.
trait Job: Send {
    /// Runs the work, keeping its result; returns whether it succeeded. The
    /// work may run again if the batch it was in has to be redone.
    fn run(&mut self, conn: &Connection, caches: &mut Caches) -> bool;
    /// Answers the caller once the commit's outcome is known.
    fn answer(self: Box<Self>, commit_error: Option<&StoreError>);
}

struct TypedJob<T, F> {
    work: F,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send + 'static,
    F: Fn(&Connection, &mut Caches) -> Result<T, StoreError> + Send + 'static,
{
    fn run(&mut self, conn: &Connection, caches: &mut Caches) -> bool {
        let result = (self.work)(conn, caches);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, commit_error: Option<&StoreError>) {
        let result = match (self.result, commit_error) {
            (_, Some(e)) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
            (Some(r), None) => r,
            (None, None) => Err(StoreError::Backend("write was never run".into())),
        };
        let _ = self.reply.send(result);
    }
}

#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
}

/// Most pieces of work committed together.
const MAX_BATCH: usize = 512;

impl Writer {
    pub fn start(conn: Connection) -> Writer {
        let (queue, rx) = mpsc::channel::<Box<dyn Job>>(4 * MAX_BATCH);
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx))
            .expect("spawning the SQLite writer thread");
        Writer { queue }
    }

    /// Runs `work` in the writer's transaction and returns its result once
    /// the transaction is committed. `work` may run more than once (only
    /// the run that is committed counts), so it must not have effects
    /// outside the database and the caches.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&Connection, &mut Caches) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the SQLite writer has stopped".into());
        self.queue
            .send(Box::new(TypedJob {
                work,
                result: None,
                reply,
            }))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    let mut caches = Caches::default();
    let mut seen_version = data_version(&conn);
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Another process (the CLI, say) may have deleted what we cached.
        if data_version(&conn) != seen_version {
            caches.clear();
        }
        run_batch(&conn, &mut caches, batch);
        seen_version = data_version(&conn);
        caches.trim();
    }
}

/// Runs a batch in one transaction. Failures are rare (reports are
/// validated before they get here), so the common case pays for no
/// savepoints; when one piece fails, the batch is rolled back and every
/// piece is run again in a transaction of its own, so one bad piece never
/// costs the others.
fn run_batch(conn: &Connection, caches: &mut Caches, mut batch: Vec<Box<dyn Job>>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let err = sql_error(e);
        tracing::warn!(error = %err, "could not begin a write transaction");
        for job in batch {
            job.answer(Some(&err));
        }
        return;
    }
    let all_ok = batch.iter_mut().all(|job| job.run(conn, caches));
    if all_ok {
        let commit = conn.execute_batch("COMMIT").map_err(sql_error);
        if commit.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
            caches.clear();
        }
        for job in batch {
            job.answer(commit.as_ref().err());
        }
        return;
    }
    let _ = conn.execute_batch("ROLLBACK");
    caches.clear();
    for mut job in batch {
        let outcome = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(sql_error)
            .and_then(|_| {
                if job.run(conn, caches) {
                    conn.execute_batch("COMMIT").map_err(sql_error)
                } else {
                    let _ = conn.execute_batch("ROLLBACK");
                    // Ids the failed work cached were rolled back with it.
                    caches.clear();
                    Ok(())
                }
            });
        if outcome.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
            caches.clear();
        }
        job.answer(outcome.as_ref().err());
    }
}

fn data_version(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
        .unwrap_or(-1)
}
