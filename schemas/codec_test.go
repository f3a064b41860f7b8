package schemas

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// update rewrites golden files instead of comparing with them:
// go test ./schemas -run Golden -update. It is the schemas package's one
// -update flag; other golden tests here should use it too.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// codec is one way of putting a record of type T on a topic: the wire
// format, or a baseline it was measured against. Tests, fuzz tests and
// benchmarks take it so that events and detections share their code.
type codec[T any] struct {
	name      string
	tag       byte // first byte of a record, for the wire format
	marshal   func(dst []byte, v *T) []byte
	unmarshal func(b []byte, v *T) error
}

func eventWire() codec[Event] {
	return codec[Event]{"proto", WireEventV1, MarshalEvent, UnmarshalEvent}
}

func detectionWire() codec[Detection] {
	return codec[Detection]{"proto", WireDetectionV1, MarshalDetection, UnmarshalDetection}
}

// emptyToNil returns a copy of v in which every slice or map of length 0,
// at any depth, is nil: the wire does not tell them apart (see
// UnmarshalEvent), so tests compare after this.
func emptyToNil[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	normalize(rv)
	return v
}

func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		if v.Kind() == reflect.Slice {
			for i := range v.Len() {
				normalize(v.Index(i))
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			normalize(c.Elem())
			v.Set(c)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				normalize(v.Field(i))
			}
		}
	}
}

// scribble overwrites b, so that a decoded value that still aliases it
// shows up as a mismatch.
func scribble(b []byte) {
	for i := range b {
		b[i] = 0xAA
	}
}

func TestEventRoundTrip(t *testing.T) {
	cases := eventCases(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := roundTrip(t, eventWire(), c.e)
			if !bytes.Equal(got.Raw, c.e.Raw) {
				t.Fatalf("Raw changed:\n got %q\nwant %q", got.Raw, c.e.Raw)
			}
			if !got.Time.Equal(c.e.Time) || !got.IngestTime.Equal(c.e.IngestTime) {
				t.Fatalf("times: got %v %v, want %v %v", got.Time, got.IngestTime, c.e.Time, c.e.IngestTime)
			}
			if !got.Time.IsZero() && got.Time.Location() != time.UTC {
				t.Fatalf("Time location = %v, want UTC", got.Time.Location())
			}
		})
	}
	var values []Event
	for _, c := range cases {
		values = append(values, c.e)
	}
	decodeReused(t, eventWire(), values)
}

func TestDetectionRoundTrip(t *testing.T) {
	cases := detectionCases()
	var values []Detection
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { roundTrip(t, detectionWire(), c.d) })
		values = append(values, c.d)
	}
	decodeReused(t, detectionWire(), values)
}

// roundTrip encodes v, checks the tag, decodes into a fresh value and
// compares; it also checks that nothing decoded aliases the record, that
// appending to a buffer with something in it writes the same bytes after
// it, and that encoding is deterministic (maps are written sorted). It
// returns the decoded value.
func roundTrip[T any](t *testing.T, c codec[T], v T) T {
	t.Helper()
	b := c.marshal(nil, &v)
	if b[0] != c.tag {
		t.Fatalf("tag = 0x%02x, want 0x%02x", b[0], c.tag)
	}
	var got T
	if err := c.unmarshal(b, &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	first := append([]byte(nil), b...)
	scribble(b)
	if want := emptyToNil(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	again := c.marshal([]byte("prefix"), &v)
	if string(again[:6]) != "prefix" || !bytes.Equal(again[6:], first) {
		t.Fatal("encoding after a prefix wrote different bytes")
	}
	for range 20 {
		if !bytes.Equal(c.marshal(nil, &v), first) {
			t.Fatal("encoding is not deterministic")
		}
	}
	return got
}

// decodeReused decodes every value into the same variable in turn, twice
// round: no field of one may leak into the next.
func decodeReused[T any](t *testing.T, c codec[T], values []T) {
	t.Helper()
	var reused T
	for round := range 2 {
		for i, v := range values {
			if err := c.unmarshal(c.marshal(nil, &v), &reused); err != nil {
				t.Fatalf("round %d, value %d: decode into a reused value: %v", round, i, err)
			}
			if got, want := emptyToNil(reused), emptyToNil(v); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, value %d, decoded into a reused value:\n got %+v\nwant %+v", round, i, got, want)
			}
		}
	}
}

// TestGolden pins the wire bytes of every fixture: a change here is a
// change of the wire format, which needs a new tag unless old readers can
// still read it (see CODEC.md).
func TestGolden(t *testing.T) {
	check := func(t *testing.T, file string, got []byte) {
		t.Helper()
		path := filepath.Join("testdata", "wire", file)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: encoding changed (%d bytes, golden %d); if that is meant, bump the wire version or run -update", file, len(got), len(want))
		}
	}
	for _, c := range eventCases(t) {
		t.Run(c.name, func(t *testing.T) { check(t, c.name+".event.bin", MarshalEvent(nil, &c.e)) })
	}
	for _, c := range detectionCases() {
		t.Run(c.name, func(t *testing.T) { check(t, c.name+".detection.bin", MarshalDetection(nil, &c.d)) })
	}
}

// frame wraps a protobuf message body as a record with the given tag.
func frame(tag byte, body []byte) []byte {
	return protowire.AppendBytes([]byte{tag}, body)
}

// body returns the protobuf message inside a record.
func body(t testing.TB, rec []byte) []byte {
	v, n := protowire.ConsumeBytes(rec[1:])
	if n < 0 || 1+n != len(rec) {
		t.Fatalf("bad record framing")
	}
	return v
}

func TestUnmarshalEventErrors(t *testing.T) {
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	varint := func(v uint64) []byte { return protowire.AppendVarint(nil, v) }
	flowWith := func(b []byte) []byte { return cat(tag(25, protowire.BytesType), protowire.AppendBytes(nil, b)) }
	cases := []struct {
		name    string
		in      []byte
		want    error
		message string // a part of the error text
	}{
		{"empty", nil, ErrTruncated, "empty record"},
		{"tag only", []byte{WireEventV1}, ErrTruncated, "record length"},
		{"detection tag", frame(WireDetectionV1, nil), ErrUnknownVersion, "tag 0x02 is a detection"},
		{"json", []byte(`{"eventVersion":"1.09"}`), ErrUnknownVersion, "tag 0x7b is JSON"},
		{"future version", frame(0x41, nil), ErrUnknownVersion, "tag 0x41 is not a version"},
		{"zero tag", []byte{0, 0}, ErrUnknownVersion, "tag 0x00"},
		{"length overflow", cat([]byte{WireEventV1}, bytes.Repeat([]byte{0xff}, 10), []byte{1}), ErrMalformed, "record length"},
		{"short body", cat([]byte{WireEventV1}, varint(5), []byte{0x0a}), ErrTruncated, "record of 5 bytes has 1"},
		{"trailing bytes", append(frame(WireEventV1, nil), 0), ErrMalformed, "1 bytes after the end of the event"},
		{"field number zero", frame(WireEventV1, []byte{0x02, 0x00}), ErrMalformed, "bad field tag"},
		{"string as varint", frame(WireEventV1, cat(tag(1, protowire.VarintType), varint(1))), ErrMalformed, "id: wire type varint, want bytes"},
		{"string too long", frame(WireEventV1, cat(tag(12, protowire.BytesType), varint(50), []byte("arn"))), ErrMalformed, "principal: bad value: runs past the end"},
		{"time as varint", frame(WireEventV1, cat(tag(3, protowire.VarintType), varint(7))), ErrMalformed, "time_unix_nano: wire type varint, want fixed64"},
		{"source overflow", frame(WireEventV1, cat(tag(2, protowire.VarintType), varint(256))), ErrMalformed, "source: value 256 overflows 8 bits"},
		{"nested port overflow", frame(WireEventV1, flowWith(cat(tag(5, protowire.VarintType), varint(70000)))), ErrMalformed, "flow.src_port: value 70000 overflows 16 bits"},
		{"nested geo bad", frame(WireEventV1, cat(tag(29, protowire.BytesType), protowire.AppendBytes(nil, cat(tag(6, protowire.BytesType), protowire.AppendBytes(nil, cat(tag(3, protowire.BytesType), varint(1), []byte("x"))))))), ErrMalformed, "enrichment.dst_geo.latitude: wire type bytes, want fixed64"},
		{"unknown field runs past end", frame(WireEventV1, cat(tag(900, protowire.BytesType), varint(9))), ErrMalformed, "unknown field 900: bad value"},
		{"unmatched end group", frame(WireEventV1, tag(900, protowire.EndGroupType)), ErrMalformed, "mismatching end group"},
		{"resource truncated varint", frame(WireEventV1, cat(tag(24, protowire.BytesType), varint(1), []byte{0x80})), ErrMalformed, "resources: bad field tag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Event{ID: "old", Raw: []byte("old")}
			err := UnmarshalEvent(c.in, &e)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "unmarshal event: ") || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("err = %q, want it to name %q", err, c.message)
			}
			if !reflect.DeepEqual(e, Event{}) {
				t.Fatalf("event after error = %+v, want zero", e)
			}
		})
	}
}

func TestUnmarshalDetectionErrors(t *testing.T) {
	var d Detection
	if err := UnmarshalDetection(frame(WireEventV1, nil), &d); !errors.Is(err, ErrUnknownVersion) ||
		!strings.Contains(err.Error(), "unmarshal detection: tag 0x01 is an event") {
		t.Fatalf("event tag: err = %v", err)
	}
	bad := frame(WireDetectionV1, []byte{0x62, 0x03, 0x0a, 0x05, 'k'}) // fields: key runs past its entry
	if err := UnmarshalDetection(bad, &d); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "fields.key") {
		t.Fatalf("bad map entry: err = %v", err)
	}
}

// TestTruncated cuts every fixture at every length: each prefix must be an
// error that wraps ErrTruncated, never a shorter valid record or a panic.
func TestTruncated(t *testing.T) {
	for _, c := range eventCases(t) {
		truncated(t, eventWire(), c.e)
	}
	for _, c := range detectionCases() {
		truncated(t, detectionWire(), c.d)
	}
}

func truncated[T any](t *testing.T, c codec[T], v T) {
	t.Helper()
	b := c.marshal(nil, &v)
	for n := range len(b) {
		var got T
		if err := c.unmarshal(b[:n], &got); !errors.Is(err, ErrTruncated) {
			t.Fatalf("%+v\ncut to %d of %d bytes: err = %v, want ErrTruncated", v, n, len(b), err)
		}
	}
}

// unknownFields returns one field of every wire type with numbers this
// version does not use, as a newer writer might add them.
func unknownFields() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1000, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<40)
	b = protowire.AppendTag(b, 1001, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 7)
	b = protowire.AppendTag(b, 1002, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 8)
	b = protowire.AppendTag(b, 1003, protowire.BytesType)
	b = protowire.AppendString(b, "a field from the future")
	b = protowire.AppendTag(b, 1004, protowire.StartGroupType)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, 1004, protowire.EndGroupType)
	return b
}

// TestUnknownFieldsSkipped adds unknown fields at the top level and inside
// nested messages: a v1 reader must decode what it knows and skip the
// rest, which is what lets a field be added without a new tag.
func TestUnknownFieldsSkipped(t *testing.T) {
	unknown := unknownFields()
	for _, c := range eventCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var msg []byte
			msg = append(msg, unknown...)
			msg = append(msg, body(t, MarshalEvent(nil, &c.e))...)
			msg = append(msg, unknown...)
			// Nested: an extra Resource and an extra Flow occurrence that
			// hold only unknown fields (a Flow seen twice merges).
			if c.e.Flow != nil {
				msg = protowire.AppendTag(msg, 25, protowire.BytesType)
				msg = protowire.AppendBytes(msg, unknown)
			}
			want := emptyToNil(c.e)
			msg = protowire.AppendTag(msg, 24, protowire.BytesType)
			msg = protowire.AppendBytes(msg, append(unknown, 0x0a, 0x01, 'x'))
			want.Resources = append(append([]Resource(nil), want.Resources...), Resource{ARN: "x"})
			var got Event
			if err := UnmarshalEvent(frame(WireEventV1, msg), &got); err != nil {
				t.Fatalf("UnmarshalEvent: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("with unknown fields:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	for _, c := range detectionCases() {
		msg := append(append([]byte(nil), unknown...), body(t, MarshalDetection(nil, &c.d))...)
		var got Detection
		if err := UnmarshalDetection(frame(WireDetectionV1, msg), &got); err != nil {
			t.Fatalf("%s: UnmarshalDetection: %v", c.name, err)
		}
		if want := emptyToNil(c.d); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s with unknown fields:\n got %+v\nwant %+v", c.name, got, want)
		}
	}
}

// TestAllocs checks the promises in the doc comments: encoding into a
// buffer with room does not allocate, and decoding into a reused value
// allocates once, for the strings.
func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts differ under -cover and -race")
	}
	for _, c := range eventCases(t) {
		allocs(t, eventWire(), c.name, c.e)
	}
	for _, c := range detectionCases() {
		allocs(t, detectionWire(), c.name, c.d)
	}
}

func allocs[T any](t *testing.T, c codec[T], name string, v T) {
	t.Helper()
	buf := c.marshal(nil, &v)
	if n := testing.AllocsPerRun(50, func() { buf = c.marshal(buf[:0], &v) }); n != 0 {
		t.Errorf("%s: encoding allocates %v times, want 0", name, n)
	}
	var reused T
	if err := c.unmarshal(buf, &reused); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { _ = c.unmarshal(buf, &reused) }); n > 1 {
		t.Errorf("%s: decoding into a reused value allocates %v times, want at most 1", name, n)
	}
}
