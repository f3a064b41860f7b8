package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/internal/awscfg"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas"
)

var bucketSeq atomic.Int64

func testLogger() *slog.Logger {
	if os.Getenv("TRAILWATCH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testGetter returns the lean S3 Getter for the local MinIO, the client
// ingest uses by default.
func testGetter(t *testing.T, conns int) ObjectGetter {
	t.Helper()
	m := testenv.MinIO(t)
	cfg := awscfg.DefaultConfig()
	cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.SecretAccessKey = m.Endpoint, m.Region, m.AccessKey, m.SecretKey
	g, err := cfg.Getter(context.Background(), conns)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// testS3 returns a client for the local MinIO and a fresh bucket that is
// emptied and removed when the test ends.
func testS3(t *testing.T) (*s3.Client, string) {
	t.Helper()
	m := testenv.MinIO(t)
	cfg := awscfg.DefaultConfig()
	cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.SecretAccessKey = m.Endpoint, m.Region, m.AccessKey, m.SecretKey
	ctx := context.Background()
	cl, err := cfg.S3(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("tw-ingest-test-%d-%d", time.Now().UnixNano()%1e9, bucketSeq.Add(1))
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	t.Cleanup(func() {
		p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				break
			}
			for _, o := range page.Contents {
				_, _ = cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			}
		}
		_, _ = cl.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	return cl, bucket
}

func putObject(t testing.TB, cl *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	_, err := cl.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testBroker starts an in-process Kafka-protocol broker with every
// pipeline topic created.
func testBroker(t testing.TB, partitions int32) (kafka.Config, schemas.TopicNames) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = c.ListenAddrs()
	tcfg := kafka.DefaultTopicsConfig()
	tcfg.Partitions = partitions
	cl, err := kafka.NewClient(kcfg, "setup", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kafka.EnsureTopics(context.Background(), kadm.NewClient(cl), tcfg, testLogger()); err != nil {
		t.Fatal(err)
	}
	return kcfg, tcfg.Names()
}

// announce produces objects-topic records.
func announce(t testing.TB, kcfg kafka.Config, topics schemas.TopicNames, values ...[]byte) {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, "announce", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, v := range values {
		r := &kgo.Record{Topic: topics.Name(schemas.TopicObjects), Key: []byte(fmt.Sprint(i)), Value: v}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func objectJSON(bucket, key string) []byte {
	b, _ := json.Marshal(schemas.Object{V: schemas.ObjectVersion, Bucket: bucket, Key: key})
	return b
}

// readCommitted reads every committed record of topic, as a read_committed
// consumer sees them: up to each partition's last stable offset, so an open
// transaction (a killed worker's) neither shows nor blocks the read.
func readCommitted(t testing.TB, kcfg kafka.Config, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kafka.NewClient(kcfg, "verify", nil, nil,
		kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	stable, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	stable.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	// Aborted transactions and markers take offsets that are never
	// delivered, so "done" is: every partition reached its last stable
	// offset, or nothing new arrived for a while.
	const quiet = 1500 * time.Millisecond
	lastRecord := time.Now()
	for len(want) > 0 && time.Since(lastRecord) < quiet {
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		f := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			t.Fatalf("reading %s: timed out with partitions %v unread", topic, want)
		}
		f.EachRecord(func(r *kgo.Record) {
			lastRecord = time.Now()
			out = append(out, r)
			// The last offset before the stable one may be a transaction
			// marker, which is never delivered: idle polls end those.
			if end, ok := want[r.Partition]; ok && r.Offset >= end-1 {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// runUntil runs w until cond holds over the ingested topic, then stops it.
func runUntil(t testing.TB, w *Worker, kcfg kafka.Config, topics schemas.TopicNames, wantObjects int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n := countCommitted(t, kcfg, topics.Name(schemas.TopicIngested)); n >= wantObjects {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("worker did not finish %d objects in time", wantObjects)
		}
		select {
		case err := <-errc:
			t.Fatalf("worker stopped early: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// countCommitted counts the committed records of a compacted-or-not topic
// quickly, from the last stable offsets.
func countCommitted(t testing.TB, kcfg kafka.Config, topic string) int {
	return len(readCommitted(t, kcfg, topic))
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.TransactionalID = "ingest-test"
	cfg.Limits.MinRatioBytes = 1 << 20
	cfg.Concurrency = 4
	return cfg
}

func TestWorkerEndToEnd(t *testing.T) {
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 3)

	const ctKey = "AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1015Z_abcdefghijklmnop.json.gz"
	ctPath := func(name string) string {
		return strings.Replace(ctKey, "abcdefghijklmnop", name, 1)
	}
	flowKey := "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/02/111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260302T1015Z_0a1b2c3d.log.gz"
	flow := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 111122223333 eni-0a1b2c3d4e5f60718 203.0.113.12 10.0.1.5 44321 443 6 10 5000 1772446500 1772446560 ACCEPT OK\n" +
		"2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.3 10.0.1.5 51515 22 6 1 60 1772446500 1772446560 REJECT OK\n" +
		"2 111122223333 eni-0a1b2c3d4e5f60718 - - - - - - - 1772446500 1772446560 - NODATA\n"
	delivery := mustRead(t, "testdata/cloudtrail/delivery.json")
	bomb := gz([]byte(`{"Records":[{"eventID":"x","pad":"` + strings.Repeat("a", 64<<20) + `"}]}`))
	corrupt := gz(delivery)
	corrupt[len(corrupt)/2] ^= 0xff
	corrupt[len(corrupt)/2+1] ^= 0xff

	objects := []struct {
		key, result string
		body        []byte // nil: not uploaded (announced but missing)
		events      int64
	}{
		{ctPath("good0000delivery"), "ok", gz(delivery), 4},
		{ctPath("plain000delivery"), "ok", delivery, 4},
		{ctPath("badrecords000000"), "ok", gz(mustRead(t, "testdata/cloudtrail/bad_records.json")), 2},
		{ctPath("ndjson0000000000"), "ok", gz(mustRead(t, "testdata/cloudtrail/ndjson.jsonl")), 4},
		{flowKey, "ok", gz([]byte(flow)), 3},
		{ctPath("truncatedgzip000"), ReasonGzipCorrupt, gz(delivery)[:200], -1},
		{ctPath("corruptgzip00000"), ReasonGzipCorrupt, corrupt, -1},
		{ctPath("bomb000000000000"), ReasonDecompressionLimit, bomb, 0},
		{ctPath("notjson000000000"), ReasonNotJSON, gz([]byte("hello, world")), 0},
		{ctPath("empty00000000000"), ReasonEmptyObject, []byte{}, 0},
		{strings.Replace(flowKey, "0a1b2c3d", "noheader", 1), ReasonFlowNoHeader, gz([]byte("2 111122223333 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK\n")), 0},
		{ctPath("deletedbeforeread"), ReasonObjectMissing, nil, 0},
		{"some/other/file.txt", ReasonUnknownKind, []byte("x"), 0},
		{"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/02/111122223333_CloudTrail-Digest_eu-west-1_trail_us-east-1_20260302T1015Z.json.gz", "digest", []byte("{}"), 0},
	}
	var announcements [][]byte
	for _, o := range objects {
		if o.body != nil {
			putObject(t, s3c, bucket, o.key, o.body)
		}
		announcements = append(announcements, objectJSON(bucket, o.key))
	}
	// An S3 event notification (as MinIO or SQS would carry it) for the
	// first object again, and an announcement that is not one.
	announcements = append(announcements, []byte("this is not an announcement"))

	reg := prometheus.NewRegistry()
	w, err := New(testConfig(), kcfg, topics, s3c, testLogger(), reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Ready(context.Background()); err == nil {
		t.Error("Ready before Run = nil, want not running")
	}
	announce(t, kcfg, topics, announcements...)
	readyDuringRun := make(chan error, 1)
	go func() {
		for deadline := time.Now().Add(30 * time.Second); w.sess.Load() == nil; {
			if time.Now().After(deadline) {
				readyDuringRun <- errors.New("the worker never started its session")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		readyDuringRun <- w.Ready(context.Background())
	}()
	runUntil(t, w, kcfg, topics, len(objects))
	if err := <-readyDuringRun; err != nil {
		t.Errorf("Ready while running: %v", err)
	}

	// Every object is accounted for, with its result.
	done := map[string]schemas.Ingested{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicIngested)) {
		var in schemas.Ingested
		if err := json.Unmarshal(r.Value, &in); err != nil {
			t.Fatal(err)
		}
		done[in.Key] = in
	}
	var wantEvents int64
	for _, o := range objects {
		got, ok := done[o.key]
		if !ok {
			t.Errorf("%s: not ingested", o.key)
			continue
		}
		if got.Result != o.result {
			t.Errorf("%s: result %q, want %q", o.key, got.Result, o.result)
		}
		if o.events >= 0 && got.Events != o.events {
			t.Errorf("%s: %d events, want %d", o.key, got.Events, o.events)
		}
		wantEvents += got.Events
	}

	// The events topic holds exactly the events the objects reported,
	// each decodable, keyed by principal or source address.
	events := readCommitted(t, kcfg, topics.Name(schemas.TopicEvents))
	if int64(len(events)) != wantEvents {
		t.Errorf("events topic has %d events, objects reported %d", len(events), wantEvents)
	}
	ids := map[string]int{}
	for _, r := range events {
		var ev schemas.Event
		if err := schemas.UnmarshalEvent(r.Value, &ev); err != nil {
			t.Fatalf("decode event: %v", err)
		}
		if !bytes.Equal(r.Key, schemas.PartitionKey(&ev)) {
			t.Errorf("event %s keyed %q, want %q", ev.ID, r.Key, schemas.PartitionKey(&ev))
		}
		if ev.Object.Bucket != bucket || ev.IngestTime.IsZero() || len(ev.Raw) == 0 {
			t.Errorf("event %s: object %+v ingest %v raw %d bytes", ev.ID, ev.Object, ev.IngestTime, len(ev.Raw))
		}
		ids[ev.ID]++
	}
	// Event ...001 is in the gzip and plain deliveries, bad_records and
	// ndjson, and in the damaged copies when they got past their first
	// record before the damage.
	want001 := 4
	for _, name := range []string{"truncatedgzip000", "corruptgzip00000"} {
		want001 += int(min(1, done[ctPath(name)].Events))
	}
	if ids["0e1a2b3c-0000-4000-8000-000000000001"] != want001 {
		t.Errorf("event ...001 seen %d times, want %d", ids["0e1a2b3c-0000-4000-8000-000000000001"], want001)
	}

	// Dead letters name the object and the reason.
	reasons := map[string]int{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicDLQ)) {
		var d schemas.DeadLetter
		if err := json.Unmarshal(r.Value, &d); err != nil {
			t.Fatal(err)
		}
		if d.Stage != "ingest" || d.Error == "" || (d.Reason != ReasonBadAnnouncement && d.Key == "") {
			t.Errorf("incomplete dead letter: %+v", d)
		}
		if strings.Contains(d.Key, "corruptgzip") && d.Index >= 0 {
			// Damaged deflate data may decode into a garbled record
			// before the checksum fails at the end of the object.
			continue
		}
		reasons[d.Reason]++
		if os.Getenv("TRAILWATCH_TEST_LOG") != "" {
			t.Logf("dead letter: %s %s %d %s", d.Reason, d.Key, d.Index, d.Error)
		}
	}
	for reason, want := range map[string]int{
		ReasonGzipCorrupt: 2, ReasonDecompressionLimit: 1, ReasonNotJSON: 3 + 1, ReasonEmptyObject: 1,
		ReasonFlowNoHeader: 1, ReasonObjectMissing: 1, ReasonUnknownKind: 1, ReasonBadAnnouncement: 1,
		ReasonNotCloudTrail: 1, ReasonTooDeep: 1,
	} {
		if reasons[reason] != want {
			t.Errorf("dead letters with reason %s: %d, want %d (all: %v)", reason, reasons[reason], want, reasons)
		}
	}

	// Digests go to their own topic; sources report the deliveries.
	if n := len(readCommitted(t, kcfg, topics.Name(schemas.TopicDigests))); n != 1 {
		t.Errorf("digests topic has %d records, want 1", n)
	}
	sources := map[string]schemas.SourceHeartbeat{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicSources)) {
		var hb schemas.SourceHeartbeat
		_ = json.Unmarshal(r.Value, &hb)
		sources[string(r.Key)] = hb
	}
	ct := sources["111122223333/eu-west-1/cloudtrail"]
	if ct.LastDelivery != time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC) || ct.Objects == 0 {
		t.Errorf("cloudtrail heartbeat = %+v", ct)
	}
	if _, ok := sources["111122223333/eu-west-1/vpcflow"]; !ok {
		t.Errorf("no vpcflow heartbeat in %v", sources)
	}
	var m dto.Metric
	if err := w.metrics.deadLetters.WithLabelValues(ReasonObjectMissing).Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		t.Errorf("object_missing dead-letter metric = %v (%v)", m.GetCounter().GetValue(), err)
	}
}

// TestWorkerAccessDenied reads with credentials MinIO rejects: the object
// goes to the dead-letter topic as access_denied instead of being retried
// forever.
func TestWorkerAccessDenied(t *testing.T) {
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 1)
	key := "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T1015Z_deniedaaaaaaaaaa.json.gz"
	putObject(t, s3c, bucket, key, gz(mustRead(t, "testdata/cloudtrail/delivery.json")))

	m := testenv.MinIO(t)
	bad := awscfg.DefaultConfig()
	bad.Endpoint, bad.AccessKeyID, bad.SecretAccessKey, bad.MaxAttempts = m.Endpoint, m.AccessKey, "wrong-secret", 1
	denied, err := bad.S3(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(testConfig(), kcfg, topics, denied, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	announce(t, kcfg, topics, objectJSON(bucket, key))
	runUntil(t, w, kcfg, topics, 1)
	dl := readCommitted(t, kcfg, topics.Name(schemas.TopicDLQ))
	if len(dl) != 1 || !bytes.Contains(dl[0].Value, []byte(`"reason":"access_denied"`)) {
		t.Fatalf("dead letters = %d, want one access_denied", len(dl))
	}
}
