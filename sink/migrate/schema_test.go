package migrate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trailwatch/trailwatch/schemas"
)

// These tests check the behaviour the schema promises the sink and the
// analysts (idempotent writes, views), on the real engine. The row
// builders below are test helpers; the sink has its own writer.

// eventColumns are the events columns a writer fills, in eventRow's order
// (inserted_at takes its default).
var eventColumns = []string{
	"event_id", "source", "event_time", "account_id", "region",
	"event_source", "event_name", "event_version", "event_type", "event_category",
	"read_only", "error_code", "error_message", "request_id",
	"principal_type", "principal", "principal_id", "access_key_id", "session_issuer", "user_name", "mfa",
	"source_ip", "user_agent", "resource_arns", "resource_types", "resource_account_ids",
	"flow_version", "flow_interface_id", "flow_src_addr", "flow_dst_addr", "flow_src_port", "flow_dst_port",
	"flow_protocol", "flow_packets", "flow_bytes", "flow_start", "flow_end", "flow_action", "flow_log_status",
	"flow_vpc_id", "flow_subnet_id", "flow_instance_id", "flow_tcp_flags", "flow_type",
	"flow_pkt_src_addr", "flow_pkt_dst_addr", "flow_region", "flow_az_id", "flow_sublocation_type",
	"flow_sublocation_id", "flow_pkt_src_aws_service", "flow_pkt_dst_aws_service", "flow_direction",
	"flow_traffic_path", "flow_ecs_cluster_arn", "flow_ecs_cluster_name", "flow_ecs_container_instance_arn",
	"flow_ecs_container_instance_id", "flow_ecs_container_id", "flow_ecs_second_container_id",
	"flow_ecs_service_name", "flow_ecs_task_definition_arn", "flow_ecs_task_arn", "flow_ecs_task_id",
	"flow_reject_reason",
	"account_name", "actor_arn", "session_name", "source_identity",
	"geo_country", "geo_city", "geo_latitude", "geo_longitude", "geo_asn", "geo_as_org",
	"dst_geo_country", "dst_geo_city", "dst_geo_latitude", "dst_geo_longitude", "dst_geo_asn", "dst_geo_as_org",
	"object_bucket", "object_key", "object_index", "ingest_time", "raw",
}

func tristate(v schemas.Tristate) *bool {
	switch v {
	case schemas.True:
		b := true
		return &b
	case schemas.False:
		b := false
		return &b
	}
	return nil
}

// eventRow returns e's values in eventColumns order.
func eventRow(e *schemas.Event) []any {
	arns := make([]string, len(e.Resources))
	types := make([]string, len(e.Resources))
	accts := make([]string, len(e.Resources))
	for i, r := range e.Resources {
		arns[i], types[i], accts[i] = r.ARN, r.Type, r.AccountID
	}
	f := e.Flow
	if f == nil {
		f = &schemas.Flow{}
	}
	var srcPort, dstPort *uint16
	if f.HasPorts {
		srcPort, dstPort = &f.SrcPort, &f.DstPort
	}
	var proto *uint8
	if f.HasProtocol {
		proto = &f.Protocol
	}
	en := e.Enrichment
	if en == nil {
		en = &schemas.Enrichment{}
	}
	return []any{
		e.ID, e.Source.String(), e.Time, e.AccountID, e.Region,
		e.EventSource, e.EventName, e.EventVersion, e.EventType, e.EventCategory,
		tristate(e.ReadOnly), e.ErrorCode, e.ErrorMessage, e.RequestID,
		e.PrincipalType, e.Principal, e.PrincipalID, e.AccessKeyID, e.SessionIssuer, e.UserName, tristate(e.MFA),
		e.SourceIP, e.UserAgent, arns, types, accts,
		f.Version, f.InterfaceID, f.SrcAddr, f.DstAddr, srcPort, dstPort,
		proto, f.Packets, f.Bytes, f.Start, f.End, f.Action, f.LogStatus,
		f.VpcID, f.SubnetID, f.InstanceID, f.TCPFlags, f.Type,
		f.PktSrcAddr, f.PktDstAddr, f.Region, f.AZID, f.SublocationType,
		f.SublocationID, f.PktSrcAWSService, f.PktDstAWSService, f.FlowDirection,
		f.TrafficPath, f.ECSClusterARN, f.ECSClusterName, f.ECSContainerInstanceARN,
		f.ECSContainerInstanceID, f.ECSContainerID, f.ECSSecondContainerID,
		f.ECSServiceName, f.ECSTaskDefinitionARN, f.ECSTaskARN, f.ECSTaskID,
		f.RejectReason,
		en.AccountName, en.ActorARN, en.SessionName, en.SourceIdentity,
		en.Geo.CountryCode, en.Geo.City, float32(en.Geo.Latitude), float32(en.Geo.Longitude), en.Geo.ASN, en.Geo.ASOrg,
		en.DstGeo.CountryCode, en.DstGeo.City, float32(en.DstGeo.Latitude), float32(en.DstGeo.Longitude), en.DstGeo.ASN, en.DstGeo.ASOrg,
		e.Object.Bucket, e.Object.Key, e.Object.Index, e.IngestTime, string(e.Raw),
	}
}

func insertEvents(ctx context.Context, conn driver.Conn, events []schemas.Event) error {
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(schemas.ClickHouseInsertSettings))
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO events ("+strings.Join(eventColumns, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare events batch: %w", err)
	}
	for i := range events {
		if err := batch.Append(eventRow(&events[i])...); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("append event %s: %w", events[i].ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("send events batch: %w", err)
	}
	return nil
}

var baseTime = time.Date(2026, 7, 14, 9, 30, 0, 0, time.UTC)

// cloudTrailEvent returns a realistic enriched CloudTrail event.
func cloudTrailEvent(i int) schemas.Event {
	id := fmt.Sprintf("3f5c0e4a-0000-4000-8000-%012d", i)
	return schemas.Event{
		ID: id, Source: schemas.SourceCloudTrail, Time: baseTime.Add(time.Duration(i) * time.Second),
		AccountID: "111122223333", Region: "eu-west-1",
		EventSource: "s3.amazonaws.com", EventName: []string{"GetObject", "PutObject", "DeleteObject", "ListBuckets"}[i%4],
		EventVersion: "1.09", EventType: "AwsApiCall", EventCategory: "Data",
		PrincipalType: "AssumedRole", Principal: fmt.Sprintf("arn:aws:sts::111122223333:assumed-role/app-%d/i-0abc", i%50),
		PrincipalID: "AROAEXAMPLE:i-0abc", AccessKeyID: "ASIAEXAMPLE", SessionIssuer: "arn:aws:iam::111122223333:role/app",
		UserName: "app", MFA: schemas.False,
		SourceIP: fmt.Sprintf("198.51.100.%d", i%250), UserAgent: "aws-sdk-go-v2/1.30.0",
		ReadOnly: schemas.TristateOf(i%4 == 0 || i%4 == 3), RequestID: fmt.Sprintf("REQ%08d", i),
		Resources:  []schemas.Resource{{ARN: "arn:aws:s3:::bucket-a/key", Type: "AWS::S3::Object", AccountID: "111122223333"}},
		Object:     schemas.ObjectRef{Bucket: "org-trail", Key: "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/07/14/x.json.gz", Index: uint32(i)},
		IngestTime: baseTime.Add(6 * time.Minute),
		Raw:        []byte(`{"eventVersion":"1.09","eventID":"` + id + `","eventName":"GetObject","requestParameters":{"bucketName":"bucket-a"}}`),
		Enrichment: &schemas.Enrichment{
			AccountName: "prod", ActorARN: "arn:aws:iam::111122223333:role/app",
			Geo: schemas.Geo{CountryCode: "NL", City: "Amsterdam", Latitude: 52.37, Longitude: 4.89, ASN: 64500, ASOrg: "Example Net"},
		},
	}
}

// flowEvent returns a VPC flow record event.
func flowEvent(i int) schemas.Event {
	return schemas.Event{
		ID: fmt.Sprintf("flow-%016x", i), Source: schemas.SourceVPCFlow, Time: baseTime,
		AccountID: "111122223333", Region: "eu-west-1", EventSource: "vpcflow", EventName: "REJECT",
		SourceIP: "203.0.113.9",
		Flow: &schemas.Flow{Version: 5, InterfaceID: "eni-0abc", SrcAddr: "203.0.113.9", DstAddr: "10.0.1.5",
			SrcPort: 0, DstPort: 22, Protocol: 6, Packets: 3, Bytes: 180, Start: baseTime, End: baseTime.Add(time.Minute),
			Action: "REJECT", LogStatus: "OK", VpcID: "vpc-1", FlowDirection: "ingress", HasPorts: true, HasProtocol: true},
		Object: schemas.ObjectRef{Bucket: "flow-logs", Key: "AWSLogs/111122223333/vpcflowlogs/eu-west-1/x.log.gz", Index: uint32(i)},
		Raw:    []byte("5 111122223333 eni-0abc 203.0.113.9 10.0.1.5 0 22 6 3 180 1784021400 1784021460 REJECT OK"),
	}
}

func count(t testing.TB, conn driver.Conn, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// migratedDB returns a fresh database with the whole schema.
func migratedDB(t testing.TB, protocol string) (testDB, driver.Conn) {
	t.Helper()
	db := newTestDB(t, protocol)
	if _, err := db.migrator(mustMigrations(t), "test").Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, db.conn(t)
}

// TestEventsIdempotent writes the same events twice, as a replay would,
// and expects one row per event_id after FINAL and after a merge.
func TestEventsIdempotent(t *testing.T) {
	for _, protocol := range []string{"native", "http"} {
		t.Run(protocol, func(t *testing.T) {
			ctx := context.Background()
			_, conn := migratedDB(t, protocol)
			events := []schemas.Event{cloudTrailEvent(1), cloudTrailEvent(2), flowEvent(1)}
			// Twice in separate batches, and once more inside one batch
			// (inserts skip the in-block merge; see ClickHouseInsertSettings).
			for _, batch := range [][]schemas.Event{events, events, {events[0], events[0]}} {
				if err := insertEvents(ctx, conn, batch); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, conn, "SELECT count() FROM events FINAL"); n != 3 {
				t.Errorf("events FINAL: %d rows, want 3", n)
			}
			if n := count(t, conn, "SELECT count() FROM events FINAL WHERE event_id = ?", events[0].ID); n != 1 {
				t.Errorf("event %s: %d rows after FINAL, want 1", events[0].ID, n)
			}
			if err := conn.Exec(ctx, "OPTIMIZE TABLE events FINAL"); err != nil {
				t.Fatal(err)
			}
			if n := count(t, conn, "SELECT count() FROM events"); n != 3 {
				t.Errorf("events after merge: %d rows, want 3", n)
			}

			// The round trip keeps the typed values the views rely on.
			var (
				readOnly *bool
				mfa      *bool
				src      string
				country  string
				raw      string
			)
			if err := conn.QueryRow(ctx, "SELECT read_only, mfa, toString(source), geo_country, raw FROM events WHERE event_id = ?", events[0].ID).
				Scan(&readOnly, &mfa, &src, &country, &raw); err != nil {
				t.Fatal(err)
			}
			if readOnly == nil || *readOnly || mfa == nil || *mfa || src != "cloudtrail" || country != "NL" || raw != string(events[0].Raw) {
				t.Errorf("read back read_only=%v mfa=%v source=%s country=%s raw=%q", readOnly, mfa, src, country, raw)
			}
			var port *uint16
			if err := conn.QueryRow(ctx, "SELECT src_port FROM vpc_flows").Scan(&port); err != nil || port == nil || *port != 0 {
				t.Errorf("vpc_flows src_port: %v, %v (want 0, not NULL)", port, err)
			}
			if n := count(t, conn, "SELECT count() FROM cloudtrail"); n != 2 {
				t.Errorf("cloudtrail view: %d rows, want 2", n)
			}
		})
	}
}

// TestDetectionsIdempotent: a detection written again (a replay, or with
// more evidence) stays one row, the newest.
func TestDetectionsIdempotent(t *testing.T) {
	ctx := context.Background()
	_, conn := migratedDB(t, "native")
	events := []schemas.Event{cloudTrailEvent(1), cloudTrailEvent(2)}
	if err := insertEvents(ctx, conn, events); err != nil {
		t.Fatal(err)
	}
	id := schemas.DetectionID("s3-mass-delete", "arn:x", baseTime)
	insert := func(evidence []string, detected time.Time) {
		t.Helper()
		b, err := conn.PrepareBatch(ctx, "INSERT INTO detections (id, rule_id, title, severity, techniques, principal, ip, account_id, "+
			"first_event_time, last_event_time, evidence_ids, dedup_key, summary, fields, detected_time)")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(id, "s3-mass-delete", "Mass S3 deletion", schemas.SeverityHigh.String(), []string{"T1485"},
			"arn:x", "198.51.100.1", "111122223333", baseTime, baseTime.Add(time.Minute), evidence, "arn:x",
			"arn:x deleted many objects", map[string]string{"count": "2"}, detected); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert([]string{events[0].ID}, baseTime.Add(2*time.Minute))
	insert([]string{events[0].ID, events[1].ID}, baseTime.Add(3*time.Minute))
	if n := count(t, conn, "SELECT count() FROM detections FINAL"); n != 1 {
		t.Errorf("detections FINAL: %d rows, want 1", n)
	}
	if n := count(t, conn, "SELECT count() FROM detection_evidence(detection_id = ?)", id); n != 2 {
		t.Errorf("detection_evidence: %d rows, want the 2 of the newest write", n)
	}
	if n := count(t, conn, "SELECT count() FROM detections FINAL WHERE severity >= 'high'"); n != 1 {
		t.Errorf("severity comparison: %d rows, want 1", n)
	}
}

// TestSourceHeartbeatsKeepNewest: heartbeats written out of order never
// move a source back in time.
func TestSourceHeartbeatsKeepNewest(t *testing.T) {
	ctx := context.Background()
	_, conn := migratedDB(t, "native")
	for _, ts := range []time.Time{baseTime.Add(10 * time.Minute), baseTime, baseTime.Add(5 * time.Minute)} {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO source_heartbeats (account_id, region, kind, last_delivery, last_bucket, last_object_key)")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append("111122223333", "eu-west-1", string(schemas.ObjectCloudTrail), ts, "org-trail", ts.Format(time.RFC3339)); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	var (
		last   time.Time
		silent bool
	)
	if err := conn.QueryRow(ctx, "SELECT last_delivery, silent FROM source_status").Scan(&last, &silent); err != nil {
		t.Fatal(err)
	}
	if !last.Equal(baseTime.Add(10*time.Minute)) || !silent {
		t.Errorf("source_status: last_delivery %s silent %v, want %s and silent (it is long past)", last, silent, baseTime.Add(10*time.Minute))
	}
}

// BenchmarkInsertEvents measures batch inserts of enriched CloudTrail
// events into the events table over the native protocol.
func BenchmarkInsertEvents(b *testing.B) {
	const batchSize = 50_000
	ctx := context.Background()
	_, conn := migratedDB(b, "native")
	events := make([]schemas.Event, batchSize)
	for i := range events {
		events[i] = cloudTrailEvent(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := insertEvents(ctx, conn, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "rows/s")
}
