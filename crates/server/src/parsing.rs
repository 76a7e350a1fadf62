//! CPU-heavy request work (decompression, parsing, RSA decryption) runs on
//! tokio's blocking threads, never on the async workers that accept
//! connections and answer other requests, and at most
//! `max_parallel_parsing` requests at a time: each may hold a body of up to
//! `max_decompressed_bytes`, so the permits bound that memory too.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::ApiError;

pub struct ParsingPool {
    permits: Arc<Semaphore>,
    size: usize,
}

impl ParsingPool {
    pub fn new(size: usize) -> ParsingPool {
        let size = size.max(1);
        ParsingPool {
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// How many jobs may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `work` on a blocking thread once a permit is free; the permit
    /// is held until `work` returns, so whatever it allocates is counted.
    /// A panic in `work` continues in the caller (the router's panic layer
    /// answers it).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down",
            )
        })?;
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        });
        match job.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down",
            )),
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
    }
}
