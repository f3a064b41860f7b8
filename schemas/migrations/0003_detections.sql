-- Migration 3: detections, one row per detection (schemas.Detection).
--
-- A detection's id is deterministic (rule, dedup key, window start), so a
-- replay writes the same id again, possibly with more evidence. The table
-- keeps the newest write of each id (ReplacingMergeTree on detected_time).
-- rule_id leads the key because it is part of the id: two writes of one id
-- always share it. There is no partitioning: detections are few, and a
-- partition derived from event times could change between writes of one id
-- and defeat the deduplication.
CREATE TABLE IF NOT EXISTS detections
(
    id                               String                                   COMMENT 'deterministic detection id (schemas.DetectionID)',
    rule_id                          LowCardinality(String)                   COMMENT 'rule that fired',
    title                            LowCardinality(String)                   COMMENT 'rule title',
    severity                         Enum8('info' = 1, 'low' = 2, 'medium' = 3, 'high' = 4, 'critical' = 5) COMMENT 'routing severity; compare as severity >= ''high''',
    techniques                       Array(LowCardinality(String))            COMMENT 'MITRE ATT&CK technique ids (T1562.008)',
    principal                        String                                   COMMENT 'entity: principal ARN',
    ip                               String                                   COMMENT 'entity: IP address',
    account_id                       LowCardinality(String)                   COMMENT 'entity: AWS account',
    first_event_time                 DateTime64(3, 'UTC')                     COMMENT 'event time of the oldest evidence',
    last_event_time                  DateTime64(3, 'UTC')                     COMMENT 'event time of the newest evidence',
    evidence_ids                     Array(String)                            COMMENT 'event_id of each evidence event, oldest first; see detection_evidence()',
    dedup_key                        String                                   COMMENT 'groups repeats of one finding; the pager pages a key once per window',
    summary                          String                                   COMMENT 'one human sentence',
    fields                           Map(LowCardinality(String), String)      COMMENT 'rule-specific context',
    detected_time                    DateTime64(3, 'UTC')                     COMMENT 'when the detect worker emitted it; the newest write of an id wins',

    INDEX idx_principal principal TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_dedup_key dedup_key TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(detected_time)
ORDER BY (rule_id, id)
COMMENT 'detections raised by the detect stage, one row per id after merges (use FINAL)';
