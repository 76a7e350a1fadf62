//! The write side: sites, tokens, reports and pruning.
//!
//! Several processes write at once, so each report is one transaction and
//! races are settled by the database:
//!
//! - the host row is locked (`SELECT ... FOR UPDATE`) before anything is
//!   decided about it, so reports for one host are applied one at a time;
//!   a new host is inserted with `ON CONFLICT (site_id, hostname) DO
//!   NOTHING`, and if another transaction inserted it first, its row is
//!   locked and updated instead;
//! - packages and sets are interned with `ON CONFLICT DO NOTHING` (see
//!   [`crate::intern`]);
//! - ingest holds a shared advisory lock that prune takes exclusively, so a
//!   prune never deletes a package or set an ingest is about to reference
//!   (packages have no foreign key to catch that) and caches stay valid
//!   (see [`crate::cache`]);
//! - a transaction that still loses a race (serialization failure,
//!   deadlock, unique or foreign-key violation) is rolled back and run
//!   again, a few times.

use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

use deadpool_postgres::{ClientWrapper, Pool, Transaction};
use patchwatch_store::package_set::decode_ids;
use patchwatch_store::{
    CanonicalSet, HostDetails, IngestOutcome, IngestRequest, NewToken, PruneStats, RepeatRequest,
    Site, StoreError, TokenRecord, normalise_tags, now_millis,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::cache::{Caches, Pending, View};
use crate::error::{Verdict, WriteError};
use crate::{intern, pg_error};

/// The advisory lock ingest shares and prune takes alone. The second key
/// is the schema, so stores in different schemas of one database (tests)
/// don't wait for each other.
const INGEST_LOCK_SHARED: &str =
    "SELECT pg_advisory_xact_lock_shared(1350000001, hashtext(coalesce(current_schema(), '')))";
const INGEST_LOCK_EXCLUSIVE: &str =
    "SELECT pg_advisory_xact_lock(1350000001, hashtext(coalesce(current_schema(), '')))";

/// How often a transaction that lost a race is run again.
const MAX_ATTEMPTS: u32 = 6;

pub(crate) async fn create_site(c: &ClientWrapper, name: &str) -> Result<Site, StoreError> {
    patchwatch_store::validate_site_name(name)?;
    let now = now_millis();
    let stmt = c
        .prepare_cached(
            "INSERT INTO sites (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .await
        .map_err(pg_error)?;
    let row = c
        .query_opt(&stmt, &[&name, &now])
        .await
        .map_err(pg_error)?
        .ok_or_else(|| StoreError::AlreadyExists(format!("site {name:?}")))?;
    Ok(Site {
        id: row.try_get(0).map_err(pg_error)?,
        name: name.to_owned(),
        created_at: now,
        hosts: 0,
    })
}

pub(crate) async fn add_token(
    c: &ClientWrapper,
    token: &NewToken,
) -> Result<TokenRecord, StoreError> {
    let now = now_millis();
    let stmt = c
        .prepare_cached(
            "INSERT INTO tokens (name, kind, site_id, hash, created_at, access, user_id, group_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .await
        .map_err(pg_error)?;
    let row = c
        .query_opt(
            &stmt,
            &[
                &token.name,
                &token.kind.as_str(),
                &token.site_id,
                &token.hash,
                &now,
                &token.access.map(|a| a.as_str()),
                &token.user_id,
                &token.group_id,
            ],
        )
        .await
        .map_err(crate::users::constraint_error(
            "token's site, user or group",
        ))?
        .ok_or_else(|| StoreError::AlreadyExists(format!("token {:?}", token.name)))?;
    let id: i64 = row.try_get(0).map_err(pg_error)?;
    let stmt = c
        .prepare_cached(&format!(
            "{} WHERE t.id = $1",
            patchwatch_store::rows::TOKEN_COLUMNS
        ))
        .await
        .map_err(pg_error)?;
    let row = c.query_one(&stmt, &[&id]).await.map_err(pg_error)?;
    patchwatch_store::rows::token(&crate::error::PgColumns(&row))
}

/// Runs `attempt` until it succeeds, fails for good, or has lost
/// [`MAX_ATTEMPTS`] races. Every attempt is a whole transaction.
async fn retry<T, F, Fut>(caches: &Caches, what: &str, mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, WriteError>>,
{
    let mut n = 0;
    let mut cleared = false;
    loop {
        n += 1;
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        match error.verdict() {
            Verdict::Retry if n < MAX_ATTEMPTS => {}
            // Once: a second violation after dropping the caches is real.
            Verdict::ClearCachesAndRetry if n < MAX_ATTEMPTS && !cleared => {
                caches.clear();
                cleared = true;
            }
            _ => return Err(error.into_store()),
        }
        tracing::debug!(attempt = n, error = ?error, "{what}: transaction lost a race, retrying");
        // Jittered, growing pause so the racers don't collide again.
        let jitter = std::collections::hash_map::RandomState::new().hash_one(n) % 2_000;
        tokio::time::sleep(Duration::from_micros(u64::from(n) * 2_000 + jitter)).await;
    }
}

pub(crate) async fn ingest(
    pool: &Pool,
    caches: &Caches,
    req: &IngestRequest,
) -> Result<IngestOutcome, StoreError> {
    retry(caches, "ingest", move || ingest_once(pool, caches, req)).await
}

/// The host's row as it was before this report.
struct ExistingHost {
    id: i64,
    package_set_id: i64,
    tags: String,
    details: String,
}

const HOST_COLUMNS: &str = "id, package_set_id, tags, details";

/// Reads an [`ExistingHost`] from the columns starting at `first` (all NULL
/// when there is no such host).
fn existing_host(row: &Row, first: usize) -> Result<Option<ExistingHost>, WriteError> {
    let Some(id) = row.try_get::<_, Option<i64>>(first)? else {
        return Ok(None);
    };
    Ok(Some(ExistingHost {
        id,
        package_set_id: row.try_get(first + 1)?,
        tags: row.try_get(first + 2)?,
        details: row.try_get(first + 3)?,
    }))
}

/// What one report writes, computed once per attempt.
struct Prepared<'r> {
    req: &'r IngestRequest,
    os_id: i64,
    /// The reported set's (id, count), interned; `None`: "unchanged".
    reported: Option<(i64, i64)>,
    tags: Vec<String>,
    tags_json: String,
}

async fn ingest_once(
    pool: &Pool,
    caches: &Caches,
    req: &IngestRequest,
) -> Result<IngestOutcome, WriteError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let lock = tx.prepare_cached(INGEST_LOCK_SHARED).await?;
    let first_lookup = tx
        .prepare_cached(&format!(
            "SELECT st.prune_epoch, h.* FROM store_state st LEFT JOIN LATERAL (
                 SELECT {HOST_COLUMNS} FROM hosts WHERE site_id = $1 AND hostname = $2
                 FOR UPDATE) h ON TRUE"
        ))
        .await?;
    // Pipelined: sent together, run in order. The lookup's snapshot is
    // taken after the lock is held, so it sees the latest prune epoch.
    let params: [&(dyn ToSql + Sync); 2] = [&req.site_id, &req.report.hostname];
    let (_, row) = tokio::try_join!(tx.execute(&lock, &[]), tx.query_one(&first_lookup, &params))?;
    let epoch: i64 = row.try_get(0)?;
    let mut existing = existing_host(&row, 1)?;

    let cache = caches.view(epoch);
    let mut pending = Pending::default();
    let os_id = intern::os_release_id(&tx, &cache, &mut pending, &req.os).await?;
    let reported = match &req.packages {
        Some(set) => {
            Some(intern::package_set(&tx, &cache, &mut pending, set, req.received_at).await?)
        }
        None => None,
    };
    let tags = normalise_tags(&req.report.tags);
    let tags_json =
        serde_json::to_string(&tags).map_err(|e| StoreError::Invalid(format!("tags: {e}")))?;
    let prepared = Prepared {
        req,
        os_id,
        reported,
        tags,
        tags_json,
    };

    // Either path ends with the statement that writes the host row, and
    // nothing but the commit follows it: a change of the host's keys
    // locks the host keys version's row there (migration 12), so it is
    // held only through the commit.
    let mut conflicts = 0;
    let outcome = loop {
        if let Some(host) = &existing {
            break update_host(&tx, &prepared, host).await?;
        }
        if let Some(outcome) = insert_host(&tx, &cache, &mut pending, &prepared).await? {
            break outcome;
        }
        // Another transaction inserted the host after our snapshot and has
        // committed (ON CONFLICT waited for it): lock its row and update.
        conflicts += 1;
        if conflicts > 2 {
            return Err(WriteError::Race("host row keeps appearing and vanishing"));
        }
        let lock_host = tx
            .prepare_cached(&format!(
                "SELECT {HOST_COLUMNS} FROM hosts WHERE site_id = $1 AND hostname = $2
                 FOR UPDATE"
            ))
            .await?;
        existing = match tx.query_opt(&lock_host, &params).await? {
            Some(row) => existing_host(&row, 0)?,
            None => None,
        };
    };
    tx.commit().await?;
    caches.publish(epoch, pending);
    Ok(outcome)
}

/// Stores a report for a host that exists (its row is locked).
async fn update_host(
    tx: &Transaction<'_>,
    p: &Prepared<'_>,
    host: &ExistingHost,
) -> Result<IngestOutcome, WriteError> {
    let (req, report) = (p.req, &p.req.report);
    let (set_id, count) = match p.reported {
        Some(found) => found,
        None => {
            let stmt = tx
                .prepare_cached("SELECT package_count FROM package_sets WHERE id = $1")
                .await?;
            let row = tx.query_one(&stmt, &[&host.package_set_id]).await?;
            (host.package_set_id, row.try_get(0)?)
        }
    };
    let unchanged = host.package_set_id == set_id;
    let previous = match &report.repositories {
        None => Some(HostDetails::from_json(&host.details)?),
        Some(_) => None,
    };
    let details = HostDetails::from_report(report, previous.as_ref()).to_json();
    // An unknown verdict (packages "unchanged") keeps the one the host
    // has while its set and kernel are the same: SET reads the old row.
    let stmt = tx
        .prepare_cached(
            "WITH r AS (
                 INSERT INTO reports (host_id, received_at, protocol, package_set_id,
                     os_release_id, kernel, unchanged, sender, user_agent)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id)
             UPDATE hosts SET last_seen = GREATEST(last_seen, $2),
                 last_report_id = (SELECT id FROM r), package_set_id = $4,
                 os_release_id = $5, protocol = $3, kernel = $6, arch = $10, tags = $11,
                 reboot_required = $12, details = $13,
                 kernel_outdated = COALESCE($14::boolean, CASE WHEN package_set_id = $4
                     AND kernel = $6 THEN kernel_outdated END)
             WHERE id = $1 RETURNING last_report_id",
        )
        .await?;
    let protocol = report.protocol.as_str();
    let params: [&(dyn ToSql + Sync); 14] = [
        &host.id,
        &req.received_at,
        &protocol,
        &set_id,
        &p.os_id,
        &report.kernel.release,
        &unchanged,
        &req.sender,
        &req.user_agent,
        &report.arch,
        &p.tags_json,
        &report.reboot.required,
        &details,
        &req.kernel_outdated,
    ];
    let write = tx.query_one(&stmt, &params);
    let row = if host.tags == p.tags_json {
        write.await?
    } else {
        // Drop the tags no longer reported, add the new ones; pipelined
        // with the report, and sent before it: the hosts UPDATE stays the
        // transaction's last statement, which the host keys version's row
        // lock relies on (migration 12).
        let tags = tx
            .prepare_cached(
                "WITH gone AS (
                     DELETE FROM host_tags WHERE host_id = $1 AND tag <> ALL($2::text[]))
                 INSERT INTO host_tags (host_id, tag) SELECT $1, unnest($2::text[])
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        let tag_params: [&(dyn ToSql + Sync); 2] = [&host.id, &p.tags];
        let (_, row) = tokio::try_join!(biased; tx.execute(&tags, &tag_params), write)?;
        row
    };
    Ok(IngestOutcome {
        host_id: host.id,
        report_id: row.try_get(0)?,
        new_host: false,
        packages_changed: !unchanged,
        package_set_id: set_id,
        packages: count,
    })
}

/// Stores a new host with its first report, in one statement; `None` when
/// another transaction inserted the host first.
async fn insert_host(
    tx: &Transaction<'_>,
    cache: &View<'_>,
    pending: &mut Pending,
    p: &Prepared<'_>,
) -> Result<Option<IngestOutcome>, WriteError> {
    let (req, report) = (p.req, &p.req.report);
    let (set_id, count) = match p.reported {
        Some(found) => found,
        // A new host that says "unchanged" gets the empty set.
        None => {
            let empty = CanonicalSet::new(Vec::new());
            intern::package_set(tx, cache, pending, &empty, req.received_at).await?
        }
    };
    let details = HostDetails::from_report(report, None).to_json();
    // The report's id is drawn first so the host row can name it: the host
    // must exist before the report that references it.
    let stmt = tx
        .prepare_cached(
            "WITH h AS (
                 INSERT INTO hosts (site_id, hostname, first_seen, last_seen, last_report_id,
                     package_set_id, os_release_id, protocol, kernel, arch, tags,
                     reboot_required, details, kernel_outdated)
                 VALUES ($1, $2, $3, $3, nextval(pg_get_serial_sequence('reports', 'id')),
                     $4, $5, $6, $7, $8, $9, $10, $11, $15)
                 ON CONFLICT (site_id, hostname) DO NOTHING
                 RETURNING id, last_report_id),
             r AS (
                 INSERT INTO reports (id, host_id, received_at, protocol, package_set_id,
                     os_release_id, kernel, unchanged, sender, user_agent)
                 SELECT last_report_id, id, $3, $6, $4, $5, $7, FALSE, $12, $13 FROM h
                 RETURNING id, host_id),
             t AS (
                 INSERT INTO host_tags (host_id, tag) SELECT h.id, unnest($14::text[]) FROM h)
             SELECT host_id, id FROM r",
        )
        .await?;
    let protocol = report.protocol.as_str();
    let row = tx
        .query_opt(
            &stmt,
            &[
                &req.site_id,
                &report.hostname,
                &req.received_at,
                &set_id,
                &p.os_id,
                &protocol,
                &report.kernel.release,
                &report.arch,
                &p.tags_json,
                &report.reboot.required,
                &details,
                &req.sender,
                &req.user_agent,
                &p.tags,
                &req.kernel_outdated,
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(IngestOutcome {
        host_id: row.try_get(0)?,
        report_id: row.try_get(1)?,
        new_host: true,
        packages_changed: true,
        package_set_id: set_id,
        packages: count,
    }))
}

pub(crate) async fn repeat(
    pool: &Pool,
    caches: &Caches,
    req: &RepeatRequest,
) -> Result<Option<IngestOutcome>, StoreError> {
    retry(caches, "repeat", move || repeat_once(pool, req)).await
}

async fn repeat_once(
    pool: &Pool,
    req: &RepeatRequest,
) -> Result<Option<IngestOutcome>, WriteError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Locked, so a report arriving meanwhile can't slip in between the
    // check and the insert.
    let current = tx
        .prepare_cached("SELECT last_report_id FROM hosts WHERE id = $1 FOR UPDATE")
        .await?;
    let Some(row) = tx.query_opt(&current, &[&req.host_id]).await? else {
        return Ok(None);
    };
    let last: i64 = row.try_get(0)?;
    if last != req.repeats_report_id {
        return Ok(None);
    }
    // No advisory lock needed: the repeated report's set is the host's
    // current one, which prune never deletes.
    let stmt = tx
        .prepare_cached(
            "WITH r AS (
                 INSERT INTO reports (host_id, received_at, protocol, package_set_id,
                     os_release_id, kernel, unchanged, sender, user_agent)
                 SELECT host_id, $2, protocol, package_set_id, os_release_id, kernel, TRUE,
                     $3, $4
                 FROM reports WHERE id = $1 RETURNING id, package_set_id),
             u AS (
                 UPDATE hosts SET last_seen = GREATEST(last_seen, $2), last_report_id = r.id
                 FROM r WHERE hosts.id = $5)
             SELECT r.id, r.package_set_id, ps.package_count
             FROM r JOIN package_sets ps ON ps.id = r.package_set_id",
        )
        .await?;
    let row = tx
        .query_opt(
            &stmt,
            &[
                &last,
                &req.received_at,
                &req.sender,
                &req.user_agent,
                &req.host_id,
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let outcome = IngestOutcome {
        host_id: req.host_id,
        report_id: row.try_get(0)?,
        new_host: false,
        packages_changed: false,
        package_set_id: row.try_get(1)?,
        packages: row.try_get(2)?,
    };
    tx.commit().await?;
    Ok(Some(outcome))
}

pub(crate) async fn prune(
    pool: &Pool,
    caches: &Caches,
    before: i64,
) -> Result<PruneStats, StoreError> {
    let stats = retry(caches, "prune", move || prune_once(pool, before)).await?;
    // Ids this process remembers may be gone; other processes notice the
    // new epoch.
    caches.clear();
    Ok(stats)
}

async fn prune_once(pool: &Pool, before: i64) -> Result<PruneStats, WriteError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Waits for every ingest in flight to commit and keeps new ones out:
    // from here on, the statements (each with a fresh snapshot) see every
    // set that refers to a package.
    tx.execute(INGEST_LOCK_EXCLUSIVE, &[]).await?;
    tx.execute("UPDATE store_state SET prune_epoch = prune_epoch + 1", &[])
        .await?;
    let reports = tx
        .execute(
            "DELETE FROM reports r WHERE r.received_at < $1
             AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.last_report_id = r.id)",
            &[&before],
        )
        .await?;
    let package_sets = tx
        .execute(
            "DELETE FROM package_sets ps
             WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.package_set_id = ps.id)
             AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.package_set_id = ps.id)",
            &[],
        )
        .await?;
    // Packages still in use are the union of the remaining sets' members,
    // read a batch of sets at a time so memory holds ids, not whole sets.
    let batch = tx
        .prepare("SELECT id, package_ids FROM package_sets WHERE id > $1 ORDER BY id LIMIT 5000")
        .await?;
    let (mut live, mut after) = (Vec::new(), 0i64);
    loop {
        let rows = tx.query(&batch, &[&after]).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0)?;
        for row in &rows {
            live.extend(decode_ids(row.try_get::<_, &[u8]>(1)?)?);
        }
        live.sort_unstable();
        live.dedup();
    }
    let packages = tx
        .execute(
            "DELETE FROM packages p WHERE NOT EXISTS (
                 SELECT 1 FROM unnest($1::bigint[]) AS live (id) WHERE live.id = p.id)",
            &[&live],
        )
        .await?;
    tx.commit().await?;
    Ok(PruneStats {
        reports,
        package_sets,
        packages,
    })
}
