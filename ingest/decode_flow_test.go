package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/trailwatch/trailwatch/schemas"
)

// The -update flag rewrites the golden files of the package's tests
// instead of comparing with them: go test ./ingest -run Flow -update.
// Several test files of package ingest want it, so whichever registers
// first defines it and the others read it through flag.Lookup; that keeps
// the files independent and their init order irrelevant.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
	return true
}()

// flowUpdateGolden reports whether -update was given.
func flowUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// flowTestObject is the object the flow test inputs are read as.
func flowTestObject(name string) ObjectInfo {
	return ObjectInfo{
		Bucket:    "org-flow-logs",
		Key:       "AWSLogs/123456789010/vpcflowlogs/eu-west-1/2024/06/01/" + name + ".log.gz",
		Kind:      schemas.ObjectVPCFlow,
		AccountID: "999999999999",
		Region:    "eu-west-1",
		Now:       time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
	}
}

// flowGoldenCase is one input file under testdata/flow and how to read it.
type flowGoldenCase struct {
	// name is the input's base name: testdata/flow/<name>.log, with its
	// golden file testdata/flow/<name>.golden.json.
	name string
	// maxRecordBytes overrides the default limit when not zero.
	maxRecordBytes int
}

// flowGoldenCases lists the golden inputs; they also feed the benchmarks
// and seed the fuzz test.
var flowGoldenCases = []flowGoldenCase{
	{name: "v2-default"},
	{name: "v3"},
	{name: "v4"},
	{name: "v5-custom"},
	{name: "v7-ecs"},
	{name: "v8-reject-reason"},
	{name: "ipv6"},
	{name: "nodata-skipdata"},
	{name: "dashes"},
	{name: "crlf"},
	{name: "bad-lines"},
	{name: "unknown-fields"},
	{name: "underscore-header"},
	{name: "too-long", maxRecordBytes: 1024},
}

func (c flowGoldenCase) limits() Limits {
	lim := DefaultLimits()
	if c.maxRecordBytes != 0 {
		lim.MaxRecordBytes = c.maxRecordBytes
	}
	return lim
}

func (c flowGoldenCase) input(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "flow", c.name+".log"))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// flowRecord is what a flowRecorder saw for one record.
type flowRecord struct {
	Index   int64
	Event   *schemas.Event
	Reason  string
	Err     string
	Payload []byte
}

// flowRecorder is an Emitter that keeps a deep copy of everything.
type flowRecorder struct {
	records []flowRecord
	// failAfter, when positive, makes the call after that many records
	// fail with errFlowRecorderStop.
	failAfter int
}

var errFlowRecorderStop = errors.New("recorder stop")

func (r *flowRecorder) Event(e *schemas.Event) error {
	if r.failAfter > 0 && len(r.records) == r.failAfter {
		return errFlowRecorderStop
	}
	c := *e
	if e.Flow != nil {
		f := *e.Flow
		c.Flow = &f
	}
	c.Raw = bytes.Clone(e.Raw)
	r.records = append(r.records, flowRecord{Index: int64(e.Object.Index), Event: &c})
	return nil
}

func (r *flowRecorder) BadRecord(index int64, err *DecodeError, payload []byte) error {
	if r.failAfter > 0 && len(r.records) == r.failAfter {
		return errFlowRecorderStop
	}
	r.records = append(r.records, flowRecord{Index: index, Reason: err.Reason, Err: err.Error(), Payload: bytes.Clone(payload)})
	return nil
}

// flowDecodeAll decodes data and returns what was emitted.
func flowDecodeAll(data []byte, obj ObjectInfo, lim Limits, bufSize int) ([]flowRecord, error) {
	rec := &flowRecorder{}
	err := decodeFlow(bytes.NewReader(data), obj, lim, rec, bufSize)
	return rec.records, err
}

// flowGoldenEntry is one record in a golden file.
type flowGoldenEntry struct {
	Index int64          `json:"index"`
	Event map[string]any `json:"event,omitempty"`
	Bad   *flowGoldenBad `json:"bad,omitempty"`
}

// flowGoldenBad is a bad record in a golden file.
type flowGoldenBad struct {
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	Payload string `json:"payload"`
}

// flowGoldenJSON renders decoded records for a golden file: every event
// with its zero fields left out and Raw as text, every bad record with its
// reason, error and payload, and the object's error if any.
func flowGoldenJSON(tb testing.TB, records []flowRecord, err error) []byte {
	tb.Helper()
	out := struct {
		Records []flowGoldenEntry `json:"records"`
		Error   string            `json:"error,omitempty"`
	}{Records: make([]flowGoldenEntry, 0, len(records))}
	if err != nil {
		out.Error = err.Error()
	}
	for _, r := range records {
		if r.Event == nil {
			out.Records = append(out.Records, flowGoldenEntry{Index: r.Index,
				Bad: &flowGoldenBad{Reason: r.Reason, Error: r.Err, Payload: string(r.Payload)}})
			continue
		}
		ev := *r.Event
		ev.Raw = nil
		b, mErr := json.Marshal(ev)
		if mErr != nil {
			tb.Fatal(mErr)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			tb.Fatal(err)
		}
		flowPruneZero(m)
		m["Raw"] = string(r.Event.Raw)
		out.Records = append(out.Records, flowGoldenEntry{Index: r.Index, Event: m})
	}
	b, mErr := json.MarshalIndent(out, "", "  ")
	if mErr != nil {
		tb.Fatal(mErr)
	}
	return append(b, '\n')
}

// flowPruneZero deletes the zero values from a decoded JSON object, so a
// golden file shows what the decoder set and nothing else.
func flowPruneZero(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if v == "" || v == "0001-01-01T00:00:00Z" {
				delete(m, k)
			}
		case bool:
			if !v {
				delete(m, k)
			}
		case json.Number:
			if v == "0" {
				delete(m, k)
			}
		case map[string]any:
			flowPruneZero(v)
			if len(v) == 0 {
				delete(m, k)
			}
		}
	}
}

func TestDecodeFlowGolden(t *testing.T) {
	for _, c := range flowGoldenCases {
		t.Run(c.name, func(t *testing.T) {
			obj := flowTestObject(c.name)
			records, err := flowDecodeAll(c.input(t), obj, c.limits(), flowReadBufferSize)
			flowCheckGolden(t, filepath.Join("testdata", "flow", c.name+".golden.json"), flowGoldenJSON(t, records, err))
		})
	}
}

// flowCheckGolden compares got with the golden file at path, or rewrites
// the file with -update.
func flowCheckGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if flowUpdateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ingest -run Flow -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decoded differently from %s (run with -update to accept):\n%s", path, got)
	}
}

// TestDecodeFlowFields checks the decoding rules on a few records by hand,
// so that the golden files are not the only statement of them.
func TestDecodeFlowFields(t *testing.T) {
	obj := flowTestObject("fields")
	tests := []struct {
		name   string
		header string
		line   string
		check  func(t *testing.T, e *schemas.Event)
	}{
		{
			name:   "v2 accept",
			header: "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
			line:   "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
			check: func(t *testing.T, e *schemas.Event) {
				f := e.Flow
				want := schemas.Flow{Version: 2, InterfaceID: "eni-1", SrcAddr: "172.31.16.139", DstAddr: "172.31.16.21",
					SrcPort: 20641, DstPort: 22, Protocol: 6, Packets: 20, Bytes: 4249,
					Start: time.Unix(1418530010, 0).UTC(), End: time.Unix(1418530070, 0).UTC(),
					Action: "ACCEPT", LogStatus: "OK", HasPorts: true, HasProtocol: true}
				if *f != want {
					t.Errorf("flow = %+v, want %+v", *f, want)
				}
				if e.AccountID != "123456789010" || e.Region != obj.Region || e.EventName != "ACCEPT" ||
					e.SourceIP != "172.31.16.139" || e.EventSource != "vpcflow" || e.Source != schemas.SourceVPCFlow ||
					!e.Time.Equal(f.Start) || e.IngestTime != obj.Now || len(e.ID) != 32 {
					t.Errorf("event = %+v", e)
				}
			},
		},
		{
			name:   "nodata takes object account and end time",
			header: "account-id end log-status action",
			line:   "unknown 1431280934 NODATA -",
			check: func(t *testing.T, e *schemas.Event) {
				if e.AccountID != obj.AccountID || e.EventName != "NODATA" || !e.Time.Equal(time.Unix(1431280934, 0)) ||
					e.Flow.HasPorts || e.Flow.HasProtocol {
					t.Errorf("event = %+v, flow %+v", e, e.Flow)
				}
			},
		},
		{
			name:   "zero port and protocol are present",
			header: "srcport dstport protocol region",
			line:   "0 0 0 ap-south-1",
			check: func(t *testing.T, e *schemas.Event) {
				if !e.Flow.HasPorts || !e.Flow.HasProtocol || e.Region != "ap-south-1" || e.Flow.Region != "ap-south-1" {
					t.Errorf("flow = %+v, region %q", e.Flow, e.Region)
				}
			},
		},
		{
			name:   "one port is not ports",
			header: "srcport dstport",
			line:   "443 -",
			check: func(t *testing.T, e *schemas.Event) {
				if e.Flow.HasPorts || e.Flow.SrcPort != 443 {
					t.Errorf("flow = %+v", e.Flow)
				}
			},
		},
		{
			name:   "status without action",
			header: "log-status",
			line:   "OK",
			check: func(t *testing.T, e *schemas.Event) {
				if e.EventName != "OK" {
					t.Errorf("EventName = %q", e.EventName)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, err := flowDecodeAll([]byte(tt.header+"\n"+tt.line+"\n"), obj, DefaultLimits(), flowReadBufferSize)
			if err != nil {
				t.Fatal(err)
			}
			if len(records) != 1 || records[0].Event == nil {
				t.Fatalf("records = %+v, want one event", records)
			}
			tt.check(t, records[0].Event)
		})
	}
}

// flowFailingReader returns its data, then err.
type flowFailingReader struct {
	data []byte
	err  error
}

func (r *flowFailingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDecodeFlowObjectErrors(t *testing.T) {
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	record := "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
	errRead := errors.New("connection reset")
	tests := []struct {
		name   string
		r      io.Reader
		lim    Limits
		reason string
		is     error
		// events is how many events come before the error.
		events int
	}{
		{name: "empty", r: strings.NewReader(""), reason: ReasonEmptyObject},
		{name: "record first", r: strings.NewReader(record + record), reason: ReasonFlowNoHeader},
		{name: "blank first line", r: strings.NewReader("\n" + header + record), reason: ReasonFlowNoHeader},
		{name: "csv header", r: strings.NewReader("version,account-id,srcaddr\n"), reason: ReasonFlowNoHeader},
		{name: "no known field", r: strings.NewReader("hello world\n"), reason: ReasonFlowNoHeader},
		{name: "uppercase", r: strings.NewReader("VERSION SRCADDR\n"), reason: ReasonFlowNoHeader},
		{name: "binary", r: bytes.NewReader([]byte{0x1f, 0x8b, 8, 0, 0, 0}), reason: ReasonFlowNoHeader},
		{
			name:   "header too long",
			r:      strings.NewReader("version " + strings.Repeat("x", 2000) + "\n" + record),
			lim:    Limits{MaxRecordBytes: 1024},
			reason: ReasonRecordTooLarge,
		},
		{name: "read error in header", r: &flowFailingReader{data: []byte("version srcaddr"), err: errRead}, is: errRead},
		{name: "read error mid object", r: &flowFailingReader{data: []byte(header + record + "2 1234"), err: errRead}, is: errRead, events: 1},
		{
			name:   "stream error keeps its reason",
			r:      &flowFailingReader{data: []byte(header + record), err: decodeErr(ReasonDecompressionLimit, "too big")},
			reason: ReasonDecompressionLimit,
			events: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &flowRecorder{}
			err := DecodeFlow(tt.r, flowTestObject("errors"), tt.lim, rec)
			if err == nil {
				t.Fatal("DecodeFlow succeeded")
			}
			if tt.reason != "" && ReasonOf(err) != tt.reason {
				t.Errorf("reason of %v = %q, want %q", err, ReasonOf(err), tt.reason)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if len(rec.records) != tt.events {
				t.Errorf("emitted %d records before the error, want %d", len(rec.records), tt.events)
			}
		})
	}
}

func TestDecodeFlowEmitterErrorStops(t *testing.T) {
	data := flowGoldenCase{name: "bad-lines"}.input(t)
	for _, after := range []int{1, 2, 3} {
		rec := &flowRecorder{failAfter: after}
		err := DecodeFlow(bytes.NewReader(data), flowTestObject("stop"), DefaultLimits(), rec)
		if err != errFlowRecorderStop {
			t.Errorf("failAfter %d: error = %v, want the emitter's error unchanged", after, err)
		}
		if len(rec.records) != after {
			t.Errorf("failAfter %d: %d records emitted", after, len(rec.records))
		}
	}
}

// TestDecodeFlowIDs checks the id contract: the same on a second read,
// different for equal lines of one object and for another object.
func TestDecodeFlowIDs(t *testing.T) {
	line := "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
	data := []byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		line + line + line)
	ids := func(obj ObjectInfo) []string {
		records, err := flowDecodeAll(data, obj, DefaultLimits(), flowReadBufferSize)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range records {
			out = append(out, r.Event.ID)
		}
		return out
	}
	obj := flowTestObject("ids")
	first, again := ids(obj), ids(obj)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("ids differ between two reads: %v and %v", first, again)
	}
	seen := map[string]bool{}
	for _, id := range first {
		if seen[id] {
			t.Errorf("id %s repeats for equal lines", id)
		}
		seen[id] = true
	}
	other := obj
	other.Key += ".copy"
	for _, id := range ids(other) {
		if seen[id] {
			t.Errorf("id %s repeats in another object", id)
		}
	}
	// Bucket and key are separated: "ab"+"c" is not "a"+"bc".
	a, b := obj, obj
	a.Bucket, a.Key = "ab", "c"
	b.Bucket, b.Key = "a", "bc"
	if ids(a)[0] == ids(b)[0] {
		t.Error("bucket/key boundary does not change the id")
	}
}

// TestDecodeFlowReadPaths decodes every golden input through small reads
// and a small read buffer (the long-line path) and checks that nothing
// changes.
func TestDecodeFlowReadPaths(t *testing.T) {
	for _, c := range flowGoldenCases {
		t.Run(c.name, func(t *testing.T) {
			obj := flowTestObject(c.name)
			data := c.input(t)
			want, wantErr := flowDecodeAll(data, obj, c.limits(), flowReadBufferSize)
			for _, bufSize := range []int{16, 17, 100, 1025, 1026, 1027} {
				got, err := flowDecodeAll(data, obj, c.limits(), bufSize)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
					t.Errorf("read buffer %d: decoded differently", bufSize)
				}
			}
			rec := &flowRecorder{}
			err := decodeFlow(iotest.OneByteReader(bytes.NewReader(data)), obj, c.limits(), rec, 16)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(rec.records, want) {
				t.Error("one-byte reads: decoded differently")
			}
		})
	}
}

// TestDecodeFlowGzipStream reads a gzip object through OpenStream, as the
// ingest worker does.
func TestDecodeFlowGzipStream(t *testing.T) {
	c := flowGoldenCase{name: "v2-default"}
	data := c.input(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStream(bytes.NewReader(gz.Bytes()), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &flowRecorder{}
	if err := DecodeFlow(s, flowTestObject(c.name), DefaultLimits(), rec); err != nil {
		t.Fatal(err)
	}
	want, _ := flowDecodeAll(data, flowTestObject(c.name), DefaultLimits(), flowReadBufferSize)
	if !reflect.DeepEqual(rec.records, want) {
		t.Error("gzip object decodes differently from the plain one")
	}

	// A truncated gzip object fails with the stream's reason.
	s, err = OpenStream(bytes.NewReader(gz.Bytes()[:gz.Len()/2]), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = DecodeFlow(s, flowTestObject(c.name), DefaultLimits(), &flowRecorder{})
	if ReasonOf(err) != ReasonGzipCorrupt {
		t.Errorf("truncated gzip: error %v, want reason %s", err, ReasonGzipCorrupt)
	}
}

// flowLongLineReader serves a header, one line of n bytes, and a good
// record, without ever holding the long line.
type flowLongLineReader struct {
	head, tail string
	n          int
}

func (r *flowLongLineReader) Read(p []byte) (int, error) {
	switch {
	case r.head != "":
		k := copy(p, r.head)
		r.head = r.head[k:]
		return k, nil
	case r.n > 0:
		k := min(len(p), r.n)
		for i := range p[:k] {
			p[i] = 'a'
		}
		r.n -= k
		return k, nil
	case r.tail != "":
		k := copy(p, r.tail)
		r.tail = r.tail[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestDecodeFlowLongLineBoundedMemory feeds a 64 MiB line and checks that
// it goes to BadRecord with a bounded payload, that the next record still
// decodes, and that memory stays bounded by the limit, not the line.
func TestDecodeFlowLongLineBoundedMemory(t *testing.T) {
	const lineBytes = 64 << 20
	lim := Limits{MaxRecordBytes: 1 << 20}
	r := &flowLongLineReader{
		head: "srcaddr dstaddr\n",
		n:    lineBytes,
		tail: "\r\n10.0.0.1 10.0.0.2\n",
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := &flowRecorder{}
	if err := DecodeFlow(r, flowTestObject("long"), lim, rec); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(rec.records) != 2 {
		t.Fatalf("got %d records, want 2", len(rec.records))
	}
	if bad := rec.records[0]; bad.Reason != ReasonRecordTooLarge || len(bad.Payload) != lim.MaxRecordBytes {
		t.Errorf("long line: reason %q, payload %d bytes", bad.Reason, len(bad.Payload))
	}
	if ev := rec.records[1].Event; ev == nil || ev.Flow.DstAddr != "10.0.0.2" || ev.Object.Index != 1 {
		t.Errorf("record after the long line = %+v", rec.records[1])
	}
	// The recorder's copy of the payload is 1 MiB, the line buffer about
	// as much, the read buffer 64 KiB: far below the line's 64 MiB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("decoding a %d-byte line allocated %d bytes", lineBytes, grew)
	}
}

// TestDecodeFlowInterning checks that a value repeated from record to
// record is one string, not a copy per record.
func TestDecodeFlowInterning(t *testing.T) {
	data := flowSyntheticObject(flowSyntheticV2, 200)
	var accounts, interfaces = map[uintptr]bool{}, map[uintptr]bool{}
	rec := &flowRecorder{}
	if err := DecodeFlow(bytes.NewReader(data), flowTestObject("intern"), DefaultLimits(), rec); err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.records {
		accounts[uintptr(unsafe.Pointer(unsafe.StringData(r.Event.AccountID)))] = true
		interfaces[uintptr(unsafe.Pointer(unsafe.StringData(r.Event.Flow.InterfaceID)))] = true
	}
	if len(accounts) != 1 {
		t.Errorf("one account took %d strings", len(accounts))
	}
	if len(interfaces) > flowSyntheticInterfaces {
		t.Errorf("%d interfaces took %d strings", flowSyntheticInterfaces, len(interfaces))
	}
}

// TestDecodeFlowAllocs holds the decoder to one allocation per record (the
// string its id and addresses are cut from) plus a fixed cost per object.
func TestDecodeFlowAllocs(t *testing.T) {
	for _, kind := range []flowSyntheticKind{flowSyntheticV2, flowSyntheticV5} {
		const records = 2000
		data := flowSyntheticObject(kind, records)
		obj := flowTestObject("allocs")
		var discard flowDiscard
		allocs := testing.AllocsPerRun(5, func() {
			if err := DecodeFlow(bytes.NewReader(data), obj, DefaultLimits(), &discard); err != nil {
				t.Fatal(err)
			}
		})
		if perRecord := allocs / records; perRecord > 1.05 {
			t.Errorf("%s: %.3f allocations per record (%.0f per object of %d)", kind, perRecord, allocs, records)
		}
	}
}

// flowDiscard is an Emitter that counts and drops.
type flowDiscard struct{ events, bad int }

func (d *flowDiscard) Event(*schemas.Event) error { d.events++; return nil }

func (d *flowDiscard) BadRecord(int64, *DecodeError, []byte) error { d.bad++; return nil }

// flowSyntheticKind names a generated flow log format.
type flowSyntheticKind string

// The generated formats: the default one, and a custom version 5 order.
const (
	flowSyntheticV2 flowSyntheticKind = "v2-default"
	flowSyntheticV5 flowSyntheticKind = "v5-custom"
)

// flowSyntheticInterfaces is how many interfaces a generated object mixes.
const flowSyntheticInterfaces = 6

// flowSyntheticObject generates a plausible flow log object of n records:
// a few interfaces of one account, private and public peers, mostly TCP.
func flowSyntheticObject(kind flowSyntheticKind, n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	switch kind {
	case flowSyntheticV2:
		b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	case flowSyntheticV5:
		b.WriteString("region flow-direction traffic-path srcaddr srcport dstaddr dstport protocol action log-status " +
			"pkt-src-aws-service pkt-dst-aws-service start end bytes packets account-id interface-id version az-id " +
			"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr sublocation-type sublocation-id\n")
	}
	start := 1717200000
	for i := range n {
		eni := rng.IntN(flowSyntheticInterfaces)
		local := fmt.Sprintf("10.0.%d.%d", eni, 10+eni)
		peer := fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		src, dst, sport, dport := local, peer, 32768+rng.IntN(28000), []int{443, 80, 22, 53, 5432}[rng.IntN(5)]
		if rng.IntN(2) == 0 {
			src, dst, sport, dport = dst, src, dport, sport
		}
		action := "ACCEPT"
		if rng.IntN(10) == 0 {
			action = "REJECT"
		}
		packets := 1 + rng.IntN(500)
		t0 := start + i/100
		switch kind {
		case flowSyntheticV2:
			fmt.Fprintf(&b, "2 123456789010 eni-0a1b2c3d4e5f6071%d %s %s %d %d 6 %d %d %d %d %s OK\n",
				eni, src, dst, sport, dport, packets, packets*(60+rng.IntN(1400)), t0, t0+60, action)
		case flowSyntheticV5:
			dir, path := "ingress", "-"
			if src == local {
				dir, path = "egress", fmt.Sprint(1+rng.IntN(8))
			}
			fmt.Fprintf(&b, "eu-west-1 %s %s %s %d %s %d 6 %s OK - - %d %d %d %d 123456789010 eni-0a1b2c3d4e5f6071%d 5 euw1-az%d "+
				"vpc-0f1e2d3c4b5a69788 subnet-0123abcd4567ef89%d i-0fedcba987654321%d %d IPv4 %s %s - -\n",
				dir, path, src, sport, dst, dport, action, t0, t0+60, packets*(60+rng.IntN(1400)), packets, eni, 1+eni%3,
				eni%3, eni, []int{2, 18, 19, 3, 1}[rng.IntN(5)], src, dst)
		}
	}
	return b.Bytes()
}

// flowBenchCase is one input of BenchmarkDecodeFlow.
type flowBenchCase struct {
	name string
	data []byte
	lim  Limits
}

// flowBenchCases are the two large generated objects, then every golden
// input.
func flowBenchCases(b *testing.B) []flowBenchCase {
	cases := []flowBenchCase{
		{name: "gen-" + string(flowSyntheticV2), data: flowSyntheticObject(flowSyntheticV2, 20000), lim: DefaultLimits()},
		{name: "gen-" + string(flowSyntheticV5), data: flowSyntheticObject(flowSyntheticV5, 20000), lim: DefaultLimits()},
	}
	for _, c := range flowGoldenCases {
		cases = append(cases, flowBenchCase{name: c.name, data: c.input(b), lim: c.limits()})
	}
	return cases
}

// BenchmarkDecodeFlow measures the decoder on in-memory objects, with an
// Emitter that drops the events.
func BenchmarkDecodeFlow(b *testing.B) {
	for _, c := range flowBenchCases(b) {
		b.Run(c.name, func(b *testing.B) {
			obj := flowTestObject(c.name)
			var d flowDiscard
			if err := DecodeFlow(bytes.NewReader(c.data), obj, c.lim, &d); err != nil {
				b.Fatal(err)
			}
			records := d.events + d.bad
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			r := bytes.NewReader(c.data)
			n := 0
			for b.Loop() {
				r.Reset(c.data)
				if err := DecodeFlow(r, obj, c.lim, &d); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(records*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkFlowLineFloor is the floor BenchmarkDecodeFlow compares with:
// splitting the same objects into lines and nothing else.
func BenchmarkFlowLineFloor(b *testing.B) {
	for _, c := range flowBenchCases(b)[:2] {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			r := bytes.NewReader(c.data)
			br := bufio.NewReaderSize(r, flowReadBufferSize)
			lines, n := 0, 0
			for b.Loop() {
				r.Reset(c.data)
				br.Reset(r)
				for {
					if _, err := br.ReadSlice('\n'); err != nil {
						break
					}
					lines++
				}
				n++
			}
			b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// flowSplitLines splits data as the decoder does: on "\n", with a last
// line that need not end with one, and a trailing "\r" dropped.
func flowSplitLines(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return lines
}

func FuzzDecodeFlow(f *testing.F) {
	for _, c := range flowGoldenCases {
		f.Add(c.input(f))
	}
	f.Add([]byte(""))
	f.Add([]byte("srcaddr\n\n\n"))
	f.Add([]byte("start end\n1 2\r\n-\r\n3 4"))
	f.Add([]byte("version version\n2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A small limit and a small read buffer reach the too-long and the
		// long-line paths with small inputs.
		lim := Limits{MaxRecordBytes: 64}
		obj := flowTestObject("fuzz")
		records, err := flowDecodeAll(data, obj, lim, 16)

		// The read buffer changes nothing.
		again, errAgain := flowDecodeAll(data, obj, lim, flowReadBufferSize)
		if fmt.Sprint(err) != fmt.Sprint(errAgain) || !reflect.DeepEqual(records, again) {
			t.Fatalf("read buffers 16 and %d decode differently", flowReadBufferSize)
		}
		if err != nil {
			// The only errors of an in-memory object are whole-object
			// ones, found at the header, before any record.
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			if len(records) != 0 {
				t.Fatalf("%d records emitted before the object failed", len(records))
			}
			return
		}
		lines := flowSplitLines(data)
		if len(records)+1 != len(lines) {
			t.Fatalf("%d records + header for %d lines", len(records), len(lines))
		}
		ids := map[string]bool{}
		for i, r := range records {
			line := lines[i+1]
			if r.Index != int64(i) {
				t.Fatalf("record %d has index %d", i, r.Index)
			}
			if r.Event == nil {
				if !bytes.HasPrefix(line, r.Payload) {
					t.Fatalf("bad record %d: payload %q is not the start of line %q", i, r.Payload, line)
				}
				if r.Reason != ReasonFlowBadRecord && r.Reason != ReasonRecordTooLarge {
					t.Fatalf("bad record %d: reason %q", i, r.Reason)
				}
				continue
			}
			if !bytes.Equal(r.Event.Raw, line) {
				t.Fatalf("event %d: Raw %q is not line %q", i, r.Event.Raw, line)
			}
			if int64(r.Event.Object.Index) != r.Index || len(r.Event.ID) != flowIDHexLen || ids[r.Event.ID] {
				t.Fatalf("event %d: index %d, id %q", i, r.Event.Object.Index, r.Event.ID)
			}
			ids[r.Event.ID] = true
		}
	})
}
