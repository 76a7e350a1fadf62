-- Whether the host runs a kernel older than the newest one installed, as
-- the server derives it from the packages of the host's latest report
-- (`patchwatch_updates::kernel_status`). NULL: not derived yet (hosts
-- stored before this migration, or a report that said "packages
-- unchanged"); the server's background pass fills those in. Independent of
-- migrations 9 and 10.
ALTER TABLE hosts ADD COLUMN kernel_outdated BOOLEAN;
-- The background pass looks for the hosts without a verdict, usually none.
CREATE INDEX hosts_without_kernel_verdict ON hosts (id) WHERE kernel_outdated IS NULL;
