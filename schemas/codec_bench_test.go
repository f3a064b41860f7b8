package schemas

import (
	"runtime"
	"testing"
)

// The benchmarks behind the choice of wire format (CODEC.md). Each runs
// the fixtures of the round-trip tests through one codec:
//
//	go test ./schemas -run '^$' -bench 'Codec' -benchmem
//
// MB/s counts the bytes of the original record (Event.Raw) carried per
// second, the same for every codec; B/rec is the encoded size; cpu-ns/op
// is the CPU time of the benchmark's own thread per operation (Linux
// only), which unlike ns/op does not count waiting for a core on a busy
// machine, nor the garbage collector's background work.

func BenchmarkEventCodec(b *testing.B) {
	for _, c := range []codec[Event]{eventWire(), eventJSON()} {
		b.Run(c.name, func(b *testing.B) { benchEventCodec(b, c) })
	}
}

func BenchmarkDetectionCodec(b *testing.B) {
	for _, c := range []codec[Detection]{detectionWire(), detectionJSON()} {
		b.Run(c.name, func(b *testing.B) { benchDetectionCodec(b, c) })
	}
}

// measure runs loop under b.Loop and reports the thread CPU time per
// operation beside the usual metrics.
func measure(b *testing.B, rawBytes int, loop func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rawBytes > 0 {
		b.SetBytes(int64(rawBytes))
	}
	b.ReportAllocs()
	start, ok := threadCPUTime()
	for b.Loop() {
		loop()
	}
	if end, _ := threadCPUTime(); ok {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// benchEventCodec measures encode, decode and both (what an enrich worker
// does per event) for every real-world fixture, reusing the buffer and the
// Event as a worker's loop would.
func benchEventCodec(b *testing.B, c codec[Event]) {
	for _, ec := range eventCases(b) {
		if len(ec.e.Raw) == 0 || ec.name == "every_field" {
			continue // synthetic cases, not real records
		}
		e := ec.e
		enc := c.marshal(nil, &e)
		b.Run(ec.name, func(b *testing.B) {
			b.Run("encode", func(b *testing.B) {
				buf := make([]byte, 0, 2*len(enc))
				measure(b, len(e.Raw), func() { buf = c.marshal(buf[:0], &e) })
				b.ReportMetric(float64(len(enc)), "B/rec")
			})
			b.Run("decode", func(b *testing.B) {
				var got Event
				measure(b, len(e.Raw), func() {
					if err := c.unmarshal(enc, &got); err != nil {
						b.Fatal(err)
					}
				})
			})
			b.Run("roundtrip", func(b *testing.B) {
				var got Event
				buf := make([]byte, 0, 2*len(enc))
				measure(b, len(e.Raw), func() {
					if err := c.unmarshal(enc, &got); err != nil {
						b.Fatal(err)
					}
					buf = c.marshal(buf[:0], &got)
				})
			})
		})
	}
}

func benchDetectionCodec(b *testing.B, c codec[Detection]) {
	for _, dc := range detectionCases() {
		if dc.d.RuleID == "" || dc.name == "every_field" {
			continue
		}
		d := dc.d
		enc := c.marshal(nil, &d)
		b.Run(dc.name, func(b *testing.B) {
			b.Run("encode", func(b *testing.B) {
				buf := make([]byte, 0, 2*len(enc))
				measure(b, 0, func() { buf = c.marshal(buf[:0], &d) })
				b.ReportMetric(float64(len(enc)), "B/rec")
			})
			b.Run("decode", func(b *testing.B) {
				var got Detection
				measure(b, 0, func() {
					if err := c.unmarshal(enc, &got); err != nil {
						b.Fatal(err)
					}
				})
			})
		})
	}
}
