//! The advisory index the vulnerability endpoints read, loaded from the
//! current feed generations and kept until one of them changes.

use std::sync::Arc;

use patchwatch_store::Database;
use patchwatch_vulndb::{LoadedIndex, load_index};
use tokio::sync::Mutex;

use crate::error::ApiError;

/// (feed id, generation id) of every enabled feed's current generation:
/// when it changes, the index is rebuilt.
type Key = Vec<(i64, i64)>;

#[derive(Default)]
pub struct VulnIndex {
    cached: Mutex<Option<(Key, Arc<LoadedIndex>)>>,
}

impl VulnIndex {
    /// The index for the current generations. Asking the store which
    /// generations are current is one small query; rebuilding (a fraction
    /// of a second for a whole vendor database) happens only after an
    /// import, and concurrent requests wait for the one rebuild.
    pub async fn current(&self, db: &dyn Database) -> Result<Arc<LoadedIndex>, ApiError> {
        let key: Key = db
            .feeds()
            .await?
            .iter()
            .filter(|f| f.enabled)
            .filter_map(|f| f.current.as_ref().map(|g| (f.id, g.id)))
            .collect();
        let mut cached = self.cached.lock().await;
        if let Some((k, index)) = cached.as_ref()
            && *k == key
        {
            return Ok(index.clone());
        }
        let loaded = Arc::new(load_index(db).await.map_err(|e| {
            tracing::error!(error = %e, "loading the advisory index failed");
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("loading the advisory index failed: {e}"),
            )
        })?);
        *cached = Some((key, loaded.clone()));
        Ok(loaded)
    }
}
