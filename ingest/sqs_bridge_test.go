package ingest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/trailwatch/trailwatch/internal/configtest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/sqsfake"
	"github.com/trailwatch/trailwatch/schemas"
)

// startBridge runs a bridge until the test ends (or stop is called) and
// waits until it watches the ingested topic.
func startBridge(t *testing.T, cfg Config, kcfg kafka.Config, topics schemas.TopicNames) (b *SQSBridge, stop func()) {
	t.Helper()
	b, err := NewSQSBridge(cfg, kcfg, topics, testLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	select {
	case <-b.ready:
	case err := <-errc:
		cancel()
		t.Fatalf("bridge Run: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("bridge not ready in time")
	}
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("bridge Run: %v", err)
		}
	})
	t.Cleanup(stop)
	return b, stop
}

// marker is an ingested-topic record a test writes in a worker's place.
type marker struct {
	key, etag, result string
	// abort writes it in a transaction that is then aborted.
	abort bool
	// tombstone writes a nil value.
	tombstone bool
}

// writeMarkers produces ms to the ingested topic, acknowledged.
func writeMarkers(t *testing.T, kcfg kafka.Config, topics schemas.TopicNames, ms ...marker) {
	t.Helper()
	ctx := t.Context()
	for _, m := range ms {
		var opts []kgo.Opt
		if m.abort {
			opts = append(opts, kgo.TransactionalID("test-aborted-marker"))
		}
		cl, err := kafka.NewClient(kcfg, "markers", nil, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		bucket, key, _ := strings.Cut(m.key, "/")
		r := &kgo.Record{Topic: topics.Name(schemas.TopicIngested), Key: []byte(m.key)}
		if !m.tombstone {
			r.Value, _ = json.Marshal(&schemas.Ingested{V: 1, Bucket: bucket, Key: key, ETag: m.etag, Result: m.result, Time: time.Now().UTC()})
		}
		if m.abort {
			if err := cl.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("write marker: %v", err)
		}
		if m.abort {
			if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
				t.Fatalf("abort marker: %v", err)
			}
		}
		cl.Close()
	}
}

// waitDone waits for a done channel's value.
func waitDone(t *testing.T, done <-chan error, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		t.Fatalf("done did not resolve within %v", timeout)
		return nil
	}
}

// resolved reports whether done has resolved, and with what.
func resolved(done <-chan error) (bool, error) {
	select {
	case err := <-done:
		return true, err
	default:
		return false, nil
	}
}

func bridgeObject(bucket, key, etag string) schemas.Object {
	return schemas.Object{V: schemas.ObjectVersion, Bucket: bucket, Key: key, Size: 10, ETag: etag, Kind: schemas.ObjectCloudTrail, Via: viaSQS}
}

// TestSQSBridgeMarkers checks which ingested markers finish a message:
// only committed ones written after its objects were published, for the
// same object (and version, when both name one), whatever their result.
func TestSQSBridgeMarkers(t *testing.T) {
	const key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/x.json.gz"
	obj := "logs/" + key
	tests := []struct {
		name string
		// beforeStart are written before the bridge starts, beforePublish
		// after it started and before the objects are published,
		// afterPublish once they are.
		beforeStart, beforePublish, afterPublish []marker
		wantDone                                 bool
	}{
		{name: "ok marker after the publish", afterPublish: []marker{{key: obj, etag: "e1", result: "ok"}}, wantDone: true},
		{name: "dead-letter marker after the publish", afterPublish: []marker{{key: obj, etag: "e1", result: ReasonGzipCorrupt}}, wantDone: true},
		{name: "digest marker", afterPublish: []marker{{key: obj, etag: "e1", result: "digest"}}, wantDone: true},
		{name: "marker without etag", afterPublish: []marker{{key: obj, result: "ok"}}, wantDone: true},
		{name: "old marker before the bridge started", beforeStart: []marker{{key: obj, etag: "e1", result: "ok"}}},
		{name: "old marker before the publish", beforePublish: []marker{{key: obj, etag: "e1", result: "ok"}}},
		{name: "another version", afterPublish: []marker{{key: obj, etag: "e2", result: "ok"}}},
		{name: "another object", afterPublish: []marker{{key: obj + "2", etag: "e1", result: "ok"}}},
		{name: "aborted marker", afterPublish: []marker{{key: obj, etag: "e1", result: "ok", abort: true}}},
		{name: "tombstone", afterPublish: []marker{{key: obj, tombstone: true}}},
		{name: "old marker then a new one", beforePublish: []marker{{key: obj, etag: "e1", result: "ok"}},
			afterPublish: []marker{{key: obj, etag: "e1", result: "ok"}}, wantDone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One partition: markers are read in the order written, so
			// once the probe's marker is seen, so were the case's.
			kcfg, topics := testBroker(t, 1)
			writeMarkers(t, kcfg, topics, tc.beforeStart...)
			cfg := testConfig()
			b, _ := startBridge(t, cfg, kcfg, topics)
			// Hold the watcher back, so that it reads the markers
			// written before the publish only after the objects wait:
			// the listed offsets alone must keep such markers out.
			ingested := topics.Name(schemas.TopicIngested)
			b.watch.PauseFetchTopics(ingested)
			writeMarkers(t, kcfg, topics, tc.beforePublish...)

			ctx := t.Context()
			done := b.HandleObjects(ctx, "msg-1", []schemas.Object{bridgeObject("logs", key, "e1")})
			probe := b.HandleObjects(ctx, "probe", []schemas.Object{bridgeObject("logs", "probe", "")})
			b.watch.ResumeFetchTopics(ingested)
			writeMarkers(t, kcfg, topics, tc.afterPublish...)
			writeMarkers(t, kcfg, topics, marker{key: "logs/probe", result: "ok"})
			if err := waitDone(t, probe, 10*time.Second); err != nil {
				t.Fatalf("probe: %v", err)
			}
			got, err := resolved(done)
			if got != tc.wantDone || err != nil {
				t.Fatalf("resolved = %v (err %v), want %v", got, err, tc.wantDone)
			}

			// The announcement is on the objects topic, keyed and intact.
			recs := readCommitted(t, kcfg, topics.Name(schemas.TopicObjects))
			if len(recs) != 2 {
				t.Fatalf("objects topic has %d records, want 2", len(recs))
			}
			var o schemas.Object
			if err := json.Unmarshal(recs[0].Value, &o); err != nil {
				t.Fatal(err)
			}
			if want := bridgeObject("logs", key, "e1"); o != want || string(recs[0].Key) != obj {
				t.Errorf("published %q %+v, want %q %+v", recs[0].Key, o, obj, want)
			}
		})
	}
}

// TestSQSBridgeMessageResults checks the message-level outcomes: every
// object of a message must be finished, MaxInFlight bounds the messages
// waited for, and stopping the bridge fails what is still waiting.
func TestSQSBridgeMessageResults(t *testing.T) {
	kcfg, topics := testBroker(t, 2)
	cfg := testConfig()
	cfg.SQS.MaxInFlight = 2
	b, stop := startBridge(t, cfg, kcfg, topics)
	ctx := t.Context()

	// Two objects: both markers are needed.
	both := b.HandleObjects(ctx, "two", []schemas.Object{bridgeObject("b", "k1", ""), bridgeObject("b", "k2", "")})
	stuck := b.HandleObjects(ctx, "stuck", []schemas.Object{bridgeObject("b", "never", "")})
	// A third message waits for a slot: HandleObjects blocks.
	third := make(chan (<-chan error), 1)
	go func() { third <- b.HandleObjects(ctx, "third", []schemas.Object{bridgeObject("b", "k3", "")}) }()
	writeMarkers(t, kcfg, topics, marker{key: "b/k1", result: "ok"})
	select {
	case <-third:
		t.Fatal("a third message was taken with MaxInFlight 2 in flight")
	case <-time.After(300 * time.Millisecond):
	}
	if ok, _ := resolved(both); ok {
		t.Fatal("message done with one of two objects ingested")
	}
	writeMarkers(t, kcfg, topics, marker{key: "b/k2", result: ReasonObjectMissing})
	if err := waitDone(t, both, 10*time.Second); err != nil {
		t.Fatalf("two objects: %v", err)
	}
	var thirdDone <-chan error
	select {
	case thirdDone = <-third:
	case <-time.After(10 * time.Second):
		t.Fatal("the third message did not get the freed slot")
	}
	stop()
	for name, done := range map[string]<-chan error{"stuck": stuck, "third": thirdDone} {
		if err := waitDone(t, done, 10*time.Second); err != errBridgeStopped {
			t.Errorf("%s at stop: %v, want %v", name, err, errBridgeStopped)
		}
	}
	if err := waitDone(t, b.HandleObjects(ctx, "late", []schemas.Object{bridgeObject("b", "k4", "")}), time.Second); err != errBridgeStopped {
		t.Errorf("after stop: %v, want %v", err, errBridgeStopped)
	}
	for result, want := range map[string]float64{bridgeIngested: 1, bridgeDeadLettered: 1, bridgeAbandoned: 2, bridgeFailed: 0} {
		if got := metricValue(b.metrics.objects.WithLabelValues(result)); got != want {
			t.Errorf("objects %s = %v, want %v", result, got, want)
		}
	}
	if got := metricValue(b.metrics.pending); got != 0 {
		t.Errorf("pending gauge = %v after stop, want 0", got)
	}
}

// TestSQSBridgeDoneTimeout checks that a message whose objects never get
// a marker fails after DoneTimeout, so that SQS delivers it again.
func TestSQSBridgeDoneTimeout(t *testing.T) {
	kcfg, topics := testBroker(t, 1)
	cfg := testConfig()
	cfg.SQS.DoneTimeout = 300 * time.Millisecond
	b, _ := startBridge(t, cfg, kcfg, topics)
	start := time.Now()
	err := waitDone(t, b.HandleObjects(t.Context(), "never", []schemas.Object{bridgeObject("b", "never", "")}), 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "not ingested within 300ms") {
		t.Fatalf("done = %v, want a timeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("timed out after %v, want about 300ms", took)
	}
	if got := metricValue(b.metrics.objects.WithLabelValues(bridgeTimedOut)); got != 1 {
		t.Errorf("timed out objects = %v, want 1", got)
	}
}

// s3Notification returns an S3 event notification for one created object,
// as S3 sends it to SQS.
func s3Notification(bucket, key string, size int64, etag string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1",`+
		`"eventTime":"2026-03-02T10:16:03.120Z","eventName":"ObjectCreated:Put",`+
		`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},`+
		`"object":{"key":%q,"size":%d,"eTag":%q,"sequencer":"0055AED6DCD90281E5"}}}]}`, bucket, bucket, key, size, etag)
}

// snsNotification wraps a notification in an SNS envelope.
func snsNotification(message string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": "5b8f1c2e-7d4a-5e9b-8c3f-1a2b3c4d5e6f",
		"TopicArn": "arn:aws:sns:eu-west-1:111122223333:trail-objects", "Subject": "Amazon S3 Notification",
		"Message": message, "Timestamp": "2026-03-02T10:16:03.800Z",
	})
	return string(b)
}

// eventBridgeNotification returns an EventBridge Object Created event.
func eventBridgeNotification(bucket, key string, size int64, etag string) string {
	return fmt.Sprintf(`{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created",`+
		`"source":"aws.s3","account":"111122223333","time":"2026-03-02T10:16:03Z","region":"eu-west-1",`+
		`"resources":["arn:aws:s3:::%s"],"detail":{"version":"0","bucket":{"name":%q},`+
		`"object":{"key":%q,"size":%d,"etag":%q,"sequencer":"617f08299329d189"},"reason":"PutObject"}}`, bucket, bucket, key, size, etag)
}

// deleteCheck records, at every DeleteMessage, how far the ingested topic
// is committed (the sum of its last stable offsets).
type deleteCheck struct {
	SQSClient
	adm   *kadm.Client
	topic string

	mu     sync.Mutex
	stable []int64
}

func (c *deleteCheck) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	var sum int64
	if lso, err := c.adm.ListCommittedOffsets(ctx, c.topic); err == nil {
		lso.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	}
	c.mu.Lock()
	c.stable = append(c.stable, sum)
	c.mu.Unlock()
	return c.SQSClient.DeleteMessage(ctx, in, optFns...)
}

// startPipeline runs SQS discovery through a bridge, and the worker w
// unless nil, under RunWithSQS, until the test ends or shutdown.
func startPipeline(t *testing.T, cfg Config, kcfg kafka.Config, topics schemas.TopicNames, client SQSClient, w *Worker) *running {
	t.Helper()
	b, err := NewSQSBridge(cfg, kcfg, topics, testLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewSQSDiscoverer(cfg.SQS, client, b, b, testLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &running{d: d, stop: stop, errc: make(chan error, 1)}
	go func() { r.errc <- RunWithSQS(ctx, w, d, b) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// waitRecords waits until topic holds at least n committed records.
func waitRecords(t *testing.T, kcfg kafka.Config, topic string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for countCommitted(t, kcfg, topic) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: fewer than %d records within %v", topic, n, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventsByObject counts the committed events per object key and per
// event id.
func eventsByObject(t *testing.T, kcfg kafka.Config, topics schemas.TopicNames) (byKey, byID map[string]int) {
	t.Helper()
	byKey, byID = map[string]int{}, map[string]int{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicEvents)) {
		var ev schemas.Event
		if err := schemas.UnmarshalEvent(r.Value, &ev); err != nil {
			t.Fatalf("decode event: %v", err)
		}
		byKey[ev.Object.Key]++
		byID[ev.ID]++
	}
	return byKey, byID
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// TestSQSBridgeEndToEnd sends each notification shape to a fake SQS
// queue, with real MinIO objects, a Kafka-protocol broker and the real
// worker: the objects are published, the messages stay in flight (their
// visibility extended) while no worker runs, and are deleted only after
// a worker has committed the objects' events and markers.
func TestSQSBridgeEndToEnd(t *testing.T) {
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 2)
	q := newSQSTest(t, time.Second)

	body := gz(mustRead(t, "testdata/cloudtrail/delivery.json"))
	keyOf := func(name string) string {
		return "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1015Z_" + name + ".json.gz"
	}
	size, etag := int64(len(body)), md5Hex(body)
	shapes := []struct{ name, key, msg string }{
		{"s3", keyOf("plains3notifyaaa"), s3Notification(bucket, keyOf("plains3notifyaaa"), size, etag)},
		{"sns", keyOf("snswrappedaaaaaa"), snsNotification(s3Notification(bucket, keyOf("snswrappedaaaaaa"), size, etag))},
		{"eventbridge", keyOf("eventbridgeaaaaa"), eventBridgeNotification(bucket, keyOf("eventbridgeaaaaa"), size, etag)},
	}
	for _, s := range shapes {
		putObject(t, s3c, bucket, s.key, body)
	}

	cfg := testConfig()
	cfg.SQS = testSQSConfig(q.url)
	admc, err := kafka.NewClient(kcfg, "check", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admc.Close()
	check := &deleteCheck{SQSClient: q.client, adm: kadm.NewClient(admc), topic: topics.Name(schemas.TopicIngested)}
	p := startPipeline(t, cfg, kcfg, topics, check, nil)
	for _, s := range shapes {
		q.send(t, s.msg)
	}

	// Published, and held in flight while no worker runs: past twice the
	// visibility timeout, nothing is visible again and nothing deleted.
	waitRecords(t, kcfg, topics.Name(schemas.TopicObjects), len(shapes), 20*time.Second)
	time.Sleep(2500 * time.Millisecond)
	if got := q.counts(t); got != (sqsfake.Counts{InFlight: len(shapes)}) {
		t.Fatalf("without a worker: %+v, want %d messages in flight", got, len(shapes))
	}
	if n := q.srv.Calls("DeleteMessage"); n != 0 {
		t.Fatalf("%d deletes before any object was ingested", n)
	}
	if n := q.srv.Calls("ChangeMessageVisibilityBatch"); n == 0 {
		t.Error("visibility never extended while waiting")
	}

	w, err := New(cfg, kcfg, topics, s3c, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx) }()
	q.waitEmpty(t, 60*time.Second)
	stopWorker()
	if err := <-werr; err != nil {
		t.Fatalf("worker: %v", err)
	}
	p.shutdown(t)

	check.mu.Lock()
	for i, s := range check.stable {
		if s == 0 {
			t.Errorf("delete %d happened with nothing committed on the ingested topic", i)
		}
	}
	if len(check.stable) != len(shapes) {
		t.Errorf("%d deletes, want %d", len(check.stable), len(shapes))
	}
	check.mu.Unlock()
	if got := p.count(sqsDone); got != float64(len(shapes)) {
		t.Errorf("messages done = %v, want %d", got, len(shapes))
	}

	byKey, _ := eventsByObject(t, kcfg, topics)
	for _, s := range shapes {
		if byKey[s.key] != 4 {
			t.Errorf("%s: %d events on the events topic, want 4", s.name, byKey[s.key])
		}
	}
	markers := map[string]string{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicIngested)) {
		var in schemas.Ingested
		if err := json.Unmarshal(r.Value, &in); err != nil {
			t.Fatal(err)
		}
		markers[in.Key] = in.Result + "/" + in.ETag
	}
	for _, s := range shapes {
		if markers[s.key] != "ok/"+etag {
			t.Errorf("%s: marker %q, want ok/%s", s.name, markers[s.key], etag)
		}
	}
}

// TestSQSBridgeRedelivery stops a bridge whose object was published but
// not yet ingested (the process going away before done): the message is
// not deleted, SQS delivers it again after the visibility timeout, and a
// new process (bridge, discoverer and worker under RunWithSQS) publishes
// and ingests it. The object is announced twice, so its events are on the
// events topic twice, with the same event ids: ClickHouse deduplicates
// them by event_id.
func TestSQSBridgeRedelivery(t *testing.T) {
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 2)
	q := newSQSTest(t, time.Second)
	key := "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_20260302T1015Z_redeliveredaaaaa.json.gz"
	body := gz(mustRead(t, "testdata/cloudtrail/delivery.json"))
	putObject(t, s3c, bucket, key, body)

	cfg := testConfig()
	cfg.SQS = testSQSConfig(q.url)
	cfg.SQS.DrainTimeout = 50 * time.Millisecond
	first := startPipeline(t, cfg, kcfg, topics, q.client, nil)
	q.send(t, s3Notification(bucket, key, int64(len(body)), md5Hex(body)))
	waitRecords(t, kcfg, topics.Name(schemas.TopicObjects), 1, 20*time.Second)
	first.shutdown(t)
	if got := q.counts(t); got != (sqsfake.Counts{InFlight: 1}) {
		t.Fatalf("after the first process stopped: %+v, want the message in flight, not deleted", got)
	}
	if got := first.count(sqsAbandoned); got != 1 {
		t.Errorf("abandoned = %v, want 1", got)
	}

	w, err := New(cfg, kcfg, topics, s3c, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	second := startPipeline(t, cfg, kcfg, topics, q.client, w)
	q.waitEmpty(t, 60*time.Second)
	second.shutdown(t)
	if got := second.count(sqsDone); got != 1 {
		t.Errorf("done = %v, want 1", got)
	}

	announced := countCommitted(t, kcfg, topics.Name(schemas.TopicObjects))
	byKey, byID := eventsByObject(t, kcfg, topics)
	if announced != 2 {
		t.Errorf("objects topic has %d announcements, want 2 (first and redelivered)", announced)
	}
	if len(byID) != 4 {
		t.Errorf("%d distinct events, want the object's 4", len(byID))
	}
	for id, n := range byID {
		if n != announced {
			t.Errorf("event %s on the events topic %d times, want once per announcement (%d)", id, n, announced)
		}
	}
	t.Logf("object announced %d times; events topic holds %d events, %d distinct ids", announced, byKey[key], len(byID))
}

// TestSQSBridgeDeadLetters sends a message that is no notification: it
// goes to the dead-letter topic with its reason and a bounded payload,
// and is deleted; a test event is deleted without a trace.
func TestSQSBridgeDeadLetters(t *testing.T) {
	kcfg, topics := testBroker(t, 1)
	q := newSQSTest(t, time.Second)
	cfg := testConfig()
	cfg.SQS = testSQSConfig(q.url)
	cfg.DeadLetterPayloadBytes = 32
	p := startPipeline(t, cfg, kcfg, topics, q.client, nil)

	bad := "this is not an S3 notification, and it is longer than 32 bytes"
	id := q.send(t, bad)
	q.send(t, `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-03-02T10:16:03.120Z","Bucket":"logs"}`)
	q.waitEmpty(t, 10*time.Second)
	p.shutdown(t)

	recs := readCommitted(t, kcfg, topics.Name(schemas.TopicDLQ))
	if len(recs) != 1 {
		t.Fatalf("dead-letter topic has %d records, want 1", len(recs))
	}
	var d schemas.DeadLetter
	if err := json.Unmarshal(recs[0].Value, &d); err != nil {
		t.Fatal(err)
	}
	if d.V != 1 || d.Stage != "ingest" || d.Reason != ReasonBadAnnouncement || d.Index != -1 || d.Time.IsZero() {
		t.Errorf("dead letter %+v", d)
	}
	if !bytes.Equal(d.Payload, []byte(bad[:32])) {
		t.Errorf("payload %q, want the first 32 bytes of the body", d.Payload)
	}
	if !strings.Contains(d.Error, id) || string(recs[0].Key) != "sqs/"+id {
		t.Errorf("dead letter keyed %q, error %q: want the message id %s", recs[0].Key, d.Error, id)
	}
	for result, want := range map[string]float64{sqsDeadLettered: 1, sqsIgnored: 1} {
		if got := p.count(result); got != want {
			t.Errorf("messages %s = %v, want %v", result, got, want)
		}
	}
}

// TestSQSIngestConfigValidate checks that the sqs section is validated
// only when a queue is set.
func TestSQSIngestConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default: no queue", Mutate: func(*Config) {}, WantErr: ""},
		{Name: "bad sqs settings without a queue", Mutate: func(c *Config) { c.SQS.WaitTime = time.Hour }, WantErr: ""},
		{Name: "queue", Mutate: func(c *Config) { c.SQS.QueueURL = "https://sqs.eu-west-1.amazonaws.com/111122223333/objects" }, WantErr: ""},
		{Name: "queue with a bad wait time", Mutate: func(c *Config) {
			c.SQS.QueueURL, c.SQS.WaitTime = "https://sqs.eu-west-1.amazonaws.com/111122223333/objects", time.Hour
		}, WantErr: "ingest.sqs.wait_time"},
		{Name: "queue with a negative done timeout", Mutate: func(c *Config) {
			c.SQS.QueueURL, c.SQS.DoneTimeout = "https://sqs.eu-west-1.amazonaws.com/111122223333/objects", -time.Second
		}, WantErr: "ingest.sqs.done_timeout"},
	})
}
