-- The fleet view of one package (web UI, issue 11) lists every host in
-- (site, hostname) order with its package set and last report
-- (`Database::host_refs`): with the two columns included, the walk can be
-- an index-only scan instead of reading each host's row and its reported
-- details (as in SQLite, migration 13 there). A report changes
-- last_report_id, so each report updates this index as it already
-- updates hosts_by_last_report.
CREATE INDEX hosts_by_site_hostname_refs
    ON hosts (site_id, hostname, id) INCLUDE (package_set_id, last_report_id);
