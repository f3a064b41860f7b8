package ingest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailwatch/trailwatch/schemas"
)

// datasetObjects loads the real CloudTrail delivery files that sit beside
// the project (../shared/datasets), gzip as delivered. Benchmarks that need
// them report a skip when the folder is not there.
func datasetObjects(tb testing.TB) (objs [][]byte, events int) {
	tb.Helper()
	dir := filepath.Join("..", "..", "shared", "datasets", "cloudtrail-sans-s3-ransomware")
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".gz" {
			return err
		}
		b, err := os.ReadFile(path)
		objs = append(objs, b)
		return err
	})
	if err != nil || len(objs) == 0 {
		tb.Skipf("dataset not found at %s: %v", dir, err)
	}
	c := &countEmitter{}
	dec := NewCloudTrailDecoder(DefaultLimits())
	for _, o := range objs {
		s, err := OpenStream(bytes.NewReader(o), DefaultLimits())
		if err != nil {
			tb.Fatal(err)
		}
		if err := dec.Decode(s, ObjectInfo{}, c); err != nil {
			tb.Fatal(err)
		}
	}
	return objs, c.events
}

type countEmitter struct{ events, bad int }

func (c *countEmitter) Event(*schemas.Event) error                  { c.events++; return nil }
func (c *countEmitter) BadRecord(int64, *DecodeError, []byte) error { c.bad++; return nil }

func TestDatasetDecodes(t *testing.T) {
	objs, events := datasetObjects(t)
	// The dataset's README: 3,872 files holding 30,477 records.
	if len(objs) != 3872 || events != 30477 {
		t.Fatalf("decoded %d events from %d files, want 30477 from 3872", events, len(objs))
	}
}

// BenchmarkCloudTrailDataset measures gunzip + decode of the real dataset,
// and in the same run the floor: gunzip plus one full JSON parse of each
// object (no framing, no field extraction). The ratio is what DESIGN.md
// asks to stay at or above 0.8 for the whole ingest path.
func BenchmarkCloudTrailDataset(b *testing.B) {
	objs, events := datasetObjects(b)
	var compressed int64
	for _, o := range objs {
		compressed += int64(len(o))
	}
	b.Run("floor", func(b *testing.B) {
		p := jsonParser{maxDepth: 64}
		s := NewStream(DefaultLimits())
		buf := make([]byte, 0, 1<<20)
		b.SetBytes(compressed)
		for b.Loop() {
			for _, o := range objs {
				_ = s.Reset(bytes.NewReader(o))
				w := bytes.NewBuffer(buf[:0])
				if _, err := io.Copy(w, s); err != nil {
					b.Fatal(err)
				}
				p.reset(w.Bytes())
				p.skip()
				if p.err != nil {
					b.Fatal(p.err)
				}
				buf = w.Bytes()
			}
		}
		b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("decode", func(b *testing.B) {
		dec := NewCloudTrailDecoder(DefaultLimits())
		c := &countEmitter{}
		s := NewStream(DefaultLimits())
		b.SetBytes(compressed)
		b.ReportAllocs()
		for b.Loop() {
			for _, o := range objs {
				_ = s.Reset(bytes.NewReader(o))
				if err := dec.Decode(s, ObjectInfo{}, c); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
