//! CPU-heavy request work (decompression, parsing, RSA decryption) runs on
//! a fixed set of `max_parallel_parsing` threads, never on the async
//! workers that accept connections and answer other requests. Each job may
//! hold a body of up to `max_decompressed_bytes`, so the thread count
//! bounds that memory too; and a fixed set of threads (rather than tokio's
//! blocking pool of up to 512) keeps the allocator's per-thread caches to
//! that many.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

pub struct ParsingPool {
    jobs: mpsc::Sender<Job>,
    size: usize,
}

impl ParsingPool {
    /// Starts `size` (at least one) threads; they end when the pool is
    /// dropped.
    pub fn new(size: usize) -> ParsingPool {
        let size = size.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..size {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("pw-parse-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next
                        // job, never while one runs.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a parsing thread");
            }
        }
        ParsingPool { jobs, size }
    }

    /// How many jobs may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `work` on a parsing thread once one is free (jobs wait in
    /// arrival order). A panic in `work` continues in the caller (the
    /// router's panic layer answers it).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
        });
        let unavailable = || {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down",
            )
        };
        self.jobs.send(job).map_err(|_| unavailable())?;
        match result.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(unavailable()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// However many requests arrive at once, no more than the pool's size
    /// decode at the same time; and they do run in parallel, so not on this
    /// test's single runtime thread (where a blocking job would run alone).
    /// A panicking job reaches its caller and leaves the pool working.
    #[tokio::test]
    async fn at_most_size_jobs_run_at_once_off_the_async_worker() {
        let pool = Arc::new(ParsingPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for _ in 0..12 {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            jobs.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Blocking here would stall this current-thread
                    // runtime if the job ran on it.
                    std::thread::sleep(Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
            }));
        }
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        let panicked = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(|| -> Result<(), ApiError> { panic!("boom") })
                    .await
            }
        })
        .await;
        assert!(panicked.unwrap_err().is_panic());
        assert_eq!(pool.run(|| Ok(7)).await.unwrap(), 7);
    }
}
