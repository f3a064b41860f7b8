-- Migration 4: source_heartbeats, when each log source last delivered.
--
-- A source is (account, region, kind): kind is an object kind such as
-- cloudtrail, cloudtrail-digest or vpcflow (schemas.ObjectKind). The
-- pipeline writes a row whenever it sees a delivery; the table keeps, per
-- source, the row with the newest delivery (ReplacingMergeTree on
-- last_delivery), so rows written out of order never move a source back
-- in time. source_status (migration 5) turns this into "is it silent?".
CREATE TABLE IF NOT EXISTS source_heartbeats
(
    account_id                       LowCardinality(String)                   COMMENT 'AWS account that delivered',
    region                           LowCardinality(String)                   COMMENT 'AWS region that delivered',
    kind                             LowCardinality(String)                   COMMENT 'object kind (cloudtrail, cloudtrail-digest, vpcflow, ...)',
    last_delivery                    DateTime64(3, 'UTC')                     COMMENT 'delivery time of the newest object seen',
    last_bucket                      LowCardinality(String)                   COMMENT 'bucket of that object',
    last_object_key                  String                                   COMMENT 'key of that object',
    updated_at                       DateTime64(3, 'UTC') DEFAULT now64(3)    COMMENT 'when the row was written'
)
ENGINE = ReplacingMergeTree(last_delivery)
ORDER BY (account_id, region, kind)
COMMENT 'last delivery per (account, region, kind); read with FINAL or through source_status';
