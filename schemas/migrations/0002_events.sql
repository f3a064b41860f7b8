-- Migration 2: events, one row per normalised event (schemas.Event), with
-- the enrich stage's context. This is the table analysts hunt in.
--
-- Idempotent writes: the sink may write an event again (a replayed topic,
-- a retried batch). ReplacingMergeTree keeps one row per sorting key, and
-- the sorting key ends with event_id while everything before it is derived
-- from the event itself, so two writes of one event always share a key and
-- a partition. Merges fold them in the background; SELECT ... FINAL (or
-- GROUP BY event_id) gives exact counts before that.
--
-- Layout choices:
-- * PARTITION BY month, not day: one sink batch then writes one part in the
--   usual case, even when late or backfilled events span many days, and a
--   year of data stays a dozen partitions. Drop old data by partition.
-- * ORDER BY (source, event_source, event_name, account_id, hour, event_id):
--   hunting queries name the action first ("who called DeleteTrail in the
--   last day"), then narrow by account and time. Principal, IP and key
--   lookups go through the skip indexes below.
-- * LowCardinality for every field with a bounded vocabulary (names,
--   regions, accounts, codes, user agents), ZSTD for long free text and the
--   raw record. ZSTD(1) rather than a higher level for raw: at the sink's
--   target of 300k rows/s the raw column alone is about 400 MB/s to
--   compress, and level 1 keeps most of the ratio at two to three times
--   the speed.
-- * Tristate flags (read_only, mfa) are Nullable(Bool): NULL means the
--   record did not say, which must not read as false.
-- * Flow fields sit in flow_* columns, zero or empty for CloudTrail rows;
--   the cloudtrail and vpc_flows views (migration 5) show one family each.
CREATE TABLE IF NOT EXISTS events
(
    -- Identity and time.
    event_id                         String                                   COMMENT 'stable id: CloudTrail eventID, or a hash of a flow record and its object',
    source                           Enum8('unknown' = 0, 'cloudtrail' = 1, 'vpcflow' = 2) COMMENT 'log family',
    event_time                       DateTime64(3, 'UTC')                     COMMENT 'CloudTrail eventTime, or the flow record start' CODEC(Delta, ZSTD(1)),
    account_id                       LowCardinality(String)                   COMMENT 'recipientAccountId, or the flow account-id',
    region                           LowCardinality(String)                   COMMENT 'awsRegion, or the flow region',

    -- What happened.
    event_source                     LowCardinality(String)                   COMMENT 'service endpoint (s3.amazonaws.com), or vpcflow',
    event_name                       LowCardinality(String)                   COMMENT 'API action (GetObject); for flows ACCEPT, REJECT, NODATA or SKIPDATA',
    event_version                    LowCardinality(String)                   COMMENT 'CloudTrail eventVersion as given',
    event_type                       LowCardinality(String)                   COMMENT 'AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, ...',
    event_category                   LowCardinality(String)                   COMMENT 'Management, Data or Insight',
    read_only                        Nullable(Bool)                           COMMENT 'CloudTrail readOnly; NULL when the record does not say',
    error_code                       LowCardinality(String)                   COMMENT 'CloudTrail errorCode; empty on success',
    error_message                    String                                   COMMENT 'CloudTrail errorMessage' CODEC(ZSTD(1)),
    request_id                       String                                   COMMENT 'CloudTrail requestID' CODEC(ZSTD(1)),

    -- Who did it.
    principal_type                   LowCardinality(String)                   COMMENT 'userIdentity.type (IAMUser, AssumedRole, Root, AWSService, ...)',
    principal                        String                                   COMMENT 'acting identity ARN, or the best stable name without one; the partition key on Kafka' CODEC(ZSTD(1)),
    principal_id                     String                                   COMMENT 'userIdentity.principalId' CODEC(ZSTD(1)),
    access_key_id                    String                                   COMMENT 'userIdentity.accessKeyId' CODEC(ZSTD(1)),
    session_issuer                   LowCardinality(String)                   COMMENT 'ARN of the role behind an assumed-role session',
    user_name                        LowCardinality(String)                   COMMENT 'userIdentity.userName, or the session issuer name',
    mfa                              Nullable(Bool)                           COMMENT 'sessionContext.attributes.mfaAuthenticated; NULL when absent',

    -- From where.
    source_ip                        String                                   COMMENT 'sourceIPAddress (may be a service name such as s3.amazonaws.com), or the flow srcaddr' CODEC(ZSTD(1)),
    user_agent                       LowCardinality(String)                   COMMENT 'CloudTrail userAgent',

    -- On what: CloudTrail resources[], one array element per resource.
    resource_arns                    Array(String)                            COMMENT 'resources[].ARN',
    resource_types                   Array(LowCardinality(String))            COMMENT 'resources[].type, aligned with resource_arns',
    resource_account_ids             Array(LowCardinality(String))            COMMENT 'resources[].accountId, aligned with resource_arns',

    -- VPC flow record fields (versions 2 to 8); zero or empty for CloudTrail.
    flow_version                     UInt8                                    COMMENT 'flow log format version',
    flow_interface_id                LowCardinality(String)                   COMMENT 'interface-id',
    flow_src_addr                    String                                   COMMENT 'srcaddr' CODEC(ZSTD(1)),
    flow_dst_addr                    String                                   COMMENT 'dstaddr' CODEC(ZSTD(1)),
    flow_src_port                    Nullable(UInt16)                         COMMENT 'srcport; NULL when absent (0 is a real port)',
    flow_dst_port                    Nullable(UInt16)                         COMMENT 'dstport; NULL when absent',
    flow_protocol                    Nullable(UInt8)                          COMMENT 'IANA protocol number (6 tcp, 17 udp, 1 icmp); NULL when absent',
    flow_packets                     UInt64                                   COMMENT 'packets',
    flow_bytes                       UInt64                                   COMMENT 'bytes',
    flow_start                       DateTime('UTC')                          COMMENT 'start of the capture window',
    flow_end                         DateTime('UTC')                          COMMENT 'end of the capture window',
    flow_action                      LowCardinality(String)                   COMMENT 'ACCEPT or REJECT',
    flow_log_status                  LowCardinality(String)                   COMMENT 'OK, NODATA or SKIPDATA',
    flow_vpc_id                      LowCardinality(String)                   COMMENT 'vpc-id (v3+)',
    flow_subnet_id                   LowCardinality(String)                   COMMENT 'subnet-id (v3+)',
    flow_instance_id                 LowCardinality(String)                   COMMENT 'instance-id (v3+)',
    flow_tcp_flags                   UInt16                                   COMMENT 'tcp-flags, OR of the window (v3+)',
    flow_type                        LowCardinality(String)                   COMMENT 'IPv4, IPv6 or EFA (v3+)',
    flow_pkt_src_addr                String                                   COMMENT 'pkt-srcaddr (v3+)' CODEC(ZSTD(1)),
    flow_pkt_dst_addr                String                                   COMMENT 'pkt-dstaddr (v3+)' CODEC(ZSTD(1)),
    flow_region                      LowCardinality(String)                   COMMENT 'region (v4+)',
    flow_az_id                       LowCardinality(String)                   COMMENT 'az-id (v4+)',
    flow_sublocation_type            LowCardinality(String)                   COMMENT 'sublocation-type (v4+)',
    flow_sublocation_id              LowCardinality(String)                   COMMENT 'sublocation-id (v4+)',
    flow_pkt_src_aws_service         LowCardinality(String)                   COMMENT 'pkt-src-aws-service (v5+)',
    flow_pkt_dst_aws_service         LowCardinality(String)                   COMMENT 'pkt-dst-aws-service (v5+)',
    flow_direction                   LowCardinality(String)                   COMMENT 'flow-direction: ingress or egress (v5+)',
    flow_traffic_path                UInt8                                    COMMENT 'traffic-path 1 to 8; 0 when absent (v5+)',
    flow_ecs_cluster_arn             LowCardinality(String)                   COMMENT 'ecs-cluster-arn (v7+)',
    flow_ecs_cluster_name            LowCardinality(String)                   COMMENT 'ecs-cluster-name (v7+)',
    flow_ecs_container_instance_arn  LowCardinality(String)                   COMMENT 'ecs-container-instance-arn (v7+)',
    flow_ecs_container_instance_id   LowCardinality(String)                   COMMENT 'ecs-container-instance-id (v7+)',
    flow_ecs_container_id            String                                   COMMENT 'ecs-container-id (v7+)' CODEC(ZSTD(1)),
    flow_ecs_second_container_id     String                                   COMMENT 'ecs-second-container-id (v7+)' CODEC(ZSTD(1)),
    flow_ecs_service_name            LowCardinality(String)                   COMMENT 'ecs-service-name (v7+)',
    flow_ecs_task_definition_arn     LowCardinality(String)                   COMMENT 'ecs-task-definition-arn (v7+)',
    flow_ecs_task_arn                String                                   COMMENT 'ecs-task-arn (v7+)' CODEC(ZSTD(1)),
    flow_ecs_task_id                 String                                   COMMENT 'ecs-task-id (v7+)' CODEC(ZSTD(1)),
    flow_reject_reason               LowCardinality(String)                   COMMENT 'reject-reason (v8+)',

    -- Enrichment (schemas.Enrichment): empty when the enrich stage had nothing.
    account_name                     LowCardinality(String)                   COMMENT 'account name from AWS Organizations',
    actor_arn                        String                                   COMMENT 'identity really behind the event, followed through AssumeRole chains' CODEC(ZSTD(1)),
    session_name                     String                                   COMMENT 'assumed-role session name' CODEC(ZSTD(1)),
    source_identity                  String                                   COMMENT 'sts:SourceIdentity of the session' CODEC(ZSTD(1)),
    geo_country                      LowCardinality(String)                   COMMENT 'ISO 3166-1 alpha-2 country of source_ip (flows: of flow_src_addr)',
    geo_city                         LowCardinality(String)                   COMMENT 'city of source_ip',
    geo_latitude                     Float32                                  COMMENT 'degrees; 0 with geo_country empty means unknown',
    geo_longitude                    Float32                                  COMMENT 'degrees',
    geo_asn                          UInt32                                   COMMENT 'autonomous system number of source_ip; 0 when unknown',
    geo_as_org                       LowCardinality(String)                   COMMENT 'organisation of geo_asn',
    dst_geo_country                  LowCardinality(String)                   COMMENT 'country of flow_dst_addr; empty for CloudTrail',
    dst_geo_city                     LowCardinality(String)                   COMMENT 'city of flow_dst_addr',
    dst_geo_latitude                 Float32                                  COMMENT 'degrees',
    dst_geo_longitude                Float32                                  COMMENT 'degrees',
    dst_geo_asn                      UInt32                                   COMMENT 'autonomous system number of flow_dst_addr',
    dst_geo_as_org                   LowCardinality(String)                   COMMENT 'organisation of dst_geo_asn',

    -- Provenance.
    object_bucket                    LowCardinality(String)                   COMMENT 'S3 bucket the event was read from',
    object_key                       String                                   COMMENT 'S3 key the event was read from' CODEC(ZSTD(1)),
    object_index                     UInt32                                   COMMENT 'position of the record in the object, from 0',
    ingest_time                      DateTime64(3, 'UTC')                     COMMENT 'when ingest decoded the event',
    inserted_at                      DateTime64(3, 'UTC') DEFAULT now64(3)    COMMENT 'when the sink wrote the row; the newest write of an event_id wins',

    -- The original record, byte for byte (CloudTrail JSON object or flow log line).
    raw                              String                                   COMMENT 'original record; read varying fields with JSONExtract(raw, ...)' CODEC(ZSTD(1)),

    INDEX idx_principal     principal     TYPE bloom_filter(0.01)  GRANULARITY 1,
    INDEX idx_actor_arn     actor_arn     TYPE bloom_filter(0.01)  GRANULARITY 1,
    INDEX idx_source_ip     source_ip     TYPE bloom_filter(0.01)  GRANULARITY 1,
    INDEX idx_access_key_id access_key_id TYPE bloom_filter(0.01)  GRANULARITY 1,
    INDEX idx_event_id      event_id      TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_resource_arns resource_arns TYPE bloom_filter(0.01)  GRANULARITY 1,
    INDEX idx_flow_dst_addr flow_dst_addr TYPE bloom_filter(0.01)  GRANULARITY 1,
    INDEX idx_event_name    event_name    TYPE set(1024)           GRANULARITY 1,
    INDEX idx_error_code    error_code    TYPE set(256)            GRANULARITY 1,
    INDEX idx_event_time    event_time    TYPE minmax              GRANULARITY 1
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (source, event_source, event_name, account_id, toStartOfHour(event_time), event_id)
COMMENT 'normalised CloudTrail and VPC flow events, one row per event_id after merges (use FINAL for exact counts)';
