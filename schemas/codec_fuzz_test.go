package schemas

import (
	"bytes"
	"reflect"
	"testing"
)

// The fuzz tests feed the decoders arbitrary bytes, seeded with every
// fixture, cut and whole. The property: a decoder never panics, and when it
// accepts an input, what it decoded encodes to bytes that decode to the
// same value and encode to the same bytes again (the encoding is stable),
// whether decoded into a fresh value or into one reused from a previous
// record.
//
//	go test ./schemas -run '^$' -fuzz FuzzUnmarshalEvent -fuzztime 60s

func FuzzUnmarshalEvent(f *testing.F) {
	var seeds [][]byte
	for _, c := range eventCases(f) {
		seeds = append(seeds, MarshalEvent(nil, &c.e))
	}
	fuzzDecode(f, eventWire(), seeds)
}

func FuzzUnmarshalDetection(f *testing.F) {
	var seeds [][]byte
	for _, c := range detectionCases() {
		seeds = append(seeds, MarshalDetection(nil, &c.d))
	}
	fuzzDecode(f, detectionWire(), seeds)
}

// fuzzDecode adds every seed record whole, cut in half and with unknown
// fields and a trailing byte, then checks the properties above. The last
// seed is the richest record: the reused value starts out holding it.
func fuzzDecode[T any](f *testing.F, c codec[T], seeds [][]byte) {
	for _, b := range seeds {
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(frame(c.tag, append(unknownFields(), body(f, b)...)), 0))
	}
	richest := seeds[len(seeds)-1]
	f.Fuzz(func(t *testing.T, b []byte) {
		var fresh, reused T
		if err := c.unmarshal(richest, &reused); err != nil {
			t.Fatalf("seed: %v", err)
		}
		err := c.unmarshal(b, &fresh)
		errReused := c.unmarshal(b, &reused)
		if (err == nil) != (errReused == nil) {
			t.Fatalf("fresh err = %v, reused err = %v", err, errReused)
		}
		if err != nil {
			if !reflect.ValueOf(fresh).IsZero() || !reflect.ValueOf(reused).IsZero() {
				t.Fatalf("value not zero after error %v", err)
			}
			return
		}
		// Compare encodings, not values: the encoding is deterministic,
		// and a NaN latitude is not equal to itself.
		enc := c.marshal(nil, &fresh)
		if encReused := c.marshal(nil, &reused); !bytes.Equal(enc, encReused) {
			t.Fatalf("decoding into a reused value differs:\nfresh  %x\nreused %x", enc, encReused)
		}
		var again T
		if err := c.unmarshal(enc, &again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if enc2 := c.marshal(nil, &again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\nfirst  %x\nsecond %x", enc, enc2)
		}
	})
}
