package orggen

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// parquetTestConfig is a small run for the Parquet tests: every file
// costs a Parquet writer, and under the race detector a millisecond or
// more, so the window is an hour of three accounts (a few hundred flow
// files, with tens of records each).
func parquetTestConfig(flowFormat string) Config {
	cfg := testConfig()
	cfg.Accounts, cfg.Duration, cfg.Events, cfg.FlowRecords, cfg.FlowFormat = 3, time.Hour, 2_000, 5_000, flowFormat
	return cfg
}

// TestFlowParquetFiles compares a run whose flow logs are Parquet with the
// text run of the same seed: the same objects but for the flow logs'
// extension, CloudTrail untouched, the same ground truth, and each
// Parquet file shaped as AWS writes it. That the rows hold the text's
// records is checked through ingest's decoders (TestFlowParquetDecodes).
func TestFlowParquetFiles(t *testing.T) {
	textSum, text := generate(t, parquetTestConfig(FlowFormatText))
	sum, objs := generate(t, parquetTestConfig(FlowFormatParquet))
	if sum.FlowParquetObjects != sum.FlowObjects || sum.FlowObjects != textSum.FlowObjects || sum.FlowRecords != textSum.FlowRecords {
		t.Fatalf("summary: %s; text run: %s", sum, textSum)
	}
	if len(objs) != len(text) {
		t.Fatalf("%d objects, the text run %d", len(objs), len(text))
	}
	for k, b := range text {
		if !strings.Contains(k, "/vpcflowlogs/") {
			if !bytes.Equal(objs[k], b) {
				t.Fatalf("%s differs when flow logs are Parquet", k)
			}
			continue
		}
		pk := strings.TrimSuffix(k, ".gz") + ".parquet"
		pb, ok := objs[pk]
		if !ok {
			t.Fatalf("no %s beside the text run's %s", pk, k)
		}
		checkFlowParquetShape(t, pk, pb, gunzip(t, k, b))
	}

	want, got := textSum.GroundTruth, sum.GroundTruth
	if got.FlowFormat != FlowFormatParquet || want.FlowFormat != FlowFormatText {
		t.Errorf("ground truth flow formats %q and %q", got.FlowFormat, want.FlowFormat)
	}
	refs := 0
	for i, s := range got.Scenarios {
		wantRefs := want.Scenarios[i].FlowRecords
		if len(s.FlowRecords) != len(wantRefs) {
			t.Fatalf("%s: %d flow objects, the text run %d", s.Name, len(s.FlowRecords), len(wantRefs))
		}
		for j, ref := range s.FlowRecords {
			if ref.Key != strings.TrimSuffix(wantRefs[j].Key, ".gz")+".parquet" || !slices.Equal(ref.Indexes, wantRefs[j].Indexes) {
				t.Errorf("%s: flow records %s %v, the text run's %s %v", s.Name, ref.Key, ref.Indexes, wantRefs[j].Key, wantRefs[j].Indexes)
			}
			refs++
		}
	}
	if refs == 0 {
		t.Error("no scenario flow records to compare")
	}
}

// awsFlowParquetInts are the columns the VPC user guide's table of fields
// gives an integer Parquet type; every other column is a string.
var awsFlowParquetInts = map[string]parquet.Kind{
	"version": parquet.Int32, "srcport": parquet.Int32, "dstport": parquet.Int32, "tcp_flags": parquet.Int32, "traffic_path": parquet.Int32,
	"protocol": parquet.Int64, "packets": parquet.Int64, "bytes": parquet.Int64, "start": parquet.Int64, "end": parquet.Int64,
}

func openParquet(t testing.TB, key string, b []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: not Parquet: %v", key, err)
	}
	return f
}

// checkFlowParquetShape checks a Parquet flow log against its text form:
// one optional column per header field, in header order, named with '_'
// for '-' and typed as AWS types it; a row per line; gzip pages and
// dictionary-encoded values.
func checkFlowParquetShape(t *testing.T, key string, b, text []byte) {
	t.Helper()
	f := openParquet(t, key, b)
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	header := strings.Fields(lines[0])
	fields := f.Schema().Fields()
	if len(fields) != len(header) {
		t.Fatalf("%s: %d columns, the text header %d fields", key, len(fields), len(header))
	}
	for i, col := range fields {
		name := strings.ReplaceAll(header[i], "-", "_")
		kind, isInt := awsFlowParquetInts[name]
		if !isInt {
			kind = parquet.ByteArray
		}
		switch {
		case col.Name() != name:
			t.Fatalf("%s: column %d is %s, want %s", key, i, col.Name(), name)
		case !col.Leaf() || !col.Optional():
			t.Fatalf("%s: column %s is not an optional leaf", key, name)
		case col.Type().Kind() != kind:
			t.Fatalf("%s: column %s is %s, want %s", key, name, col.Type().Kind(), kind)
		case !isInt && col.Type().LogicalType().String() != "STRING":
			t.Fatalf("%s: column %s is not a string", key, name)
		}
	}
	if f.NumRows() != int64(len(lines)-1) {
		t.Fatalf("%s: %d rows, the text %d records", key, f.NumRows(), len(lines)-1)
	}
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec != format.Gzip || !slices.Contains(c.MetaData.Encoding, format.RLEDictionary) {
				t.Fatalf("%s: column %v: codec %s, encodings %v; want gzip and dictionaries", key, c.MetaData.PathInSchema, c.MetaData.Codec, c.MetaData.Encoding)
			}
		}
	}
}
