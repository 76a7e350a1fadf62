//! Records built from result rows the same way in every backend.
//!
//! Each backend wraps its driver's row in [`Columns`]; the builders here
//! read the columns of the queries by position (the column lists are noted
//! on each builder; every backend selects them in that order), so a record
//! means the same thing whatever stores it.

use patchwatch_reports::OsRelease;

use crate::feeds::{Feed, FeedKind, Generation, SyncState};
use crate::{HostSummary, ReportRecord, Site, StoreError, TokenKind, TokenRecord};

/// Typed access to one result row, by column position.
pub trait Columns {
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn flag(&self, i: usize) -> Result<bool, StoreError>;
    fn opt_flag(&self, i: usize) -> Result<Option<bool>, StoreError>;
}

/// A host summary from the columns of [`crate::HOST_SUMMARY_COLUMNS`].
pub fn host_summary(r: &dyn Columns) -> Result<HostSummary, StoreError> {
    let tags = r.text(7)?;
    Ok(HostSummary {
        id: r.int(0)?,
        hostname: r.text(1)?,
        site: r.text(2)?,
        os: OsRelease {
            distro: r.text(3)?,
            release: r.text(4)?,
        },
        kernel: r.text(5)?,
        arch: r.text(6)?,
        tags: serde_json::from_str(&tags)
            .map_err(|e| StoreError::Corrupt(format!("host tags: {e}")))?,
        packages: r.int(8)?,
        first_seen: r.int(9)?,
        last_seen: r.int(10)?,
        protocol: r.text(11)?,
        reboot_required: r.opt_flag(12)?,
        reboot_required_derived: r.opt_flag(16)?,
        package_set_id: r.int(13)?,
        last_report_id: r.int(14)?,
        site_id: r.int(15)?,
    })
}

/// The feed query both backends run, each adding its own `WHERE`.
pub const FEED_COLUMNS: &str =
    "SELECT f.id, f.name, f.kind, f.source, f.releases, f.enabled, f.created_at,
        g.id, g.imported_at, g.sha256, g.size, g.advisories,
        (SELECT COUNT(*) FROM feed_generations x WHERE x.feed_id = f.id),
        f.etag, f.last_modified, f.synced_at, f.sync_error, g.number
     FROM feeds f LEFT JOIN feed_generations g ON g.feed_id = f.id AND g.current";

/// A feed from the columns of [`FEED_COLUMNS`].
pub fn feed(r: &dyn Columns) -> Result<Feed, StoreError> {
    let kind = r.text(2)?;
    let current = match r.opt_int(7)? {
        Some(id) => Some(Generation {
            id,
            number: r.int(17)?,
            imported_at: r.int(8)?,
            sha256: r.text(9)?,
            size: r.int(10)?,
            advisories: r.int(11)?,
        }),
        None => None,
    };
    Ok(Feed {
        id: r.int(0)?,
        name: r.text(1)?,
        kind: FeedKind::parse(&kind)
            .map_err(|_| StoreError::Corrupt(format!("unknown feed kind {kind:?}")))?,
        source: r.text(3)?,
        releases: r.text(4)?,
        enabled: r.flag(5)?,
        created_at: r.int(6)?,
        current,
        generations: r.int(12)?,
        sync: SyncState {
            etag: r.opt_text(13)?,
            last_modified: r.opt_text(14)?,
            synced_at: r.opt_int(15)?,
            error: r.opt_text(16)?,
        },
    })
}

/// A site from `s.id, s.name, s.created_at, <host count>`.
pub fn site(r: &dyn Columns) -> Result<Site, StoreError> {
    Ok(Site {
        id: r.int(0)?,
        name: r.text(1)?,
        created_at: r.int(2)?,
        hosts: r.int(3)?,
    })
}

/// The token query both backends run, each adding its own `WHERE`.
pub const TOKEN_COLUMNS: &str =
    "SELECT t.id, t.name, t.kind, t.site_id, s.name, t.created_at, t.access, t.user_id, u.name,
        t.group_id, g.name, t.last_used_at, t.revoked_at, r.name
     FROM tokens t LEFT JOIN sites s ON s.id = t.site_id
     LEFT JOIN users u ON u.id = t.user_id LEFT JOIN site_groups g ON g.id = t.group_id
     LEFT JOIN users r ON r.id = t.revoked_by";

/// A token from [`TOKEN_COLUMNS`].
pub fn token(r: &dyn Columns) -> Result<TokenRecord, StoreError> {
    let kind = r.text(2)?;
    Ok(TokenRecord {
        id: r.int(0)?,
        name: r.text(1)?,
        // Never guess a token's kind: it decides what the token may do.
        kind: TokenKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind:?}")))?,
        site_id: r.opt_int(3)?,
        site: r.opt_text(4)?,
        created_at: r.int(5)?,
        access: match r.opt_text(6)? {
            Some(a) => Some(
                patchwatch_auth::TokenAccess::parse(&a)
                    .map_err(|_| StoreError::Corrupt(format!("token access {a:?}")))?,
            ),
            None => None,
        },
        user_id: r.opt_int(7)?,
        user: r.opt_text(8)?,
        group_id: r.opt_int(9)?,
        group: r.opt_text(10)?,
        last_used_at: r.opt_int(11)?,
        revoked_at: r.opt_int(12)?,
        revoked_by: r.opt_text(13)?,
    })
}

/// A report from `r.id, r.host_id, r.received_at, r.protocol, o.distro,
/// o.release, r.kernel, ps.package_count, r.unchanged, r.sender,
/// r.user_agent, r.package_set_id`.
pub fn report(r: &dyn Columns) -> Result<ReportRecord, StoreError> {
    Ok(ReportRecord {
        id: r.int(0)?,
        host_id: r.int(1)?,
        received_at: r.int(2)?,
        protocol: r.text(3)?,
        os: OsRelease {
            distro: r.text(4)?,
            release: r.text(5)?,
        },
        kernel: r.text(6)?,
        packages: r.int(7)?,
        unchanged: r.flag(8)?,
        sender: r.text(9)?,
        user_agent: r.text(10)?,
        package_set_id: r.int(11)?,
    })
}

/// A report change from the columns of [`crate::report_changes_sql`].
pub fn report_change(r: &dyn Columns) -> Result<crate::ReportChange, StoreError> {
    Ok(crate::ReportChange {
        host_id: r.int(0)?,
        site_id: r.int(1)?,
        received_at: r.int(2)?,
        package_set_id: r.int(3)?,
        os: OsRelease {
            distro: r.text(4)?,
            release: r.text(5)?,
        },
        kernel: r.text(6)?,
    })
}

/// A host key from `id, site_id, package_set_id, os_release_id, kernel`.
pub fn host_key(r: &dyn Columns) -> Result<crate::HostKey, StoreError> {
    Ok(crate::HostKey {
        id: r.int(0)?,
        site_id: r.int(1)?,
        package_set_id: r.int(2)?,
        os_release_id: r.int(3)?,
        kernel: r.text(4)?,
    })
}

/// A host reference from [`crate::filter::HOST_REF_COLUMNS`].
pub fn host_ref(r: &dyn Columns) -> Result<crate::HostRef, StoreError> {
    Ok(crate::HostRef {
        id: r.int(0)?,
        site_id: r.int(1)?,
        package_set_id: r.int(2)?,
        last_report_id: r.int(3)?,
    })
}

/// An OS release from `id, distro, release`.
pub fn os_release_row(r: &dyn Columns) -> Result<(i64, OsRelease), StoreError> {
    Ok((
        r.int(0)?,
        OsRelease {
            distro: r.text(1)?,
            release: r.text(2)?,
        },
    ))
}

/// A site's id and name from `id, name`.
pub fn site_name_row(r: &dyn Columns) -> Result<(i64, String), StoreError> {
    Ok((r.int(0)?, r.text(1)?))
}
