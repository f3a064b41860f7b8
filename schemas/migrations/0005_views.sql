-- Migration 5: views for analysts.
--
-- Plain views, not materialized views, on purpose: a materialized view
-- aggregates each insert as it arrives, before ReplacingMergeTree has
-- folded a re-written event into its first copy, so a replay would count
-- twice. A plain view reads the table and stays exact. The event views do
-- not force FINAL (it is costly on big scans, and the sink writes each
-- event once in the normal case); add FINAL to a query against events, or
-- GROUP BY event_id, when an exact count matters.
--
-- Every view is created IF NOT EXISTS: running this migration again, even
-- after a later migration redefined a view (with CREATE OR REPLACE VIEW),
-- never reverts it.

-- cloudtrail: CloudTrail events without the flow columns.
CREATE VIEW IF NOT EXISTS cloudtrail
COMMENT 'CloudTrail events (events where source = cloudtrail), hunting columns first'
AS SELECT
    event_time, account_id, account_name, region,
    event_source, event_name, read_only, error_code, error_message,
    principal_type, principal, actor_arn, user_name, session_issuer, session_name, source_identity,
    access_key_id, mfa, source_ip, user_agent,
    geo_country, geo_city, geo_asn, geo_as_org, geo_latitude, geo_longitude,
    resource_arns, resource_types, resource_account_ids,
    event_type, event_category, event_version, principal_id, request_id, event_id,
    object_bucket, object_key, object_index, ingest_time, inserted_at, raw
FROM events
WHERE source = 'cloudtrail';

-- vpc_flows: VPC flow records with their fields under short names.
CREATE VIEW IF NOT EXISTS vpc_flows
COMMENT 'VPC flow records (events where source = vpcflow), flow_ prefix dropped'
AS SELECT
    event_time, account_id, account_name, region,
    flow_interface_id AS interface_id,
    flow_src_addr AS src_addr, flow_src_port AS src_port,
    flow_dst_addr AS dst_addr, flow_dst_port AS dst_port,
    flow_protocol AS protocol, flow_action AS action, flow_log_status AS log_status,
    flow_packets AS packets, flow_bytes AS bytes, flow_start AS start, flow_end AS end,
    flow_direction AS direction, flow_tcp_flags AS tcp_flags, flow_type AS type,
    flow_vpc_id AS vpc_id, flow_subnet_id AS subnet_id, flow_instance_id AS instance_id,
    flow_pkt_src_addr AS pkt_src_addr, flow_pkt_dst_addr AS pkt_dst_addr,
    flow_pkt_src_aws_service AS pkt_src_aws_service, flow_pkt_dst_aws_service AS pkt_dst_aws_service,
    flow_traffic_path AS traffic_path, flow_reject_reason AS reject_reason,
    flow_az_id AS az_id, flow_sublocation_type AS sublocation_type, flow_sublocation_id AS sublocation_id,
    flow_ecs_cluster_name AS ecs_cluster_name, flow_ecs_service_name AS ecs_service_name,
    flow_ecs_task_arn AS ecs_task_arn, flow_ecs_container_id AS ecs_container_id,
    geo_country AS src_country, geo_asn AS src_asn, geo_as_org AS src_as_org,
    dst_geo_country AS dst_country, dst_geo_asn AS dst_asn, dst_geo_as_org AS dst_as_org,
    flow_version AS version, event_id, object_bucket, object_key, object_index, raw
FROM events
WHERE source = 'vpcflow';

-- principal_daily: what each principal did per day, for baselining and
-- triage ("is this much activity normal for this role?").
CREATE VIEW IF NOT EXISTS principal_daily
COMMENT 'CloudTrail activity per (day, account, principal): counts, errors, writes, IPs, countries'
AS SELECT
    toDate(event_time)                     AS day,
    account_id,
    principal,
    count()                                AS events,
    uniqExact(event_name)                  AS distinct_actions,
    countIf(error_code != '')              AS errors,
    countIf(read_only = false)             AS writes,
    uniqExact(source_ip)                   AS source_ips,
    groupUniqArray(16)(geo_country)        AS countries,
    min(event_time)                        AS first_seen,
    max(event_time)                        AS last_seen
FROM events
WHERE source = 'cloudtrail'
GROUP BY day, account_id, principal;

-- source_status: is each log source still delivering? "Healthy" must mean
-- data is arriving, so a source counts as silent once its newest delivery
-- is older than its kind's usual gap allows: CloudTrail and flow logs
-- deliver every 5 to 15 minutes, digests hourly.
CREATE VIEW IF NOT EXISTS source_status
COMMENT 'last delivery per (account, region, kind) and whether the source has gone silent'
AS SELECT
    account_id,
    region,
    kind,
    last_delivery,
    last_bucket,
    last_object_key,
    dateDiff('second', last_delivery, now64(3))                            AS silent_seconds,
    multiIf(kind = 'cloudtrail-digest', 7200, kind = 'cloudtrail-insights', 86400, 3600) AS silent_after_seconds,
    silent_seconds > silent_after_seconds                                   AS silent
FROM source_heartbeats FINAL;

-- detection_evidence: the events behind one detection, oldest first.
-- A parameterised view: SELECT * FROM detection_evidence(detection_id = '...').
CREATE VIEW IF NOT EXISTS detection_evidence
COMMENT 'evidence events of one detection: SELECT * FROM detection_evidence(detection_id = ''<id>'')'
AS SELECT
    event_time, account_id, region, event_source, event_name, error_code,
    principal, actor_arn, source_ip, user_agent, geo_country, geo_as_org,
    resource_arns, event_id, raw
FROM events FINAL
WHERE event_id IN (
    SELECT arrayJoin(evidence_ids) FROM detections FINAL WHERE id = {detection_id:String}
)
ORDER BY event_time;
