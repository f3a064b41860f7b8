package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trailwatch/trailwatch/schemas"
)

// flakyGetter fails the nth GetObject with a ranged request once, as a
// throttled S3 would, and passes everything else to the real client.
type flakyGetter struct {
	ObjectGetter
	n, seen atomic.Int64
}

func (f *flakyGetter) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if in.Range != nil && f.seen.Add(1) == f.n.Load() {
		return nil, &smithy.GenericAPIError{Code: "SlowDown", Message: "test", Fault: smithy.FaultServer}
	}
	return f.ObjectGetter.GetObject(ctx, in, opts...)
}

// TestWorkerParquet ingests Parquet flow logs end to end, through MinIO
// and the broker, next to a text flow log in the same batch: good objects
// (announced with and without a size, one read in several requests, one
// whose read is throttled once and so retried) land with the events the
// decoder makes, and the bad ones go to the dead-letter topic with their
// reasons.
func TestWorkerParquet(t *testing.T) {
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 3)

	key := func(name, ext string) string {
		return "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/02/111122223333_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_20260302T1015Z_" + name + ext
	}
	text := flowGoldenCase{name: "v5-custom"}.input(t)
	good := flowTextToParquet(t, text, flowParquetWriting{})
	large := flowTextToParquet(t, flowSyntheticObject(flowSyntheticV5, 20000), flowParquetWriting{rowGroupRows: 5000})
	objects := []struct {
		key    string
		body   []byte // nil: announced, never uploaded
		sized  bool   // announced with its size
		result string
		events int64
	}{
		{key("good0000", ".log.parquet"), good, false, "ok", 4},
		{key("sized000", ".log.parquet"), good, true, "ok", 4},
		{key("large000", ".log.parquet"), large, true, "ok", 20000},
		{key("text0000", ".log.gz"), gz(text), false, "ok", 4},
		{key("truncate", ".log.parquet"), good[:len(good)/2], false, ReasonBadParquet, 0},
		{key("notparqu", ".log.parquet"), text, false, ReasonBadParquet, 0},
		{key("empty000", ".log.parquet"), []byte{}, false, ReasonEmptyObject, 0},
		{key("missing0", ".log.parquet"), nil, false, ReasonObjectMissing, 0},
	}
	var announcements [][]byte
	for _, o := range objects {
		obj := schemas.Object{V: schemas.ObjectVersion, Bucket: bucket, Key: o.key}
		if o.body != nil {
			putObject(t, s3c, bucket, o.key, o.body)
			if o.sized {
				obj.Size = int64(len(o.body))
			}
		}
		v, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		announcements = append(announcements, v)
	}

	reg := prometheus.NewRegistry()
	// The third ranged GET is throttled once: its batch is aborted and read
	// again, and no event lands twice.
	getter := &flakyGetter{ObjectGetter: s3c}
	getter.n.Store(3)
	w, err := New(testConfig(), kcfg, topics, getter, testLogger(), reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	announce(t, kcfg, topics, announcements...)
	runUntil(t, w, kcfg, topics, len(objects))

	done := map[string]schemas.Ingested{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicIngested)) {
		var in schemas.Ingested
		if err := json.Unmarshal(r.Value, &in); err != nil {
			t.Fatal(err)
		}
		if _, dup := done[in.Key]; dup {
			t.Errorf("%s ingested twice", in.Key)
		}
		done[in.Key] = in
	}
	for _, o := range objects {
		got, ok := done[o.key]
		switch {
		case !ok:
			t.Errorf("%s: not ingested", o.key)
		case got.Result != o.result || got.Events != o.events:
			t.Errorf("%s: result %q with %d events, want %q with %d", o.key, got.Result, got.Events, o.result, o.events)
		}
	}
	var aborted dto.Metric
	if err := w.metrics.transactions.WithLabelValues("aborted").Write(&aborted); err != nil || aborted.GetCounter().GetValue() < 1 {
		t.Errorf("aborted transactions = %v (%v): the throttled read was not retried", aborted.GetCounter().GetValue(), err)
	}

	// The events of each object are the decoder's, once each; the text
	// and Parquet deliveries of the same records agree but for the
	// object they name (and so their ids).
	byKey := map[string][]*schemas.Event{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicEvents)) {
		ev := &schemas.Event{}
		if err := schemas.UnmarshalEvent(r.Value, ev); err != nil {
			t.Fatal(err)
		}
		byKey[ev.Object.Key] = append(byKey[ev.Object.Key], ev)
	}
	// Events are keyed across partitions: put each object's in order.
	for _, evs := range byKey {
		slices.SortFunc(evs, func(a, b *schemas.Event) int { return cmp.Compare(a.Object.Index, b.Object.Index) })
	}
	for _, o := range objects {
		if o.result != "ok" || o.key == key("text0000", ".log.gz") {
			continue
		}
		ki := ClassifyKey(o.key)
		info := ObjectInfo{Bucket: bucket, Key: o.key, Kind: ki.Kind, AccountID: ki.AccountID, Region: ki.Region, Now: now}
		want, err := flowParquetDecodeAll(o.body, info, testConfig().Limits)
		if err != nil {
			t.Fatal(err)
		}
		got := byKey[o.key]
		if len(got) != len(want) {
			t.Errorf("%s: %d events on the topic, the decoder makes %d", o.key, len(got), len(want))
			continue
		}
		for i, ev := range got {
			w := want[i].Event
			if ev.ID != w.ID || !bytes.Equal(ev.Raw, w.Raw) || !reflect.DeepEqual(ev.Flow, w.Flow) || ev.Object.Index != w.Object.Index {
				t.Errorf("%s: event %d = %s %q, want %s %q", o.key, i, ev.ID, ev.Raw, w.ID, w.Raw)
				break
			}
		}
	}
	parquetEvents, textEvents := byKey[key("good0000", ".log.parquet")], byKey[key("text0000", ".log.gz")]
	if len(parquetEvents) != len(textEvents) {
		t.Fatalf("%d Parquet events, %d text events of the same records", len(parquetEvents), len(textEvents))
	}
	for i := range textEvents {
		p, x := *parquetEvents[i], *textEvents[i]
		if p.ID == x.ID {
			t.Errorf("event %d: the same id for two objects", i)
		}
		p.ID, p.Object.Key = x.ID, x.Object.Key
		if !reflect.DeepEqual(p, x) {
			t.Errorf("event %d: Parquet %+v, text %+v", i, p, x)
		}
	}

	// Dead letters name the object and its reason; the good object of the
	// batch landed all the same (above).
	reasons := map[string]string{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicDLQ)) {
		var d schemas.DeadLetter
		if err := json.Unmarshal(r.Value, &d); err != nil {
			t.Fatal(err)
		}
		if d.Index != -1 || d.Error == "" {
			t.Errorf("dead letter %+v", d)
		}
		reasons[d.Key] = d.Reason
	}
	for _, o := range objects {
		if o.result != "ok" && reasons[o.key] != o.result {
			t.Errorf("%s: dead letter reason %q, want %q", o.key, reasons[o.key], o.result)
		}
	}
	if len(reasons) != 4 {
		t.Errorf("%d dead letters, want 4: %v", len(reasons), reasons)
	}

	var m dto.Metric
	if err := w.metrics.objects.WithLabelValues(string(schemas.ObjectVPCFlowParquet), "ok").Write(&m); err != nil || m.GetCounter().GetValue() != 3 {
		t.Errorf("ok Parquet objects metric = %v (%v), want 3", m.GetCounter().GetValue(), err)
	}
	sources := map[string]bool{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicSources)) {
		sources[string(r.Key)] = true
	}
	if !sources["111122223333/eu-west-1/vpcflow-parquet"] {
		t.Errorf("no heartbeat for the Parquet source in %v", sources)
	}
}
