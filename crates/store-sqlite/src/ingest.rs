//! The write side: runs inside the writer thread's transaction.

use patchwatch_reports::OsRelease;
use patchwatch_store::package_set::encode_ids;
use patchwatch_store::{
    CanonicalSet, HostDetails, IngestOutcome, IngestRequest, PruneStats, RepeatRequest, Site,
    StoreError, TokenKind, TokenRecord, normalise_tags, now_millis,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::sql_error;
use crate::writer::Caches;

pub(crate) fn create_site(c: &Connection, name: &str) -> Result<Site, StoreError> {
    patchwatch_store::validate_site_name(name)?;
    let now = now_millis();
    let id = c
        .query_row(
            "INSERT INTO sites (name, created_at) VALUES (?1, ?2)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            params![name, now],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(sql_error)?
        .ok_or_else(|| StoreError::AlreadyExists(format!("site {name:?}")))?;
    Ok(Site {
        id,
        name: name.to_owned(),
        created_at: now,
        hosts: 0,
    })
}

pub(crate) fn add_token(c: &Connection, token: &NewTokenRow) -> Result<TokenRecord, StoreError> {
    let now = now_millis();
    let id = c
        .query_row(
            "INSERT INTO tokens (name, kind, site_id, hash, created_at, access, user_id, group_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            params![
                token.name,
                token.kind.as_str(),
                token.site_id,
                token.hash,
                now,
                token.access.map(|a| a.as_str()),
                token.user_id,
                token.group_id
            ],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(crate::users::constraint_error(
            "token's site, user or group",
        ))?
        .ok_or_else(|| StoreError::AlreadyExists(format!("token {:?}", token.name)))?;
    let mut stmt = c
        .prepare_cached(&format!(
            "{} WHERE t.id = ?1",
            patchwatch_store::rows::TOKEN_COLUMNS
        ))
        .map_err(sql_error)?;
    crate::collect_rows(&mut stmt, [id], patchwatch_store::rows::token)?
        .pop()
        .ok_or_else(|| StoreError::Backend(format!("token {id} vanished")))
}

/// A [`patchwatch_store::NewToken`] without its secret, for the writer.
pub(crate) struct NewTokenRow {
    pub name: String,
    pub kind: TokenKind,
    pub site_id: Option<i64>,
    pub access: Option<patchwatch_auth::TokenAccess>,
    pub user_id: Option<i64>,
    pub group_id: Option<i64>,
    pub hash: String,
}

struct ExistingHost {
    id: i64,
    package_set_id: i64,
    tags: String,
    details: String,
}

pub(crate) fn ingest(
    c: &Connection,
    caches: &mut Caches,
    req: &IngestRequest,
) -> Result<IngestOutcome, StoreError> {
    let os_id = os_release_id(c, caches, &req.os)?;
    let existing = c
        .prepare_cached(
            "SELECT id, package_set_id, tags, details FROM hosts
             WHERE site_id = ?1 AND hostname = ?2",
        )
        .map_err(sql_error)?
        .query_row(params![req.site_id, req.report.hostname], |r| {
            Ok(ExistingHost {
                id: r.get(0)?,
                package_set_id: r.get(1)?,
                tags: r.get(2)?,
                details: r.get(3)?,
            })
        })
        .optional()
        .map_err(sql_error)?;

    let (set_id, package_count) = match (&req.packages, &existing) {
        (Some(set), _) => intern_set(c, caches, set, req.received_at)?,
        (None, Some(host)) => (
            host.package_set_id,
            c.query_row(
                "SELECT package_count FROM package_sets WHERE id = ?1",
                [host.package_set_id],
                |r| r.get(0),
            )
            .map_err(sql_error)?,
        ),
        (None, None) => intern_set(c, caches, &CanonicalSet::new(Vec::new()), req.received_at)?,
    };
    let unchanged = existing
        .as_ref()
        .is_some_and(|h| h.package_set_id == set_id);

    let tags = normalise_tags(&req.report.tags);
    let tags_json = serde_json::to_string(&tags).expect("tags serialise");
    let previous = match (&req.report.repositories, &existing) {
        (None, Some(h)) => Some(patchwatch_store::HostDetails::from_json(&h.details)?),
        _ => None,
    };
    let details = HostDetails::from_report(&req.report, previous.as_ref()).to_json();
    let reboot = req.report.reboot.required;
    let report = &req.report;

    let host_id = match &existing {
        Some(h) => h.id,
        None => c
            .prepare_cached(
                "INSERT INTO hosts (site_id, hostname, first_seen, last_seen, last_report_id,
                     package_set_id, os_release_id, protocol, kernel, arch, tags,
                     reboot_required, details, kernel_outdated)
                 VALUES (?1, ?2, ?3, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
            )
            .map_err(sql_error)?
            .query_row(
                params![
                    req.site_id,
                    report.hostname,
                    req.received_at,
                    set_id,
                    os_id,
                    report.protocol.as_str(),
                    report.kernel.release,
                    report.arch,
                    tags_json,
                    reboot,
                    details,
                    req.kernel_outdated
                ],
                |r| r.get(0),
            )
            .map_err(sql_error)?,
    };
    let report_id: i64 = c
        .prepare_cached(
            "INSERT INTO reports (host_id, received_at, protocol, package_set_id, os_release_id,
                 kernel, unchanged, sender, user_agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        )
        .map_err(sql_error)?
        .query_row(
            params![
                host_id,
                req.received_at,
                report.protocol.as_str(),
                set_id,
                os_id,
                report.kernel.release,
                unchanged,
                req.sender,
                req.user_agent
            ],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    // An unknown verdict (packages "unchanged") keeps the one the host
    // has while its set and kernel are the same: SET reads the old row.
    c.prepare_cached(
        "UPDATE hosts SET last_seen = MAX(last_seen, ?2), last_report_id = ?3,
             package_set_id = ?4, os_release_id = ?5, protocol = ?6, kernel = ?7, arch = ?8,
             tags = ?9, reboot_required = ?10, details = ?11,
             kernel_outdated = COALESCE(?12, CASE WHEN package_set_id = ?4 AND kernel = ?7
                                                  THEN kernel_outdated END)
         WHERE id = ?1",
    )
    .map_err(sql_error)?
    .execute(params![
        host_id,
        req.received_at,
        report_id,
        set_id,
        os_id,
        report.protocol.as_str(),
        report.kernel.release,
        report.arch,
        tags_json,
        reboot,
        details,
        req.kernel_outdated
    ])
    .map_err(sql_error)?;
    if existing.as_ref().is_none_or(|h| h.tags != tags_json) {
        c.execute("DELETE FROM host_tags WHERE host_id = ?1", [host_id])
            .map_err(sql_error)?;
        let mut insert = c
            .prepare_cached("INSERT INTO host_tags (host_id, tag) VALUES (?1, ?2)")
            .map_err(sql_error)?;
        for tag in &tags {
            insert.execute(params![host_id, tag]).map_err(sql_error)?;
        }
    }
    Ok(IngestOutcome {
        host_id,
        report_id,
        new_host: existing.is_none(),
        packages_changed: !unchanged,
        package_set_id: set_id,
        packages: package_count,
    })
}

pub(crate) fn repeat(
    c: &Connection,
    req: &RepeatRequest,
) -> Result<Option<IngestOutcome>, StoreError> {
    let current: Option<(i64, i64)> = c
        .prepare_cached(
            "SELECT h.last_report_id, ps.package_count FROM hosts h
             JOIN package_sets ps ON ps.id = h.package_set_id WHERE h.id = ?1",
        )
        .map_err(sql_error)?
        .query_row([req.host_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(sql_error)?;
    let Some((last, packages)) = current else {
        return Ok(None);
    };
    if last != req.repeats_report_id {
        return Ok(None);
    }
    let (report_id, set_id): (i64, i64) = c
        .prepare_cached(
            "INSERT INTO reports (host_id, received_at, protocol, package_set_id, os_release_id,
                 kernel, unchanged, sender, user_agent)
             SELECT host_id, ?2, protocol, package_set_id, os_release_id, kernel, 1, ?3, ?4
             FROM reports WHERE id = ?1 RETURNING id, package_set_id",
        )
        .map_err(sql_error)?
        .query_row(
            params![last, req.received_at, req.sender, req.user_agent],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(sql_error)?;
    // An unknown verdict (packages "unchanged") keeps the one the host
    // has while its set and kernel are the same: SET reads the old row.
    c.prepare_cached(
        "UPDATE hosts SET last_seen = MAX(last_seen, ?2), last_report_id = ?3 WHERE id = ?1",
    )
    .map_err(sql_error)?
    .execute(params![req.host_id, req.received_at, report_id])
    .map_err(sql_error)?;
    Ok(Some(IngestOutcome {
        host_id: req.host_id,
        report_id,
        new_host: false,
        packages_changed: false,
        package_set_id: set_id,
        packages,
    }))
}

fn os_release_id(c: &Connection, caches: &mut Caches, os: &OsRelease) -> Result<i64, StoreError> {
    let key = (os.distro.clone(), os.release.clone());
    if let Some(&id) = caches.os_releases.get(&key) {
        return Ok(id);
    }
    c.prepare_cached(
        "INSERT INTO os_releases (distro, release) VALUES (?1, ?2)
         ON CONFLICT (distro, release) DO NOTHING",
    )
    .map_err(sql_error)?
    .execute(params![os.distro, os.release])
    .map_err(sql_error)?;
    let id = c
        .prepare_cached("SELECT id FROM os_releases WHERE distro = ?1 AND release = ?2")
        .map_err(sql_error)?
        .query_row(params![os.distro, os.release], |r| r.get(0))
        .map_err(sql_error)?;
    caches.os_releases.insert(key, id);
    Ok(id)
}

/// The id and size of the stored set with this content, storing it (and any
/// package not seen before) if it is new.
fn intern_set(
    c: &Connection,
    caches: &mut Caches,
    set: &CanonicalSet,
    now: i64,
) -> Result<(i64, i64), StoreError> {
    if let Some(&found) = caches.sets.get(&set.hash) {
        return Ok(found);
    }
    let found: Option<(i64, i64)> = c
        .prepare_cached("SELECT id, package_count FROM package_sets WHERE hash = ?1")
        .map_err(sql_error)?
        .query_row([&set.hash.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(sql_error)?;
    if let Some(found) = found {
        caches.sets.insert(set.hash, found);
        return Ok(found);
    }
    let mut ids = Vec::with_capacity(set.len());
    let mut select = c
        .prepare_cached("SELECT id FROM packages WHERE key = ?1")
        .map_err(sql_error)?;
    let mut insert = c
        .prepare_cached(
            "INSERT INTO packages (key, name, epoch, version, release, arch, type, source_name,
                 source_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        )
        .map_err(sql_error)?;
    for (key, p) in &set.entries {
        if let Some(&id) = caches.packages.get(key) {
            ids.push(id);
            continue;
        }
        let id = match select
            .query_row([&key.0[..]], |r| r.get::<_, i64>(0))
            .optional()
            .map_err(sql_error)?
        {
            Some(id) => id,
            None => insert
                .query_row(
                    params![
                        &key.0[..],
                        p.name,
                        p.epoch,
                        p.version,
                        p.release,
                        p.arch,
                        p.kind.as_str(),
                        p.source_name,
                        p.source_version
                    ],
                    |r| r.get(0),
                )
                .map_err(sql_error)?,
        };
        caches.packages.insert(*key, id);
        ids.push(id);
    }
    let count = ids.len() as i64;
    let blob = encode_ids(&mut ids);
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO package_sets (hash, package_count, package_ids, created_at)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )
        .map_err(sql_error)?
        .query_row(params![&set.hash.0[..], count, blob, now], |r| r.get(0))
        .map_err(sql_error)?;
    caches.sets.insert(set.hash, (id, count));
    Ok((id, count))
}

pub(crate) fn prune(
    c: &Connection,
    caches: &mut Caches,
    before: i64,
) -> Result<PruneStats, StoreError> {
    let reports = c
        .execute(
            "DELETE FROM reports WHERE received_at < ?1
             AND id NOT IN (SELECT last_report_id FROM hosts)",
            [before],
        )
        .map_err(sql_error)? as u64;
    let package_sets = c
        .execute(
            "DELETE FROM package_sets WHERE id NOT IN (SELECT package_set_id FROM reports)
             AND id NOT IN (SELECT package_set_id FROM hosts)",
            [],
        )
        .map_err(sql_error)? as u64;
    // Packages still in use are the union of the remaining sets' members.
    c.execute_batch("CREATE TEMP TABLE IF NOT EXISTS live_packages (id INTEGER PRIMARY KEY); DELETE FROM live_packages;")
        .map_err(sql_error)?;
    {
        let mut sets = c
            .prepare("SELECT package_ids FROM package_sets")
            .map_err(sql_error)?;
        let mut keep = c
            .prepare("INSERT OR IGNORE INTO live_packages (id) VALUES (?1)")
            .map_err(sql_error)?;
        let mut rows = sets.query([]).map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let blob: Vec<u8> = row.get(0).map_err(sql_error)?;
            for id in patchwatch_store::package_set::decode_ids(&blob)? {
                keep.execute([id]).map_err(sql_error)?;
            }
        }
    }
    let packages = c
        .execute(
            "DELETE FROM packages WHERE id NOT IN (SELECT id FROM live_packages)",
            [],
        )
        .map_err(sql_error)? as u64;
    c.execute_batch("DELETE FROM live_packages;")
        .map_err(sql_error)?;
    caches.sets.clear();
    caches.packages.clear();
    Ok(PruneStats {
        reports,
        package_sets,
        packages,
    })
}
