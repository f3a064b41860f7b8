package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"

	"github.com/trailwatch/trailwatch/internal/configtest"
	"github.com/trailwatch/trailwatch/schemas"
)

// flowParquetWriting says how a test writes a Parquet flow log: the page
// version, the values' encoding, the codec, and the row group and page
// sizes. The zero value writes as AWS does: gzip, dictionaries, v1 pages.
type flowParquetWriting struct {
	// pageV2 writes data pages v2.
	pageV2 bool
	// encoding is "dict" (the default), "plain", "delta" (integers
	// DELTA_BINARY_PACKED, strings DELTA_BYTE_ARRAY) or "delta-length"
	// (strings DELTA_LENGTH_BYTE_ARRAY).
	encoding string
	// codec is the compression; nil means gzip.
	codec compress.Codec
	// rowGroupRows and pageBytes, when not zero, cut row groups and pages
	// small; firstGroupRows ends the first row group after so many rows.
	rowGroupRows   int64
	pageBytes      int
	firstGroupRows int
}

func (w flowParquetWriting) String() string {
	codec := "GZIP"
	if w.codec != nil {
		codec = w.codec.String()
	}
	return fmt.Sprintf("v2=%t/%s/%s/rg=%d/page=%d", w.pageV2, cmpOr(w.encoding, "dict"), codec, w.rowGroupRows, w.pageBytes)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// flowParquetWritings are the ways the equivalence test writes every
// input: each page version, encoding and codec the decoder reads.
var flowParquetWritings = []flowParquetWriting{
	{},
	{pageV2: true},
	{encoding: "plain", codec: &parquet.Uncompressed},
	{encoding: "plain", pageV2: true, codec: &parquet.Snappy},
	{encoding: "delta", codec: &parquet.Zstd},
	{encoding: "delta", pageV2: true, codec: &parquet.Lz4Raw, rowGroupRows: 2},
	{encoding: "delta-length", pageV2: true, pageBytes: 64},
	{encoding: "dict", rowGroupRows: 3, pageBytes: 64, codec: &parquet.Snappy},
}

// flowParquetFieldType is the Go type (and so the Parquet column type) AWS
// delivers a flow log field as: "Parquet data type" in the VPC user
// guide's table of fields. Every column is optional (a pointer).
func flowParquetFieldType(name string) reflect.Type {
	switch flowFieldByName([]byte(name)) {
	case flowVersion, flowSrcPort, flowDstPort, flowTCPFlags, flowTrafficPath:
		return reflect.TypeFor[*int32]()
	case flowProtocol, flowPackets, flowBytes, flowStart, flowEnd:
		return reflect.TypeFor[*int64]()
	}
	return reflect.TypeFor[*string]()
}

// flowTextToParquet writes the records of a text flow log as the Parquet
// flow log AWS would deliver: one column per header field, in header
// order, named with '_' for '-', typed as flowParquetFieldType says (a
// column whose values are not all integers is written as strings), "-"
// as a null.
func flowTextToParquet(tb testing.TB, text []byte, w flowParquetWriting) []byte {
	tb.Helper()
	lines := flowSplitLines(text)
	header := strings.Fields(string(lines[0]))
	var rows [][]string
	for i, l := range lines[1:] {
		f := strings.Fields(string(l))
		if len(f) != len(header) {
			tb.Fatalf("line %d has %d fields, the header %d: not a Parquet row", i+1, len(f), len(header))
		}
		rows = append(rows, f)
	}
	types := make([]reflect.Type, len(header))
	for j, name := range header {
		types[j] = flowParquetFieldType(name)
		for _, r := range rows {
			if _, err := strconv.ParseInt(r[j], 10, 64); err != nil && r[j] != "-" {
				types[j] = reflect.TypeFor[*string]()
			}
		}
	}
	return flowParquetRows(tb, header, types, rows, w)
}

// flowParquetRows writes rows (strings, "-" for null) as a Parquet file of
// the given column names and Go types, in that order.
func flowParquetRows(tb testing.TB, names []string, types []reflect.Type, rows [][]string, w flowParquetWriting) []byte {
	tb.Helper()
	fields := make([]reflect.StructField, len(names))
	for j, name := range names {
		tag := strings.ReplaceAll(name, "-", "_")
		if enc := cmpOr(w.encoding, "dict"); enc == "dict" || enc == "plain" {
			tag += "," + enc
		}
		fields[j] = reflect.StructField{Name: fmt.Sprintf("F%d", j), Type: types[j], Tag: reflect.StructTag(`parquet:"` + tag + `"`)}
	}
	rowType := reflect.StructOf(fields)
	codec := w.codec
	if codec == nil {
		codec = &parquet.Gzip
	}
	opts := []parquet.WriterOption{parquet.Compression(codec), parquet.DataPageVersion(1)}
	if w.pageV2 {
		opts[1] = parquet.DataPageVersion(2)
	}
	switch w.encoding {
	case "delta":
		opts = append(opts, parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.DeltaByteArray))
	case "delta-length":
		opts = append(opts, parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.DeltaLengthByteArray))
	}
	if strings.HasPrefix(w.encoding, "delta") {
		opts = append(opts, parquet.DefaultEncodingFor(parquet.Int32, &parquet.DeltaBinaryPacked),
			parquet.DefaultEncodingFor(parquet.Int64, &parquet.DeltaBinaryPacked))
	}
	if w.rowGroupRows > 0 {
		opts = append(opts, parquet.MaxRowsPerRowGroup(w.rowGroupRows))
	}
	if w.pageBytes > 0 {
		opts = append(opts, parquet.PageBufferSize(w.pageBytes))
	}
	var buf bytes.Buffer
	opts = append(opts, parquet.SchemaOf(reflect.New(rowType).Elem().Interface()))
	pw := parquet.NewWriter(&buf, opts...)
	for i, r := range rows {
		row := reflect.New(rowType).Elem()
		for j, v := range r {
			if v == "-" {
				continue
			}
			p := reflect.New(types[j].Elem())
			switch k := types[j].Elem().Kind(); k {
			case reflect.String:
				p.Elem().SetString(v)
			case reflect.Int32, reflect.Int64:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || p.Elem().OverflowInt(n) {
					tb.Fatalf("row %d: %s: %q is not a %s", i, names[j], v, k)
				}
				p.Elem().SetInt(n)
			case reflect.Uint32, reflect.Uint64:
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil || p.Elem().OverflowUint(n) {
					tb.Fatalf("row %d: %s: %q is not a %s", i, names[j], v, k)
				}
				p.Elem().SetUint(n)
			default:
				tb.Fatalf("column %s: type %s", names[j], types[j])
			}
			row.Field(j).Set(p)
		}
		if err := pw.Write(row.Interface()); err != nil {
			tb.Fatal(err)
		}
		if i+1 == w.firstGroupRows {
			if err := pw.Flush(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := pw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// flowParquetDecodeAll decodes a Parquet object held in memory and returns
// what was emitted.
func flowParquetDecodeAll(data []byte, obj ObjectInfo, lim Limits) ([]flowRecord, error) {
	rec := &flowRecorder{}
	err := DecodeFlowParquet(bytes.NewReader(data), int64(len(data)), obj, lim, rec)
	return rec.records, err
}

// flowParquetFromText lists the text golden inputs that are also Parquet
// golden inputs, with how each is written. The others do not make Parquet
// rows: lines with too few or too many fields, blank lines, spacing that a
// Parquet row does not keep.
var flowParquetFromText = map[string]flowParquetWriting{
	"v2-default":        {},
	"v3":                {encoding: "plain"},
	"v4":                {pageV2: true, encoding: "delta", codec: &parquet.Snappy},
	"v5-custom":         {codec: &parquet.Zstd},
	"v7-ecs":            {pageV2: true, encoding: "delta-length", codec: &parquet.Uncompressed},
	"v8-reject-reason":  {encoding: "plain", codec: &parquet.Lz4Raw},
	"ipv6":              {pageV2: true, encoding: "delta"},
	"nodata-skipdata":   {},
	"dashes":            {pageV2: true, encoding: "plain"},
	"unknown-fields":    {},
	"underscore-header": {},
	"too-long":          {},
}

// flowParquetCase is one golden input under testdata/flowparquet: its
// name, how -update makes it, and the limits it is read with.
type flowParquetCase struct {
	name  string
	build func(tb testing.TB) []byte
	lim   func(*Limits)
}

func (c flowParquetCase) limits() Limits {
	lim := DefaultLimits()
	if c.lim != nil {
		c.lim(&lim)
	}
	return lim
}

func (c flowParquetCase) path() string {
	return filepath.Join("testdata", "flowparquet", c.name+".parquet")
}

func (c flowParquetCase) input(tb testing.TB) []byte {
	tb.Helper()
	return mustRead(tb, c.path())
}

// flowParquetCases are the golden inputs: the text goldens that make
// Parquet rows, then Parquet-only cases.
func flowParquetCases() []flowParquetCase {
	var cases []flowParquetCase
	for _, tc := range flowGoldenCases {
		w, ok := flowParquetFromText[tc.name]
		if !ok {
			continue
		}
		cases = append(cases, flowParquetCase{
			name:  tc.name,
			build: func(tb testing.TB) []byte { return flowTextToParquet(tb, tc.input(tb), w) },
			lim:   func(l *Limits) { *l = tc.limits() },
		})
	}
	return append(cases, flowParquetOnlyCases...)
}

// flowParquetOnlyCases are Parquet inputs that no text golden stands for.
var flowParquetOnlyCases = []flowParquetCase{
	{
		// Several row groups of several pages: rows are numbered across
		// them, and every column moves on together.
		name: "row-groups",
		build: func(tb testing.TB) []byte {
			return flowTextToParquet(tb, flowSyntheticObject(flowSyntheticV5, 40),
				flowParquetWriting{rowGroupRows: 16, pageBytes: 128})
		},
	},
	{
		// Values a text line cannot hold or a field cannot take: bad
		// records, while the rows around them decode.
		name: "bad-values",
		build: func(tb testing.TB) []byte {
			return flowParquetRows(tb,
				[]string{"version", "srcaddr", "srcport", "packets", "action", "log_status"},
				[]reflect.Type{reflect.TypeFor[*int32](), reflect.TypeFor[*string](), reflect.TypeFor[*int32](),
					reflect.TypeFor[*int64](), reflect.TypeFor[*string](), reflect.TypeFor[*string]()},
				[][]string{
					{"2", "10.0.0.1", "443", "10", "ACCEPT", "OK"},
					{"2", "10.0.0.1", "-443", "10", "ACCEPT", "OK"},
					{"2", "10.0.0.1", "70000", "10", "ACCEPT", "OK"},
					{"300", "10.0.0.1", "443", "10", "ACCEPT", "OK"},
					{"2", "10.0.0.1", "443", "-1", "ACCEPT", "OK"},
					{"2", "10.0.0.1 10.0.0.2", "443", "10", "ACCEPT", "OK"},
					{"2", "10.0.0.1", "443", "10", "ACC\tEPT", "OK"},
					{"2", "", "443", "10", "", "OK"},
					{"2", "10.0.0.3", "22", "1", "REJECT", "OK"},
				}, flowParquetWriting{encoding: "plain"})
		},
	},
	{
		// Columns this decoder does not know: flat integers and strings
		// are kept in Raw, like unknown text fields; other types are
		// skipped. Unsigned integers are written as such.
		name: "extra-columns",
		build: func(tb testing.TB) []byte {
			type nested struct {
				A int32  `parquet:"a"`
				B string `parquet:"b"`
			}
			type row struct {
				Version    int32    `parquet:"version"`
				Note       *string  `parquet:"note,optional"`
				SrcAddr    string   `parquet:"srcaddr"`
				Tags       []string `parquet:"tags,list"`
				Sampled    bool     `parquet:"sampled"`
				Inner      nested   `parquet:"inner"`
				Rate       float64  `parquet:"rate"`
				Bytes      uint64   `parquet:"bytes"`
				Seq        uint32   `parquet:"seq"`
				LogStatus  string   `parquet:"log_status"`
				ExtraCount *int64   `parquet:"extra_count,optional"`
			}
			note := "hello"
			count := int64(-7)
			var buf bytes.Buffer
			if err := parquet.Write(&buf, []row{
				{Version: 5, Note: &note, SrcAddr: "10.0.0.1", Tags: []string{"x", "y"}, Sampled: true,
					Inner: nested{A: 1, B: "b"}, Rate: 0.5, Bytes: math.MaxUint64, Seq: math.MaxUint32, LogStatus: "OK", ExtraCount: &count},
				{Version: 5, SrcAddr: "10.0.0.2", Bytes: 10, Seq: 1, LogStatus: "NODATA"},
			}); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		},
	},
	{
		// A row longer than the limit: its first MaxRecordBytes go to the
		// dead-letter topic, and the next row decodes.
		name: "long-value",
		build: func(tb testing.TB) []byte {
			return flowParquetRows(tb, []string{"srcaddr", "dstaddr"},
				[]reflect.Type{reflect.TypeFor[*string](), reflect.TypeFor[*string]()},
				[][]string{{"10.0.0.1", strings.Repeat("x", 1100)}, {"10.0.0.1", "10.0.0.2"}},
				flowParquetWriting{encoding: "plain"})
		},
		lim: func(l *Limits) { l.MaxRecordBytes = 1024 },
	},
	{
		// Whole-object failures.
		name:  "not-parquet",
		build: func(tb testing.TB) []byte { return flowGoldenCase{name: "v2-default"}.input(tb) },
	},
	{
		name: "truncated",
		build: func(tb testing.TB) []byte {
			b := flowTextToParquet(tb, flowGoldenCase{name: "v2-default"}.input(tb), flowParquetWriting{})
			return b[:len(b)/2]
		},
	},
	{
		name: "no-flow-columns",
		build: func(tb testing.TB) []byte {
			return flowParquetRows(tb, []string{"name", "count"},
				[]reflect.Type{reflect.TypeFor[*string](), reflect.TypeFor[*int64]()},
				[][]string{{"a", "1"}}, flowParquetWriting{})
		},
	},
	{
		name: "field-as-list",
		build: func(tb testing.TB) []byte {
			type row struct {
				Version int32    `parquet:"version"`
				SrcAddr []string `parquet:"srcaddr"`
			}
			var buf bytes.Buffer
			if err := parquet.Write(&buf, []row{{Version: 2, SrcAddr: []string{"10.0.0.1"}}}); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		},
	},
	{
		// A page that decompresses to more than the Parquet limit: the
		// file goes to the dead-letter topic, after the rows before it.
		name: "page-over-limit",
		build: func(tb testing.TB) []byte {
			rows := [][]string{{"10.0.0.1", "10.0.0.2"}}
			for range 20000 {
				rows = append(rows, []string{"10.0.0.1", strings.Repeat("x", 100)})
			}
			return flowParquetRows(tb, []string{"srcaddr", "dstaddr"},
				[]reflect.Type{reflect.TypeFor[*string](), reflect.TypeFor[*string]()},
				rows, flowParquetWriting{encoding: "plain", firstGroupRows: 1, pageBytes: 4 << 20})
		},
		lim: func(l *Limits) { l.MaxParquetBytes = 1 << 20 },
	},
	{
		name: "group-field",
		build: func(tb testing.TB) []byte {
			type addr struct {
				IP string `parquet:"ip"`
			}
			type row struct {
				Version int32 `parquet:"version"`
				SrcAddr addr  `parquet:"srcaddr"`
			}
			var buf bytes.Buffer
			if err := parquet.Write(&buf, []row{{Version: 2, SrcAddr: addr{IP: "10.0.0.1"}}}); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		},
	},
	{
		name: "float-field",
		build: func(tb testing.TB) []byte {
			type row struct {
				Version int32   `parquet:"version"`
				Bytes   float64 `parquet:"bytes"`
			}
			var buf bytes.Buffer
			if err := parquet.Write(&buf, []row{{Version: 2, Bytes: 1.5}}); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		},
	},
	{
		name:  "empty",
		build: func(testing.TB) []byte { return nil },
	},
}

// flowParquetTestObject is the object the Parquet test inputs are read as.
func flowParquetTestObject(name string) ObjectInfo {
	obj := flowTestObject(name)
	obj.Key = strings.TrimSuffix(obj.Key, ".gz") + ".parquet"
	obj.Kind = schemas.ObjectVPCFlowParquet
	return obj
}

// TestDecodeFlowParquetGolden decodes every input under
// testdata/flowparquet; -update rewrites the inputs (from flowParquetCases)
// and then the golden files: go test ./ingest -run FlowParquetGolden -update.
func TestDecodeFlowParquetGolden(t *testing.T) {
	for _, c := range flowParquetCases() {
		t.Run(c.name, func(t *testing.T) {
			if flowUpdateGolden() {
				if err := os.MkdirAll(filepath.Dir(c.path()), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(c.path(), c.build(t), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			records, err := flowParquetDecodeAll(c.input(t), flowParquetTestObject(c.name), c.limits())
			flowCheckGolden(t, filepath.Join("testdata", "flowparquet", c.name+".golden.json"), flowGoldenJSON(t, records, err))
		})
	}
}

// TestDecodeFlowParquetMatchesText decodes every text golden that makes
// Parquet rows both as text and, written every way the decoder reads, as
// Parquet: the events (fields, Raw and id) and the bad records (reason,
// error and payload) are the same.
func TestDecodeFlowParquetMatchesText(t *testing.T) {
	for _, tc := range flowGoldenCases {
		if _, ok := flowParquetFromText[tc.name]; !ok {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			obj := flowTestObject(tc.name)
			text := tc.input(t)
			want, err := flowDecodeAll(text, obj, tc.limits(), flowReadBufferSize)
			if err != nil {
				t.Fatal(err)
			}
			events := 0
			for _, r := range want {
				if r.Event != nil {
					events++
				}
			}
			if events == 0 {
				t.Fatal("the text decodes to no events: nothing to compare")
			}
			for _, w := range flowParquetWritings {
				got, err := flowParquetDecodeAll(flowTextToParquet(t, text, w), obj, tc.limits())
				if err != nil {
					t.Errorf("%s: %v", w, err)
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: Parquet decodes differently from text:\n%s\nwant\n%s", w,
						flowGoldenJSON(t, got, nil), flowGoldenJSON(t, want, nil))
				}
			}
		})
	}
}

func TestFlowParquetLimitsValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default", Mutate: func(*Config) {}, WantErr: ""},
		{Name: "parquet limit below 1 MiB", Mutate: func(c *Config) { c.Limits.MaxParquetBytes = 1<<20 - 1 },
			WantErr: "ingest.limits.max_parquet_bytes"},
	})
}

// TestDecodeFlowParquetReuse decodes every golden input with one decoder,
// twice over: a decoder carries nothing from one object to the next.
func TestDecodeFlowParquetReuse(t *testing.T) {
	cases := flowParquetCases()
	d := NewFlowParquetDecoder(DefaultLimits())
	for range 2 {
		for _, c := range cases {
			want, wantErr := flowParquetDecodeAll(c.input(t), flowParquetTestObject(c.name), c.limits())
			if c.lim != nil {
				continue // decoded with other limits than d's
			}
			rec := &flowRecorder{}
			data := c.input(t)
			err := d.Decode(bytes.NewReader(data), int64(len(data)), flowParquetTestObject(c.name), rec)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(rec.records, want) {
				t.Errorf("%s: a reused decoder decodes differently", c.name)
			}
		}
	}
}

// TestDecodeFlowParquetEmitterErrorStops checks that an error of the
// Emitter stops the decode and comes back unchanged: it must not become a
// dead-letter reason (a producer failure is retried, never dead-lettered).
func TestDecodeFlowParquetEmitterErrorStops(t *testing.T) {
	data := flowParquetCase{name: "bad-values"}.input(t)
	for _, after := range []int{1, 2, 5} {
		rec := &flowRecorder{failAfter: after}
		err := DecodeFlowParquet(bytes.NewReader(data), int64(len(data)), flowParquetTestObject("stop"), DefaultLimits(), rec)
		if err != errFlowRecorderStop {
			t.Errorf("failAfter %d: error = %v, want the emitter's error unchanged", after, err)
		}
		if len(rec.records) != after {
			t.Errorf("failAfter %d: %d records emitted", after, len(rec.records))
		}
	}
}

// flowFailingReaderAt fails every read after the first n.
type flowFailingReaderAt struct {
	r   *bytes.Reader
	n   int
	err error
}

func (f *flowFailingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	f.n--
	return f.r.ReadAt(p, off)
}

// TestDecodeFlowParquetReadError checks that a failure to read (S3 going
// away mid-object) comes back with its type and no reason of its own, so
// the worker decides from the S3 error whether to retry.
func TestDecodeFlowParquetReadError(t *testing.T) {
	data := flowParquetCase{name: "row-groups"}.input(t)
	s3err := &S3Error{Op: "get", Bucket: "b", Key: "k", Err: errors.New("connection reset")}
	for n := range 4 {
		r := &flowFailingReaderAt{r: bytes.NewReader(data), n: n, err: s3err}
		err := DecodeFlowParquet(r, int64(len(data)), flowParquetTestObject("read"), DefaultLimits(), &flowDiscard{})
		var got *S3Error
		if !errors.As(err, &got) || ReasonOf(err) != "" {
			t.Errorf("failing after %d reads: error %v (reason %q), want the S3 error and no reason", n, err, ReasonOf(err))
		}
	}
}

// TestDecodeFlowParquetAllocs holds the decoder to about the text
// decoder's one allocation per record (the string its id and addresses are
// cut from), pages and row groups included.
func TestDecodeFlowParquetAllocs(t *testing.T) {
	for _, kind := range []flowSyntheticKind{flowSyntheticV2, flowSyntheticV5} {
		const records = 2000
		data := flowTextToParquet(t, flowSyntheticObject(kind, records), flowParquetWriting{rowGroupRows: 500})
		obj := flowParquetTestObject("allocs")
		d := NewFlowParquetDecoder(DefaultLimits())
		var discard flowDiscard
		allocs := testing.AllocsPerRun(5, func() {
			if err := d.Decode(bytes.NewReader(data), int64(len(data)), obj, &discard); err != nil {
				t.Fatal(err)
			}
		})
		if perRecord := allocs / records; perRecord > 1.1 {
			t.Errorf("%s: %.3f allocations per record (%.0f per object of %d)", kind, perRecord, allocs, records)
		}
	}
}

// TestDecodeFlowParquetBoundedMemory decodes a file of large pages under a
// small limit, and the same file under a limit that fits it: memory
// follows the limit, not the file.
func TestDecodeFlowParquetBoundedMemory(t *testing.T) {
	c := flowParquetCase{name: "page-over-limit"}
	data := c.input(t)
	for _, limit := range []int64{1 << 20, 8 << 20} {
		lim := DefaultLimits()
		lim.MaxParquetBytes = limit
		d := NewFlowParquetDecoder(lim)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := d.Decode(bytes.NewReader(data), int64(len(data)), flowParquetTestObject(c.name), &flowDiscard{})
		runtime.ReadMemStats(&after)
		switch {
		case limit == 1<<20 && ReasonOf(err) != ReasonParquetLimit:
			t.Errorf("limit %d: error %v, want %s", limit, err, ReasonParquetLimit)
		case limit > 1<<20 && err != nil:
			t.Errorf("limit %d: %v", limit, err)
		}
		if d.held > limit {
			t.Errorf("limit %d: %d bytes held", limit, d.held)
		}
		// The events' strings come on top of the buffers.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(limit)+4<<20 {
			t.Errorf("limit %d: allocated %d bytes", limit, grew)
		}
	}
}

func FuzzDecodeFlowParquet(f *testing.F) {
	for _, c := range flowParquetCases() {
		f.Add(c.input(f))
	}
	f.Add(handParquet(handColumn{name: "srcport", typ: format.Int32, codec: format.Uncompressed, rows: 2},
		handPage(2, -1, format.Plain, plainInt32s(443, 22), false)))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := DefaultLimits()
		// Small limits keep every run short: rows that cost no bytes
		// stop at 200 times the input's size.
		lim.MaxParquetBytes, lim.MaxRecordBytes, lim.MaxObjectBytes, lim.MinRatioBytes = 1<<20, 256, 64<<20, 64<<10
		d := NewFlowParquetDecoder(lim)
		obj := flowParquetTestObject("fuzz")
		rec := &flowRecorder{}
		err := d.Decode(bytes.NewReader(data), int64(len(data)), obj, rec)
		if d.held > lim.MaxParquetBytes {
			t.Fatalf("%d bytes held, over the %d limit", d.held, lim.MaxParquetBytes)
		}
		// An object in memory fails only for what it holds.
		if err != nil && ReasonOf(err) == "" {
			t.Fatalf("error without a reason: %v", err)
		}
		ids := map[string]bool{}
		for i, r := range rec.records {
			if r.Index != int64(i) {
				t.Fatalf("record %d has index %d", i, r.Index)
			}
			if r.Event == nil {
				if r.Reason != ReasonFlowBadRecord && r.Reason != ReasonRecordTooLarge {
					t.Fatalf("bad record %d: reason %q", i, r.Reason)
				}
				if len(r.Payload) > lim.MaxRecordBytes {
					t.Fatalf("bad record %d: %d-byte payload", i, len(r.Payload))
				}
				continue
			}
			raw := r.Event.Raw
			if len(raw) > lim.MaxRecordBytes || len(bytes.Fields(raw)) != len(d.flow.cols) ||
				bytes.Contains(raw, []byte("  ")) || raw[0] == ' ' || raw[len(raw)-1] == ' ' {
				t.Fatalf("event %d: Raw %q is not a line of %d fields", i, raw, len(d.flow.cols))
			}
			if int64(r.Event.Object.Index) != r.Index || len(r.Event.ID) != flowIDHexLen || ids[r.Event.ID] {
				t.Fatalf("event %d: index %d, id %q", i, r.Event.Object.Index, r.Event.ID)
			}
			ids[r.Event.ID] = true
		}
		// The same decoder reads the same object the same way again.
		again := &flowRecorder{}
		errAgain := d.Decode(bytes.NewReader(data), int64(len(data)), obj, again)
		if fmt.Sprint(err) != fmt.Sprint(errAgain) || !reflect.DeepEqual(rec.records, again.records) {
			t.Fatal("a second decode with the same decoder differs")
		}
	})
}

// BenchmarkDecodeFlowParquet measures the decoder on generated objects of
// 20,000 records (the sizes of BenchmarkDecodeFlow's), written as AWS does
// (gzip, dictionaries) and other ways, with an Emitter that drops the
// events.
func BenchmarkDecodeFlowParquet(b *testing.B) {
	for _, c := range []struct {
		name string
		kind flowSyntheticKind
		w    flowParquetWriting
	}{
		{"gen-v2-default/gzip-dict", flowSyntheticV2, flowParquetWriting{}},
		{"gen-v5-custom/gzip-dict", flowSyntheticV5, flowParquetWriting{}},
		{"gen-v2-default/snappy-plain", flowSyntheticV2, flowParquetWriting{encoding: "plain", codec: &parquet.Snappy}},
		{"gen-v2-default/zstd-delta-v2", flowSyntheticV2, flowParquetWriting{encoding: "delta", pageV2: true, codec: &parquet.Zstd}},
	} {
		data := flowTextToParquet(b, flowSyntheticObject(c.kind, 20000), c.w)
		b.Run(c.name, func(b *testing.B) {
			obj := flowParquetTestObject(c.name)
			d := NewFlowParquetDecoder(DefaultLimits())
			var disc flowDiscard
			r := bytes.NewReader(data)
			if err := d.Decode(r, int64(len(data)), obj, &disc); err != nil {
				b.Fatal(err)
			}
			records := disc.events + disc.bad
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := d.Decode(r, int64(len(data)), obj, &disc); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(records*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
