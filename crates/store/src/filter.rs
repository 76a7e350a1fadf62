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

    /// The tables besides `hosts h` the columns come from.
    fn joins(self) -> HostJoins {
        match self {
            SortKey::Site => HostJoins {
                site: true,
                ..HostJoins::NONE
            },
            SortKey::Os => HostJoins {
                os: true,
                ..HostJoins::NONE
            },
            SortKey::Packages => HostJoins {
                package_set: true,
                ..HostJoins::NONE
            },
            SortKey::Hostname | SortKey::LastSeen => HostJoins::NONE,
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
    /// A list of integers bound as one value, matched by
    /// [`SqlDialect::any_of`]: SQLite takes it as a JSON array (text),
    /// PostgreSQL as a `bigint[]`.
    IntList(Vec<i64>),
}

impl SqlValue {
    /// The JSON array SQLite's `json_each` reads an [`SqlValue::IntList`] from.
    pub fn json_array(ids: &[i64]) -> String {
        let items: Vec<String> = ids.iter().map(i64::to_string).collect();
        format!("[{}]", items.join(","))
    }
}

/// What differs between the two backends' SQL text: placeholders and
/// matching a column against a bound list. One statement text per filter
/// shape whatever the list holds, so the statement caches keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlDialect {
    Sqlite,
    Postgres,
}

impl SqlDialect {
    /// The `n`th placeholder (1-based): `?n` or `$n`.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            SqlDialect::Sqlite => format!("?{n}"),
            SqlDialect::Postgres => format!("${n}"),
        }
    }

    /// `column` equals one of the integers of the [`SqlValue::IntList`]
    /// bound to `placeholder`.
    pub fn any_of(self, column: &str, placeholder: &str) -> String {
        match self {
            SqlDialect::Sqlite => {
                format!("{column} IN (SELECT value FROM json_each({placeholder}))")
            }
            SqlDialect::Postgres => format!("{column} = ANY({placeholder}::bigint[])"),
        }
    }
}

/// The tables a host query joins to `hosts h`: `sites s`,
/// `os_releases o`, `package_sets ps`. Each is a NOT NULL foreign key, so
/// leaving one out never changes which hosts match or how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostJoins {
    pub site: bool,
    pub os: bool,
    pub package_set: bool,
}

impl HostJoins {
    pub const NONE: HostJoins = HostJoins {
        site: false,
        os: false,
        package_set: false,
    };

    fn union(self, other: HostJoins) -> HostJoins {
        HostJoins {
            site: self.site || other.site,
            os: self.os || other.os,
            package_set: self.package_set || other.package_set,
        }
    }

    /// `hosts h` with these joins, for a `FROM`.
    pub fn hosts_first(self) -> String {
        let mut from = "hosts h".to_owned();
        self.append_joins(&mut from);
        if self.package_set {
            from += " JOIN package_sets ps ON ps.id = h.package_set_id";
        }
        from
    }

    /// Like [`HostJoins::hosts_first`], with the package sets as the outer
    /// loop in SQLite: with no statistics (the store runs no `ANALYZE`) its
    /// planner would rather sort every host by package count than walk
    /// the sets by count and each set's hosts (`CROSS JOIN` keeps the
    /// order of the tables written; PostgreSQL has statistics and chooses).
    fn package_sets_first(self, dialect: SqlDialect) -> String {
        let mut from = match dialect {
            SqlDialect::Sqlite => "package_sets ps CROSS JOIN hosts h ON ps.id = h.package_set_id",
            SqlDialect::Postgres => "package_sets ps JOIN hosts h ON ps.id = h.package_set_id",
        }
        .to_owned();
        self.append_joins(&mut from);
        from
    }

    fn append_joins(self, from: &mut String) {
        if self.site {
            *from += " JOIN sites s ON s.id = h.site_id";
        }
        if self.os {
            *from += " JOIN os_releases o ON o.id = h.os_release_id";
        }
    }
}

/// A host filter's `WHERE` clause, its values, and the tables it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostWhere {
    /// `WHERE ...`, or empty.
    pub sql: String,
    pub values: Vec<SqlValue>,
    pub joins: HostJoins,
}

/// The `WHERE` clause (possibly empty) for a host filter, over the aliases
/// `h` (hosts), `s` (sites) and `o` (os_releases), in the backend's
/// dialect, with the joins it needs. Both backends build their host
/// queries from this one function.
pub fn host_where(filter: &HostFilter, dialect: SqlDialect) -> HostWhere {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    let mut joins = HostJoins::NONE;
    let bind = |v: SqlValue, values: &mut Vec<SqlValue>| {
        values.push(v);
        dialect.placeholder(values.len())
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
        joins.site = true;
    }
    if let Some((distro, release)) = filter.os_parts() {
        joins.os = true;
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
        // Up to the whole fleet: one bound value, not a statement text
        // SQLite and PostgreSQL would parse again for every list.
        if ids.is_empty() {
            clauses.push("1 = 0".to_owned());
        } else {
            let p = bind(SqlValue::IntList(ids.clone()), &mut values);
            clauses.push(dialect.any_of("h.id", &p));
        }
    }
    if let Some(name) = &filter.hostname {
        let p = bind(SqlValue::Text(name.to_ascii_lowercase()), &mut values);
        clauses.push(format!("h.hostname = {p}"));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    HostWhere { sql, values, joins }
}

/// The two statements of a page of hosts, in one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostListSql {
    /// `COUNT(*)` of the matching hosts, joining only what the filter needs.
    pub count: String,
    /// The page: [`HOST_SUMMARY_COLUMNS`], with the limit and the offset
    /// as the two placeholders after the filter's values.
    pub page: String,
    /// The same list as [`HostRef`]s ([`HOST_REF_COLUMNS`]), without
    /// joining the summaries: placeholders as for `page`.
    pub refs: String,
    /// The same list as host ids alone: for the site, hostname and OS
    /// orders a walk of an index that holds the id, without reading the
    /// hosts' rows (a tenth of the time of `refs` at 100,000 hosts).
    pub ids: String,
    /// The filter's values (the count takes these; the page and the refs
    /// these, then the limit and the offset).
    pub values: Vec<SqlValue>,
}

/// The columns of a [`HostRef`], in order.
pub const HOST_REF_COLUMNS: &str = "h.id, h.site_id, h.package_set_id, h.last_report_id";

/// Past this many host ids, a host list walks the whole filtered list's
/// ids in order ([`HostListSql::ids`]) and keeps the selected ones
/// ([`select_window`]) instead of binding the ids into its query: with
/// 66,000 bound ids SQLite looks each up in the hosts table, for the
/// count and again for the page, reading most of its 40 MB, where the
/// walk reads a 4 MB index (docs/PERFORMANCE.md, "large selections").
pub const LARGE_SELECTION: usize = 2_000;

/// Whether [`select_window`] should page `filter`'s host ids.
pub fn is_large_selection(filter: &HostFilter) -> bool {
    filter
        .host_ids
        .as_ref()
        .is_some_and(|ids| ids.len() > LARGE_SELECTION)
}

/// A large selection's page: `walk` is the filter without its host ids,
/// unpaged (what [`HostListSql::refs`] lists for it, in its order).
/// Returns the filter for the page's hosts alone (few ids, in the same
/// order) and how many hosts the whole selection has.
pub fn select_window(
    filter: &HostFilter,
    walk: impl IntoIterator<Item = i64>,
) -> (HostFilter, u64) {
    let mut selected: Vec<i64> = filter.host_ids.clone().unwrap_or_default();
    selected.sort_unstable();
    selected.dedup();
    let mut total = 0u64;
    let mut page = Vec::new();
    let limit = filter.limit.map_or(usize::MAX, |l| l as usize);
    for id in walk {
        if selected.binary_search(&id).is_ok() {
            if total >= u64::from(filter.offset) && page.len() < limit {
                page.push(id);
            }
            total += 1;
        }
    }
    let page_filter = HostFilter {
        host_ids: Some(page),
        limit: None,
        offset: 0,
        ..filter.clone()
    };
    (page_filter, total)
}

impl HostFilter {
    /// This filter without its host ids and unpaged: the list a large
    /// selection is picked from.
    pub fn walk(&self) -> HostFilter {
        HostFilter {
            host_ids: None,
            limit: None,
            offset: 0,
            ..self.clone()
        }
    }
}

/// A sorted, paged host list. The page's host ids are chosen first, over
/// only the tables the filter and the sort need, so the sort indexes
/// (migration 9) are walked and an offset skips index entries, not
/// joined rows; the summaries of those ids are joined afterwards.
pub fn host_list_sql(filter: &HostFilter, dialect: SqlDialect) -> HostListSql {
    let HostWhere {
        sql: where_sql,
        values,
        joins,
    } = host_where(filter, dialect);
    let count = format!("SELECT COUNT(*) FROM {} {where_sql}", joins.hosts_first());
    let order_by = filter.sort.order_by();
    let ids_joins = joins.union(filter.sort.key.joins());
    let ids_from = if filter.sort.key == SortKey::Packages {
        ids_joins.package_sets_first(dialect)
    } else {
        ids_joins.hosts_first()
    };
    let page = format!(
        "SELECT {HOST_SUMMARY_COLUMNS} FROM (SELECT h.id FROM {ids_from} {where_sql} \
         {order_by} LIMIT {} OFFSET {}) page_ids \
         JOIN hosts h ON h.id = page_ids.id {HOST_SUMMARY_JOINS} {order_by}",
        dialect.placeholder(values.len() + 1),
        dialect.placeholder(values.len() + 2),
    );
    let listed = |columns: &str| {
        format!(
            "SELECT {columns} FROM {ids_from} {where_sql} {order_by} LIMIT {} OFFSET {}",
            dialect.placeholder(values.len() + 1),
            dialect.placeholder(values.len() + 2),
        )
    };
    HostListSql {
        count,
        page,
        refs: listed(HOST_REF_COLUMNS),
        ids: listed("h.id"),
        values,
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

/// [`HOST_SUMMARY_FROM`] after `hosts h`.
const HOST_SUMMARY_JOINS: &str = "JOIN sites s ON s.id = h.site_id \
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
        let w = host_where(&f, SqlDialect::Postgres);
        assert_eq!(
            w.sql,
            "WHERE s.name = $1 AND (o.distro = $2 AND o.release = $3) AND EXISTS (SELECT 1 FROM \
             host_tags t WHERE t.host_id = h.id AND t.tag = $4) AND (h.hostname LIKE $5 ESCAPE '\\' \
             OR h.hostname LIKE $6 ESCAPE '\\') AND h.last_seen < $7"
        );
        assert_eq!(w.values[1], SqlValue::Text("debian".into()));
        assert_eq!(w.values[5], SqlValue::Text("%ex\\_ample.de".into()));
        assert_eq!(w.values[6], SqlValue::Int(5));
        assert_eq!(
            w.joins,
            HostJoins {
                site: true,
                os: true,
                package_set: false
            }
        );
        let none = host_where(&HostFilter::default(), SqlDialect::Sqlite);
        assert_eq!((none.sql.as_str(), none.joins), ("", HostJoins::NONE));
        let scoped = |ids: Vec<i64>| HostFilter {
            site_ids: Some(ids),
            ..HostFilter::default()
        };
        assert_eq!(
            host_where(&scoped(vec![3, 7]), SqlDialect::Sqlite).sql,
            "WHERE h.site_id IN (3, 7)"
        );
        assert_eq!(
            host_where(&scoped(vec![]), SqlDialect::Sqlite).sql,
            "WHERE 1 = 0"
        );
        let f = HostFilter {
            seen_since: Some(9),
            reboot_required: Some(false),
            ..HostFilter::default()
        };
        assert_eq!(
            host_where(&f, SqlDialect::Sqlite).sql,
            "WHERE h.last_seen >= ?1 AND h.reboot_required IS NOT TRUE AND h.kernel_outdated IS NOT \
             TRUE"
        );
    }

    #[test]
    fn reboot_required_is_the_clients_flag_or_the_derived_one() {
        let f = HostFilter {
            reboot_required: Some(true),
            ..HostFilter::default()
        };
        assert_eq!(
            host_where(&f, SqlDialect::Sqlite).sql,
            "WHERE (h.reboot_required IS TRUE OR h.kernel_outdated IS TRUE)"
        );
    }

    #[test]
    fn large_selections_are_paged_from_the_walk() {
        let mut ids: Vec<i64> = (0..=LARGE_SELECTION as i64).map(|n| 1_000 + n).collect();
        ids.extend([7, 3, 9, 3, 5]);
        let filter = HostFilter {
            host_ids: Some(ids),
            limit: Some(2),
            offset: 1,
            ..HostFilter::default()
        };
        assert!(is_large_selection(&filter));
        assert!(!is_large_selection(&HostFilter {
            host_ids: Some(vec![1; LARGE_SELECTION]),
            ..HostFilter::default()
        }));
        // The walk's order is kept; ids it does not list are not counted,
        // a repeated id counts once.
        let (page, total) = select_window(&filter, [9, 8, 3, 5, 1, 7]);
        assert_eq!(total, 4);
        assert_eq!(page.host_ids, Some(vec![3, 5]));
        assert_eq!((page.limit, page.offset), (None, 0));
        let (past, total) = select_window(
            &HostFilter {
                offset: 4,
                ..filter.clone()
            },
            [9, 8, 3, 5, 1, 7],
        );
        assert_eq!((past.host_ids, total), (Some(vec![]), 4));
        assert_eq!(filter.walk().host_ids, None);
        assert_eq!(filter.walk().limit, None);
    }

    #[test]
    fn host_ids_are_one_bound_value() {
        let f = |ids: Vec<i64>| HostFilter {
            seen_since: Some(9),
            host_ids: Some(ids),
            ..HostFilter::default()
        };
        let sqlite = host_where(&f(vec![4, 2]), SqlDialect::Sqlite);
        assert_eq!(
            sqlite.sql,
            "WHERE h.last_seen >= ?1 AND h.id IN (SELECT value FROM json_each(?2))"
        );
        assert_eq!(sqlite.values[1], SqlValue::IntList(vec![4, 2]));
        // The text doesn't depend on the list: one cached statement.
        assert_eq!(
            host_where(&f((1..=10_000).collect()), SqlDialect::Sqlite).sql,
            sqlite.sql
        );
        assert_eq!(
            host_where(&f(vec![4, 2]), SqlDialect::Postgres).sql,
            "WHERE h.last_seen >= $1 AND h.id = ANY($2::bigint[])"
        );
        assert_eq!(
            host_where(&f(vec![]), SqlDialect::Postgres).sql,
            "WHERE h.last_seen >= $1 AND 1 = 0"
        );
        assert_eq!(SqlValue::json_array(&[4, -2, 30]), "[4,-2,30]");
        assert_eq!(SqlValue::json_array(&[]), "[]");
    }

    #[test]
    fn host_lists_join_only_what_they_use() {
        let by_hostname = HostFilter {
            sort: HostSort {
                key: SortKey::Hostname,
                descending: false,
            },
            ..HostFilter::default()
        };
        let sql = host_list_sql(&by_hostname, SqlDialect::Sqlite);
        assert_eq!(sql.count, "SELECT COUNT(*) FROM hosts h ");
        assert!(
            sql.page.contains(
                "(SELECT h.id FROM hosts h  ORDER BY h.hostname, h.id LIMIT ?1 OFFSET ?2) page_ids"
            ),
            "{}",
            sql.page
        );
        let os_by_packages = HostFilter {
            os: Some("debian".into()),
            sort: HostSort {
                key: SortKey::Packages,
                descending: true,
            },
            ..HostFilter::default()
        };
        let sql = host_list_sql(&os_by_packages, SqlDialect::Postgres);
        assert_eq!(
            sql.count,
            "SELECT COUNT(*) FROM hosts h JOIN os_releases o ON o.id = h.os_release_id \
             WHERE o.distro = $1"
        );
        assert!(
            sql.page.contains(
                "(SELECT h.id FROM package_sets ps JOIN hosts h ON ps.id = h.package_set_id \
                 JOIN os_releases o ON o.id = h.os_release_id WHERE o.distro = $1 \
                 ORDER BY ps.package_count DESC, h.id LIMIT $2 OFFSET $3) page_ids"
            ),
            "{}",
            sql.page
        );
        assert!(sql.page.ends_with("ORDER BY ps.package_count DESC, h.id"));
        assert_eq!(sql.values, vec![SqlValue::Text("debian".into())]);
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
