package orggen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"
)

// Generator writes one planned run. Build it with New; Run may be called
// more than once and writes the same bytes each time.
type Generator struct {
	cfg Config
	log *slog.Logger
	w   *world
}

// Summary reports what a run wrote.
type Summary struct {
	// Objects counts every object written: CloudTrail, Digest and Flow
	// ones; FlowParquetObjects the flow ones written as Parquet.
	Objects, CloudTrailObjects, DigestObjects, FlowObjects, FlowParquetObjects int
	// Events and FlowRecords count the CloudTrail events and flow records
	// written.
	Events, FlowRecords int
	// Bytes is what was written (compressed); RawBytes the CloudTrail
	// JSON before compression.
	Bytes, RawBytes int64
	// Elapsed is how long Run took.
	Elapsed time.Duration
	// GroundTruth describes the run and its scenarios.
	GroundTruth *GroundTruth
}

// String is the one-line summary the command prints.
func (s *Summary) String() string {
	secs := s.Elapsed.Seconds()
	perEvent := 0.0
	if s.Events > 0 {
		perEvent = float64(s.RawBytes) / float64(s.Events)
	}
	return fmt.Sprintf("%d objects (%d cloudtrail, %d digest, %d flow of which %d parquet), %d events, %d flow records, %s written (%.0f B/event raw) in %s: %.0f events/s, %.0f flow records/s",
		s.Objects, s.CloudTrailObjects, s.DigestObjects, s.FlowObjects, s.FlowParquetObjects, s.Events, s.FlowRecords, byteSize(s.Bytes), perEvent,
		s.Elapsed.Round(time.Millisecond), float64(s.Events)/secs, float64(s.FlowRecords)/secs)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}

// New validates cfg and plans the run: the organisation, sessions,
// scenarios and the size of every object.
func New(cfg Config, log *slog.Logger) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid gen config: %w", err)
	}
	cat, err := newCatalog(apiDefs)
	if err != nil {
		return nil, fmt.Errorf("api catalogue: %w", err)
	}
	w, err := newWorld(cfg, cat)
	if err != nil {
		return nil, fmt.Errorf("plan run: %w", err)
	}
	log.Info("gen_planned", "org_id", w.org.id, "accounts", len(w.org.accounts), "identities", len(w.org.idents),
		"cloudtrail_objects", len(w.ctFiles), "flow_objects", len(w.flowFiles), "flow_parquet_objects", w.flowParquetFiles(),
		"planned_events", len(w.fixed),
		"scenarios", len(w.scenarios), "start", cfg.Start.UTC().Format(time.RFC3339), "duration", cfg.Duration)
	return &Generator{cfg: cfg, log: log, w: w}, nil
}

// worker holds one goroutine's reusable buffers.
type worker struct {
	ct   *ctWriter
	raw  []byte
	out  bytes.Buffer
	gz   *gzip.Writer
	recs []flowRec
	// pq writes Parquet flow logs; made at the worker's first one.
	pq *flowParquetWriter
}

// Run generates every object and writes it to sink.
func (g *Generator) Run(ctx context.Context, sink Sink) (*Summary, error) {
	w := g.w
	started := time.Now()
	conc := g.cfg.Concurrency
	if conc == 0 {
		conc = 16
		if h, ok := sink.(concurrencyHint); ok {
			conc = h.DefaultConcurrency()
		}
	}
	sum := &Summary{}
	ctResults := make([]ctResult, len(w.ctFiles))
	flowIdx := make([][]int, len(w.flowFiles))
	flowKeys := make([]string, len(w.flowFiles))
	var bytesOut, rawOut, events, flows atomic.Int64
	var next atomic.Int64
	nJobs := int64(len(w.ctFiles) + len(w.flowFiles))

	eg, egCtx := errgroup.WithContext(ctx)
	for range conc {
		eg.Go(func() error {
			ctx := egCtx
			wk := &worker{ct: newCTWriter(w)}
			var err error
			if wk.gz, err = gzip.NewWriterLevel(&wk.out, g.cfg.GzipLevel); err != nil {
				return fmt.Errorf("gzip writer: %w", err)
			}
			for {
				j := next.Add(1) - 1
				if j >= nJobs || ctx.Err() != nil {
					return ctx.Err()
				}
				var bucket, key string
				if j < int64(len(w.ctFiles)) {
					f := w.ctFiles[j]
					wk.raw = wk.ct.file(wk.raw[:0], f)
					key = w.ctKey(f, &wk.ct.r)
					bucket = g.cfg.TrailBucket
					res := &ctResults[j]
					res.key, res.oldest, res.newest = key, wk.ct.oldest, wk.ct.newest
					if g.cfg.Digests {
						res.sha256 = sha256.Sum256(wk.raw)
					}
					events.Add(int64(f.n + len(f.fixed)))
					rawOut.Add(int64(len(wk.raw)))
					if err := wk.compress(); err != nil {
						return fmt.Errorf("compress %s: %w", key, err)
					}
				} else {
					i := j - int64(len(w.ctFiles))
					f := w.flowFiles[i]
					if key, flowIdx[i], err = wk.flow(w, f, g.cfg.GzipLevel); err != nil {
						return err
					}
					bucket = g.cfg.FlowBucket
					flowKeys[i] = key
					flows.Add(int64(f.n + len(f.injected)))
				}
				if err := sink.Put(ctx, bucket, key, wk.out.Bytes()); err != nil {
					return fmt.Errorf("put %s/%s: %w", bucket, key, err)
				}
				bytesOut.Add(int64(wk.out.Len()))
			}
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	sum.CloudTrailObjects, sum.FlowObjects, sum.FlowParquetObjects = len(w.ctFiles), len(w.flowFiles), w.flowParquetFiles()

	if g.cfg.Digests && len(w.ctFiles) > 0 {
		objs, err := w.digests(ctResults)
		if err != nil {
			return nil, err
		}
		n, err := g.putAll(ctx, sink, objs, conc)
		if err != nil {
			return nil, err
		}
		bytesOut.Add(n)
		sum.DigestObjects = len(objs)
	}

	gt := w.groundTruth()
	for i, f := range w.flowFiles {
		if f.scen == nil {
			continue
		}
		for k := range gt.Scenarios {
			if gt.Scenarios[k].Name == f.scen.def.name {
				gt.Scenarios[k].FlowRecords = append(gt.Scenarios[k].FlowRecords,
					FlowRecordRef{Bucket: g.cfg.FlowBucket, Key: flowKeys[i], Indexes: flowIdx[i]})
			}
		}
	}
	sum.GroundTruth = gt
	sum.Objects = sum.CloudTrailObjects + sum.FlowObjects + sum.DigestObjects
	sum.Events, sum.FlowRecords = int(events.Load()), int(flows.Load())
	sum.Bytes, sum.RawBytes = bytesOut.Load(), rawOut.Load()
	sum.Elapsed = time.Since(started)
	g.log.Info("gen_done", "objects", sum.Objects, "events", sum.Events, "flow_records", sum.FlowRecords,
		"bytes", sum.Bytes, "elapsed", sum.Elapsed)
	return sum, nil
}

// compress gzips wk.raw into wk.out.
func (wk *worker) compress() error {
	wk.out.Reset()
	wk.gz.Reset(&wk.out)
	if _, err := wk.gz.Write(wk.raw); err != nil {
		return err
	}
	return wk.gz.Close()
}

// flow renders flow file f into wk.out, ready to write, and names it: a
// text file is gzipped, a Parquet one compresses its pages as it goes.
// It returns the key and the indexes of the injected records.
func (wk *worker) flow(w *world, f *flowFile, gzipLevel int) (string, []int, error) {
	var idx []int
	var r rng
	if !f.parquet {
		wk.raw, idx, r = w.flowFile(wk.raw[:0], f, &wk.recs)
		key := w.flowKey(f, &r)
		if err := wk.compress(); err != nil {
			return "", nil, fmt.Errorf("compress %s: %w", key, err)
		}
		return key, idx, nil
	}
	if wk.pq == nil {
		pq, err := newFlowParquetWriter(gzipLevel)
		if err != nil {
			return "", nil, err
		}
		wk.pq = pq
	}
	wk.out.Reset()
	idx, r, err := wk.pq.file(w, &wk.out, f, &wk.recs)
	if err != nil {
		return "", nil, fmt.Errorf("write parquet flow log %s delivered at %s: %w",
			f.v.flowLog, time.Unix(f.deliver, 0).UTC().Format(time.RFC3339), err)
	}
	return w.flowKey(f, &r), idx, nil
}

// putAll compresses and writes objs with conc writers; it returns the
// bytes written.
func (g *Generator) putAll(ctx context.Context, sink Sink, objs []object, conc int) (int64, error) {
	var n atomic.Int64
	var next atomic.Int64
	eg, egCtx := errgroup.WithContext(ctx)
	for range conc {
		eg.Go(func() error {
			ctx := egCtx
			wk := &worker{}
			var err error
			if wk.gz, err = gzip.NewWriterLevel(&wk.out, g.cfg.GzipLevel); err != nil {
				return fmt.Errorf("gzip writer: %w", err)
			}
			for {
				j := next.Add(1) - 1
				if j >= int64(len(objs)) || ctx.Err() != nil {
					return ctx.Err()
				}
				o := objs[j]
				wk.raw = o.body
				if err := wk.compress(); err != nil {
					return fmt.Errorf("compress %s: %w", o.key, err)
				}
				if err := sink.Put(ctx, o.bucket, o.key, wk.out.Bytes()); err != nil {
					return fmt.Errorf("put %s/%s: %w", o.bucket, o.key, err)
				}
				n.Add(int64(wk.out.Len()))
			}
		})
	}
	return n.Load(), eg.Wait()
}

// appendLogKey appends the key of a delivery object up to its random
// part: [prefix/]AWSLogs/<dir>/YYYY/MM/DD/<name>_<YYYYMMDDTHHMMZ>_, the
// layout CloudTrail and VPC flow logs share.
func (w *world) appendLogKey(b []byte, dir, name string, deliver int64) []byte {
	b = append(b, w.prefix()...)
	b = append(b, "AWSLogs/"...)
	b = append(b, dir...)
	b = append(b, '/')
	b = appendDatePath(b, deliver)
	b = append(b, '/')
	b = append(b, name...)
	b = append(b, '_')
	b = appendKeyTime(b, deliver)
	return append(b, '_')
}

// ctKey names a CloudTrail object; r is the file's stream after its
// content, so the random part is as reproducible as the content.
func (w *world) ctKey(f *ctFile, r *rng) string {
	region := regions[f.region].name
	b := w.appendLogKey(make([]byte, 0, 160), w.org.id+"/"+f.acct.id+"/CloudTrail/"+region, f.acct.id+"_CloudTrail_"+region, f.deliver)
	b = appendAlnum(b, r, 16)
	return string(append(b, ".json.gz"...))
}

// flowKey names a flow log object. A text object and a Parquet one
// drawn from the same f differ only in their extension.
func (w *world) flowKey(f *flowFile, r *rng) string {
	region := regions[f.v.region].name
	b := w.appendLogKey(make([]byte, 0, 160), f.acct.id+"/vpcflowlogs/"+region, f.acct.id+"_vpcflowlogs_"+region+"_"+f.v.flowLog, f.deliver)
	b = appendRandom(b, r, 8, hexDigits)
	if f.parquet {
		return string(append(b, ".log.parquet"...))
	}
	return string(append(b, ".log.gz"...))
}

// flowParquetFiles counts the flow files delivered as Parquet.
func (w *world) flowParquetFiles() int {
	n := 0
	for _, f := range w.flowFiles {
		n += btoi(f.parquet)
	}
	return n
}

// flowFile appends the content of text file f (header and records) to
// b. It returns the record indexes of the injected records and the file's
// stream for naming it.
func (w *world) flowFile(b []byte, f *flowFile, scratch *[]flowRec) ([]byte, []int, rng) {
	region := regions[f.v.region].name
	b = append(b, f.v.format.header...)
	b = append(b, '\n')
	idx, r, _ := w.flowRecords(f, scratch, func(rec *flowRec) error {
		b = appendFlowRec(b, f.v.format, f.acct, region, f.v, rec)
		return nil
	})
	return b, idx, r
}

// flowRecords draws the records of f, background and injected ones mixed,
// and calls emit with each in file order; rec is only valid during the
// call. Whatever the file's format, the same f gives the same records. It
// returns the indexes of the injected records, the file's stream after
// its content (for naming it) and the first error from emit, which stops
// the file.
func (w *world) flowRecords(f *flowFile, scratch *[]flowRec, emit func(rec *flowRec) error) ([]int, rng, error) {
	r := newRNG(f.seed)
	g := flowGen{r: &r, v: f.v, pools: w.org.pools, slot: w.start + int64(f.slot)*w.slotSec, span: w.slotSec}
	var idx []int
	total := f.n + len(f.injected)
	injLeft, bgLeft := len(f.injected), f.n
	if cap(*scratch) == 0 {
		*scratch = make([]flowRec, 1)
	}
	rec := &(*scratch)[0]
	for k := 0; k < total; k++ {
		next := rec
		if injLeft > 0 && (bgLeft == 0 || r.intn(injLeft+bgLeft) < injLeft) {
			next = &f.injected[len(f.injected)-injLeft]
			injLeft--
			idx = append(idx, k)
		} else {
			bgLeft--
			g.next(rec)
		}
		if err := emit(next); err != nil {
			return nil, r, err
		}
	}
	return idx, r, nil
}
