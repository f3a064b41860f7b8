-- Migration 1: the table that records which migrations were applied.
--
-- `trailwatch migrate` inserts one row per version once every statement of
-- that version has run. Several workers may apply the same version at the
-- same time (ClickHouse has neither transactions nor locks), so each may
-- insert its own row: ReplacingMergeTree folds them into one per version
-- at merge time, and readers group by version (or use FINAL).
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version                          UInt32                                   COMMENT 'migration number, from its file name (0002_events.sql is 2)',
    name                             String                                   COMMENT 'migration name, from its file name',
    checksum                         String                                   COMMENT 'hex sha256 of the migration file as applied',
    applied_at                       DateTime64(3, 'UTC')                     COMMENT 'when the recording worker finished applying it',
    applied_by                       String                                   COMMENT 'host and pid of the recording worker'
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
COMMENT 'ClickHouse schema versions applied by trailwatch migrate; read with FINAL or GROUP BY version';
