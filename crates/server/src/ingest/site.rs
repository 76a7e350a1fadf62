//! Which site a report is stored under: the one its credentials pin, else
//! the one it names, else the endpoint's default. Site names are resolved
//! to ids through a brief cache (every report needs one, sites rarely
//! change), and a name nobody created is created or refused as
//! `[server] unknown_sites` says, only if it is a name a shell or a URL
//! carries unharmed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use patchwatch_store::{Database, StoreError, validate_site_name};

use crate::config::UnknownSites;
use crate::error::ApiError;
use crate::policy::{Identity, Via};
use crate::state::AppState;

/// The site a report goes to: the one its credentials pin (a report naming
/// another is refused), else the one it names, else `default`. Unknown
/// sites are created or refused by `[server] unknown_sites`.
pub async fn for_report(
    state: &AppState,
    who: &Identity,
    named: Option<&str>,
    default: &str,
) -> Result<i64, ApiError> {
    let named = named.map(str::trim).filter(|n| !n.is_empty());
    if let (Some(pinned), Some(named)) = (who.pinned_site(), named)
        && pinned != named
    {
        return Err(ApiError::forbidden(format!(
            "the report names site {named:?} but its credentials are for site {pinned:?}"
        )));
    }
    if let Via::Token { site_id, .. } = who.via {
        return Ok(site_id);
    }
    let name = who.pinned_site().or(named).unwrap_or(default);
    state
        .sites
        .resolve(state.db.as_ref(), name, state.config.unknown_sites)
        .await
}

/// Site names to ids, briefly cached; creates unknown sites when allowed.
pub struct SiteCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, i64)>>,
}

impl SiteCache {
    pub fn new(ttl: Duration) -> SiteCache {
        SiteCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub async fn resolve(
        &self,
        db: &dyn Database,
        name: &str,
        unknown: UnknownSites,
    ) -> Result<i64, ApiError> {
        if let Some((at, id)) = self.lock().get(name)
            && at.elapsed() < self.ttl
        {
            return Ok(*id);
        }
        let id = match db.site(name).await? {
            Some(site) => site.id,
            None if unknown == UnknownSites::Refuse => {
                return Err(ApiError::forbidden(format!(
                    "site {name:?} is not known to this server; create it with `patchwatch \
                     sites add {name}`, or set [server] unknown_sites = \"create\""
                )));
            }
            None => {
                validate_site_name(name)?;
                match db.create_site(name).await {
                    Ok(site) => site.id,
                    // Another report created it first.
                    Err(StoreError::AlreadyExists(_)) => {
                        db.site(name)
                            .await?
                            .ok_or_else(|| {
                                ApiError::from(StoreError::NotFound(format!("site {name:?}")))
                            })?
                            .id
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut entries = self.lock();
        if entries.len() >= 10_000 {
            entries.clear();
        }
        entries.insert(name.to_owned(), (Instant::now(), id));
        Ok(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, i64)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
