package orggen

import (
	"context"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// benchWorld plans a default run of the given size and returns a worker
// with its gzip writer, as Run gives each goroutine.
func benchWorld(b *testing.B, events, flows int) (*world, *worker) {
	cfg := DefaultConfig()
	cfg.Events, cfg.FlowRecords = events, flows
	g, err := New(cfg, quietLogger())
	if err != nil {
		b.Fatal(err)
	}
	wk := &worker{ct: newCTWriter(g.w)}
	if wk.gz, err = gzip.NewWriterLevel(&wk.out, cfg.GzipLevel); err != nil {
		b.Fatal(err)
	}
	return g.w, wk
}

// BenchmarkCloudTrailFile measures the hot path of a local run on one
// goroutine: render one delivery file's records and gzip them.
func BenchmarkCloudTrailFile(b *testing.B) {
	w, wk := benchWorld(b, 1_000_000, 0)
	events, rawBytes, gzBytes := 0, 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := w.ctFiles[i%len(w.ctFiles)]
		wk.raw = wk.ct.file(wk.raw[:0], f)
		if err := wk.compress(); err != nil {
			b.Fatal(err)
		}
		events += f.n + len(f.fixed)
		rawBytes += len(wk.raw)
		gzBytes += wk.out.Len()
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(rawBytes)/float64(events), "B/event")
	b.ReportMetric(float64(gzBytes)/float64(events), "gzB/event")
}

// BenchmarkFlowFile measures rendering and compressing flow log files on
// one goroutine.
func BenchmarkFlowFile(b *testing.B) {
	w, wk := benchWorld(b, 0, 2_000_000)
	records, rawBytes := 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := w.flowFiles[i%len(w.flowFiles)]
		wk.raw, _, _ = w.flowFile(wk.raw[:0], f, &wk.recs)
		if err := wk.compress(); err != nil {
			b.Fatal(err)
		}
		records += f.n + len(f.injected)
		rawBytes += len(wk.raw)
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(rawBytes)/float64(records), "B/record")
}

// BenchmarkFlowParquetFile measures writing flow log files as Parquet
// (gzip pages, dictionaries) on one goroutine.
func BenchmarkFlowParquetFile(b *testing.B) {
	w, wk := benchWorld(b, 0, 2_000_000)
	pw, err := newFlowParquetWriter(w.cfg.GzipLevel)
	if err != nil {
		b.Fatal(err)
	}
	records, outBytes := 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := w.flowFiles[i%len(w.flowFiles)]
		wk.out.Reset()
		if _, _, err := pw.file(w, &wk.out, f, &wk.recs); err != nil {
			b.Fatal(err)
		}
		records += f.n + len(f.injected)
		outBytes += wk.out.Len()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(outBytes)/float64(records), "B/record")
}

// discardSink drops every object.
type discardSink struct{}

func (discardSink) Put(context.Context, string, string, []byte) error { return nil }

// BenchmarkRun measures a whole run of 200,000 events on every CPU into a
// sink that drops them (planning excluded): the ceiling of a local run
// before the file system.
func BenchmarkRun(b *testing.B) {
	w, _ := benchWorld(b, 200_000, 0)
	g := &Generator{cfg: w.cfg, log: quietLogger(), w: w}
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		sum, err := g.Run(context.Background(), discardSink{})
		if err != nil {
			b.Fatal(err)
		}
		events += sum.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
