package orggen_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/orggen"
	"github.com/trailwatch/trailwatch/schemas"
)

// eventLog keeps what a decoder emits: each event in its wire form (every
// field, id and Raw included) with its source address, and the bad
// records.
type eventLog struct {
	events [][]byte
	srcs   []string
	bad    []string
}

func (l *eventLog) Event(e *schemas.Event) error {
	l.events = append(l.events, schemas.MarshalEvent(nil, e))
	l.srcs = append(l.srcs, e.SourceIP)
	return nil
}

func (l *eventLog) BadRecord(index int64, err *ingest.DecodeError, _ []byte) error {
	l.bad = append(l.bad, fmt.Sprintf("record %d: %v", index, err))
	return nil
}

// decodeFlowObject decodes one generated flow log object as ingest does,
// as an object of the given kind (text or Parquet) under the given key.
func decodeFlowObject(t *testing.T, kind schemas.ObjectKind, bucket, key string, body []byte, now time.Time) *eventLog {
	t.Helper()
	ki := ingest.ClassifyKey(key)
	info := ingest.ObjectInfo{Bucket: bucket, Key: key, Kind: kind, AccountID: ki.AccountID, Region: ki.Region, Now: now}
	l := &eventLog{}
	var err error
	switch kind {
	case schemas.ObjectVPCFlowParquet:
		err = ingest.DecodeFlowParquet(bytes.NewReader(body), int64(len(body)), info, ingest.DefaultLimits(), l)
	case schemas.ObjectVPCFlow:
		var zr io.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
			err = ingest.DecodeFlow(zr, info, ingest.DefaultLimits(), l)
		}
	default:
		t.Fatalf("%s: %v is not a flow log kind", key, kind)
	}
	if err != nil || len(l.bad) > 0 {
		t.Fatalf("%s: %v; bad records %v", key, err, l.bad)
	}
	return l
}

// TestFlowParquetDecodes decodes a mixed run's flow logs with ingest's
// decoders and compares them with the text run of the same seed. Each
// Parquet object, decoded under the key of its text form, gives exactly
// the text object's events, ids and Raw included (ingest gives a record
// the same id in either form at the same place of the same key); the
// mixed run's text objects are the text run's, byte for byte; every
// record of the run decodes, none as a bad record; and the ground truth's
// scenario records point at the scanner's rows in Parquet objects too.
func TestFlowParquetDecodes(t *testing.T) {
	textSum, text := orggen.Generate(t, orggen.ParquetTestConfig(orggen.FlowFormatText))
	sum, mixed := orggen.Generate(t, orggen.ParquetTestConfig(orggen.FlowFormatMixed))
	if sum.FlowParquetObjects == 0 || sum.FlowParquetObjects == sum.FlowObjects {
		t.Fatalf("a mixed run wrote %d of %d flow objects as Parquet, want some of each kind", sum.FlowParquetObjects, sum.FlowObjects)
	}
	now := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
	decoded := map[string]*eventLog{} // the mixed run's flow objects, by key
	records, parquetRecords := 0, 0
	for k, body := range mixed {
		bucket, key, _ := strings.Cut(k, "/")
		textKey, isParquet := strings.CutSuffix(key, ".parquet")
		if !isParquet {
			if !bytes.Equal(body, text[k]) {
				t.Fatalf("%s differs from the text run's", k)
			}
			if strings.Contains(key, "/vpcflowlogs/") {
				records += len(decodeFlowObject(t, ingest.ClassifyKey(key).Kind, bucket, key, body, now).events)
			}
			continue
		}
		if kind := ingest.ClassifyKey(key).Kind; kind != schemas.ObjectVPCFlowParquet {
			t.Fatalf("%s: ingest takes it for %v", key, kind)
		}
		decoded[key] = decodeFlowObject(t, schemas.ObjectVPCFlowParquet, bucket, key, body, now)
		textKey += ".gz"
		textBody, ok := text[bucket+"/"+textKey]
		if !ok {
			t.Fatalf("%s: the text run has no %s", key, textKey)
		}
		// Read as the text object is, so ids and object references can
		// be compared too.
		got := decodeFlowObject(t, schemas.ObjectVPCFlowParquet, bucket, textKey, body, now)
		want := decodeFlowObject(t, schemas.ObjectVPCFlow, bucket, textKey, textBody, now)
		if len(got.events) != len(want.events) || len(got.events) == 0 {
			t.Fatalf("%s: %d events, its text form %d", key, len(got.events), len(want.events))
		}
		for i := range want.events {
			if !bytes.Equal(got.events[i], want.events[i]) {
				t.Fatalf("%s record %d differs from its text form's", key, i)
			}
		}
		records += len(got.events)
		parquetRecords += len(got.events)
	}
	if records != sum.FlowRecords || sum.FlowRecords != textSum.FlowRecords || parquetRecords == 0 {
		t.Fatalf("decoded %d flow records (%d from Parquet), the run wrote %d, the text run %d", records, parquetRecords, sum.FlowRecords, textSum.FlowRecords)
	}

	refs := 0
	for _, s := range sum.GroundTruth.Scenarios {
		for _, ref := range s.FlowRecords {
			l, ok := decoded[ref.Key]
			if !ok {
				continue // a text object
			}
			for _, i := range ref.Indexes {
				if l.srcs[i] != s.SourceIPs[0] {
					t.Fatalf("%s: %s record %d is from %s, not %s", s.Name, ref.Key, i, l.srcs[i], s.SourceIPs[0])
				}
				refs++
			}
		}
	}
	if refs == 0 {
		t.Error("no scenario records in Parquet objects to check")
	}
}
