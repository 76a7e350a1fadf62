//! Host filters, shared by the CLI and the API.

use serde::Serialize;

use crate::Millis;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFilter {
    /// The caller's scope: only hosts of these sites (`None`: every site).
    /// Every read on behalf of a caller sets it from
    /// `patchwatch_auth::Access::scope`.
    pub site_ids: Option<Vec<i64>>,
    pub site: Option<String>,
    /// `debian` matches every Debian release, `debian 12` only that one.
    pub os: Option<String>,
    pub tag: Option<String>,
    /// Hostname suffixes such as `.cz`; a host matches any of them.
    pub domains: Vec<String>,
    /// Only hosts whose last report is older than this.
    pub last_seen_before: Option<Millis>,
    /// Exact hostname (case-insensitive).
    pub hostname: Option<String>,
    /// Only hosts whose last report is at or after this (active hosts).
    pub seen_since: Option<Millis>,
    /// Reboot required, as the client said or the server derived from the
    /// packages: `Some(true)` only hosts either says so of, `Some(false)`
    /// the others (including those where neither could tell).
    pub reboot_required: Option<bool>,
    /// Only these hosts (a selection made outside SQL, such as the hosts
    /// exposed to one CVE), still sorted and paged by the query.
    pub host_ids: Option<Vec<i64>>,
    pub sort: HostSort,
    pub limit: Option<u32>,
    pub offset: u32,
}

/// What a host list is ordered by; every order ends with the host id, so
/// pages never overlap or skip a host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostSort {
    pub key: SortKey,
    pub descending: bool,
}

/// The columns a host list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Site, then hostname.
    #[default]
    Site,
    Hostname,
    /// Distribution, then release, then hostname.
    Os,
    LastSeen,
    Packages,
}

impl SortKey {
    pub const ALL: [SortKey; 5] = [
        SortKey::Hostname,
        SortKey::Site,
        SortKey::Os,
        SortKey::LastSeen,
        SortKey::Packages,
    ];

    /// The name used in URLs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Site => "site",
            SortKey::Hostname => "hostname",
            SortKey::Os => "os",
            SortKey::LastSeen => "last_seen",
            SortKey::Packages => "packages",
        }
    }

    pub fn parse(name: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The columns, from a fixed list: nothing of a request reaches the
    /// `ORDER BY` text.
    fn columns(self) -> &'static [&'static str] {
        match self {
            SortKey::Site => &["s.name", "h.hostname"],
            SortKey::Hostname => &["h.hostname"],
            SortKey::Os => &["o.distro", "o.release", "h.hostname"],
            SortKey::LastSeen => &["h.last_seen"],
            SortKey::Packages => &["ps.package_count"],
        }
    }
}

impl HostSort {
    /// `ORDER BY ...` over the aliases of [`HOST_SUMMARY_FROM`], the host
    /// id last (ascending either way, so equal rows keep one order).
    pub fn order_by(&self) -> String {
        let dir = if self.descending { " DESC" } else { "" };
        let cols: Vec<String> = self
            .key
            .columns()
            .iter()
            .map(|c| format!("{c}{dir}"))
            .collect();
        format!("ORDER BY {}, h.id", cols.join(", "))
    }
}

impl HostFilter {
    /// `debian 12` -> (`debian`, Some(`12`)); `debian` -> (`debian`, None).
    pub fn os_parts(&self) -> Option<(String, Option<String>)> {
        let os = self.os.as_deref()?.trim().to_ascii_lowercase();
        match os.split_once(char::is_whitespace) {
            Some((d, r)) => Some((d.to_owned(), Some(r.trim().to_owned()))),
            None => Some((os, None)),
        }
    }

    /// LIKE patterns for the domain suffixes, with `%` and `_` escaped by `\`.
    pub fn domain_patterns(&self) -> Vec<String> {
        self.domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .map(|d| {
                let escaped = d
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}")
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: Option<u32>,
    pub offset: u32,
}

/// A value bound to a filter placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
}

/// The `WHERE` clause (possibly empty) for a host filter, over the aliases
/// `h` (hosts), `s` (sites) and `o` (os_releases), with placeholders written
/// by `placeholder(n)` (1-based): `?n` for SQLite, `$n` for PostgreSQL.
/// Both backends build their host queries from this one function.
pub fn host_where(
    filter: &HostFilter,
    placeholder: fn(usize) -> String,
) -> (String, Vec<SqlValue>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    let bind = |v: SqlValue, values: &mut Vec<SqlValue>| {
        values.push(v);
        placeholder(values.len())
    };
    if let Some(ids) = &filter.site_ids {
        // Ids are integers, written inline: one statement text per scope
        // size would defeat the statement caches anyway.
        if ids.is_empty() {
            clauses.push("1 = 0".to_owned());
        } else {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            clauses.push(format!("h.site_id IN ({})", list.join(", ")));
        }
    }
    if let Some(site) = &filter.site {
        let p = bind(SqlValue::Text(site.clone()), &mut values);
        clauses.push(format!("s.name = {p}"));
    }
    if let Some((distro, release)) = filter.os_parts() {
        let p = bind(SqlValue::Text(distro), &mut values);
        match release {
            Some(r) => {
                let q = bind(SqlValue::Text(r), &mut values);
                clauses.push(format!("(o.distro = {p} AND o.release = {q})"));
            }
            None => clauses.push(format!("o.distro = {p}")),
        }
    }
    if let Some(tag) = &filter.tag {
        let p = bind(SqlValue::Text(tag.clone()), &mut values);
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM host_tags t WHERE t.host_id = h.id AND t.tag = {p})"
        ));
    }
    let domains = filter.domain_patterns();
    if !domains.is_empty() {
        let ors: Vec<String> = domains
            .into_iter()
            .map(|d| {
                format!(
                    "h.hostname LIKE {} ESCAPE '\\'",
                    bind(SqlValue::Text(d), &mut values)
                )
            })
            .collect();
        clauses.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(before) = filter.last_seen_before {
        let p = bind(SqlValue::Int(before), &mut values);
        clauses.push(format!("h.last_seen < {p}"));
    }
    if let Some(since) = filter.seen_since {
        let p = bind(SqlValue::Int(since), &mut values);
        clauses.push(format!("h.last_seen >= {p}"));
    }
    match filter.reboot_required {
        // `IS [NOT] TRUE`: one text for SQLite's integer and PostgreSQL's
        // boolean column, and NULL (unknown) counts as "not required".
        Some(true) => {
            clauses.push("(h.reboot_required IS TRUE OR h.kernel_outdated IS TRUE)".to_owned())
        }
        Some(false) => clauses
            .push("h.reboot_required IS NOT TRUE AND h.kernel_outdated IS NOT TRUE".to_owned()),
        None => {}
    }
    if let Some(ids) = &filter.host_ids {
        // Integers, inline like the scope.
        if ids.is_empty() {
            clauses.push("1 = 0".to_owned());
        } else {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            clauses.push(format!("h.id IN ({})", list.join(", ")));
        }
    }
    if let Some(name) = &filter.hostname {
        let p = bind(SqlValue::Text(name.to_ascii_lowercase()), &mut values);
        clauses.push(format!("h.hostname = {p}"));
    }
    if clauses.is_empty() {
        (String::new(), values)
    } else {
        (format!("WHERE {}", clauses.join(" AND ")), values)
    }
}

/// The columns every host summary query selects, in the order
/// [`crate::HostSummary`] is built from.
pub const HOST_SUMMARY_COLUMNS: &str = "h.id, h.hostname, s.name, o.distro, o.release, h.kernel, \
     h.arch, h.tags, ps.package_count, h.first_seen, h.last_seen, h.protocol, h.reboot_required, \
     h.package_set_id, h.last_report_id, h.site_id, h.kernel_outdated";

/// How many columns [`HOST_SUMMARY_COLUMNS`] selects: queries that select
/// more after them read those from here on.
pub const HOST_SUMMARY_COLUMN_COUNT: usize = 17;

/// The joins behind [`HOST_SUMMARY_COLUMNS`].
pub const HOST_SUMMARY_FROM: &str = "hosts h JOIN sites s ON s.id = h.site_id \
     JOIN os_releases o ON o.id = h.os_release_id \
     JOIN package_sets ps ON ps.id = h.package_set_id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_clause_binds_in_order() {
        let f = HostFilter {
            site: Some("CESNET".into()),
            os: Some("Debian 12".into()),
            tag: Some("prod".into()),
            domains: vec![".cz".into(), "ex_ample.de".into()],
            last_seen_before: Some(5),
            ..HostFilter::default()
        };
        let (sql, values) = host_where(&f, |n| format!("${n}"));
        assert_eq!(
            sql,
            "WHERE s.name = $1 AND (o.distro = $2 AND o.release = $3) AND EXISTS (SELECT 1 FROM \
             host_tags t WHERE t.host_id = h.id AND t.tag = $4) AND (h.hostname LIKE $5 ESCAPE '\\' \
             OR h.hostname LIKE $6 ESCAPE '\\') AND h.last_seen < $7"
        );
        assert_eq!(values[1], SqlValue::Text("debian".into()));
        assert_eq!(values[5], SqlValue::Text("%ex\\_ample.de".into()));
        assert_eq!(values[6], SqlValue::Int(5));
        assert_eq!(
            host_where(&HostFilter::default(), |n| format!("?{n}")).0,
            ""
        );
        let scoped = |ids: Vec<i64>| HostFilter {
            site_ids: Some(ids),
            ..HostFilter::default()
        };
        assert_eq!(
            host_where(&scoped(vec![3, 7]), |n| format!("?{n}")).0,
            "WHERE h.site_id IN (3, 7)"
        );
        assert_eq!(
            host_where(&scoped(vec![]), |n| format!("?{n}")).0,
            "WHERE 1 = 0"
        );
        let f = HostFilter {
            seen_since: Some(9),
            reboot_required: Some(false),
            host_ids: Some(vec![4, 2]),
            ..HostFilter::default()
        };
        assert_eq!(
            host_where(&f, |n| format!("?{n}")).0,
            "WHERE h.last_seen >= ?1 AND h.reboot_required IS NOT TRUE AND h.kernel_outdated IS NOT \
             TRUE AND h.id IN (4, 2)"
        );
    }

    #[test]
    fn reboot_required_is_the_clients_flag_or_the_derived_one() {
        let f = HostFilter {
            reboot_required: Some(true),
            ..HostFilter::default()
        };
        assert_eq!(
            host_where(&f, |n| format!("?{n}")).0,
            "WHERE (h.reboot_required IS TRUE OR h.kernel_outdated IS TRUE)"
        );
    }

    #[test]
    fn sort_orders_come_from_a_fixed_list() {
        assert_eq!(
            HostSort::default().order_by(),
            "ORDER BY s.name, h.hostname, h.id"
        );
        let os = HostSort {
            key: SortKey::parse("os").unwrap(),
            descending: true,
        };
        assert_eq!(
            os.order_by(),
            "ORDER BY o.distro DESC, o.release DESC, h.hostname DESC, h.id"
        );
        assert_eq!(SortKey::parse("h.id; DROP TABLE hosts"), None);
        for k in SortKey::ALL {
            assert_eq!(SortKey::parse(k.as_str()), Some(k));
        }
    }
}
