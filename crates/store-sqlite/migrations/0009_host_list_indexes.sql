-- The host list (web UI, issue 11) at 100,000 hosts: every sort order is an
-- index walk, and a page far down skips index entries instead of sorting
-- and joining every host. Chosen from EXPLAIN QUERY PLAN of each sort key;
-- docs/PERFORMANCE.md has the plans. Each index ends with the host id, the
-- lists' tie-breaker (implicit in SQLite, written out as in PostgreSQL).
-- Site order walks sites by name, then UNIQUE (site_id, hostname).

CREATE INDEX hosts_by_hostname ON hosts (hostname, id);

-- OS order: os_releases by (distro, release), then these; its prefix
-- serves everything hosts_by_os did.
CREATE INDEX hosts_by_os_hostname ON hosts (os_release_id, hostname, id);
DROP INDEX hosts_by_os;

-- Package count order: package sets by count, then the hosts of each set.
CREATE INDEX package_sets_by_count ON package_sets (package_count, id);
CREATE INDEX hosts_by_package_set ON hosts (package_set_id, id);

-- Last-report order uses hosts_by_last_seen (last_seen, then the rowid).

-- Hosts changed since a report id.
CREATE INDEX hosts_by_last_report ON hosts (last_report_id);
