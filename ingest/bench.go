package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/klauspost/compress/gzip"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas"
)

// BenchObject is one object of a benchmark run: its key and gzip body.
type BenchObject struct {
	Key    string
	Body   []byte
	Events int
}

// BenchResult is what one BenchIngest run measured.
type BenchResult struct {
	Objects int
	Events  int64
	Bytes   int64 // compressed
	// Wall is the ingest run's elapsed time; CPU is the process's CPU time
	// (user+system) over it. EventsPerCPUSecond is events/CPU: the
	// per-core rate.
	Wall, CPU          time.Duration
	EventsPerSecond    float64
	EventsPerCPUSecond float64
	// Floor* are the same numbers for the floor: fetching, decompressing
	// and fully parsing the same objects as JSON, with the same
	// concurrency, and nothing else.
	FloorWall, FloorCPU     time.Duration
	FloorEventsPerCPUSecond float64
	// Ratio is EventsPerCPUSecond / FloorEventsPerCPUSecond.
	Ratio float64
	// StdFloor* are the floor with the standard library's encoding/json
	// as the parser (each delivery object unmarshalled into its records),
	// the usual way Go code reads CloudTrail; StdRatio is against it.
	StdFloorCPU                time.Duration
	StdFloorEventsPerCPUSecond float64
	StdRatio                   float64
}

// BenchConfig is one BenchIngest run.
type BenchConfig struct {
	Ingest Config
	Kafka  kafka.Config
	S3     interface {
		ObjectGetter
		PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
		CreateBucket(ctx context.Context, in *s3.CreateBucketInput, opts ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	}
	// Getter reads the objects for the worker and the floors; nil uses S3.
	Getter  ObjectGetter
	Bucket  string
	Objects []BenchObject
	Logger  *slog.Logger
	// CPUProfile, when not nil, receives a CPU profile of the ingest
	// phase alone (not the upload or the floors).
	CPUProfile io.Writer
}

// BenchIngest uploads cfg.Objects to cfg.Bucket, measures the floor over
// them, then announces them on fresh topics and runs an ingest worker in
// this process until every object is committed. It measures CPU time of
// the whole process, so run nothing else in it.
func BenchIngest(ctx context.Context, cfg BenchConfig) (BenchResult, error) {
	var res BenchResult
	if cfg.Getter == nil {
		cfg.Getter = cfg.S3
	}
	if _, err := cfg.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil && !isBucketExists(err) {
		return res, fmt.Errorf("create bucket %s: %w", cfg.Bucket, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, o := range cfg.Objects {
		res.Bytes += int64(len(o.Body))
		res.Events += int64(o.Events)
		g.Go(func() error {
			_, err := cfg.S3.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(o.Key), Body: bytes.NewReader(o.Body)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return res, fmt.Errorf("upload: %w", err)
	}
	res.Objects = len(cfg.Objects)

	// The floor: the same objects, fetched with the same concurrency,
	// decompressed and parsed, nothing produced. It is measured twice and
	// the cheaper run kept, so a collection of the upload's garbage or a
	// busy moment of the shared machine does not lower it (a lower floor
	// would flatter the ratio).
	for range 2 {
		runtime.GC()
		cpu0, t0 := cpuTime(), time.Now()
		if err := benchFloor(ctx, cfg, false); err != nil {
			return res, err
		}
		if cpu := cpuTime() - cpu0; res.FloorCPU == 0 || cpu < res.FloorCPU {
			res.FloorWall, res.FloorCPU = time.Since(t0), cpu
		}
	}
	res.FloorEventsPerCPUSecond = float64(res.Events) / res.FloorCPU.Seconds()
	runtime.GC()
	cpu0 := cpuTime()
	if err := benchFloor(ctx, cfg, true); err != nil {
		return res, err
	}
	res.StdFloorCPU = cpuTime() - cpu0
	res.StdFloorEventsPerCPUSecond = float64(res.Events) / res.StdFloorCPU.Seconds()

	// Fresh topics, so the run reads only its own objects.
	tcfg := kafka.DefaultTopicsConfig()
	tcfg.Prefix = fmt.Sprintf("bench-%d.", time.Now().UnixNano())
	tcfg.Partitions = 6
	admin, err := kafka.NewClient(cfg.Kafka, "bench", nil, nil)
	if err != nil {
		return res, err
	}
	defer admin.Close()
	if _, err := kafka.EnsureTopics(ctx, kadm.NewClient(admin), tcfg, cfg.Logger); err != nil {
		return res, err
	}
	names := tcfg.Names()
	for _, o := range cfg.Objects {
		v, _ := json.Marshal(schemas.Object{V: schemas.ObjectVersion, Bucket: cfg.Bucket, Key: o.Key, Size: int64(len(o.Body))})
		admin.Produce(ctx, &kgo.Record{Topic: names.Name(schemas.TopicObjects), Key: []byte(o.Key), Value: v}, nil)
	}
	if err := admin.Flush(ctx); err != nil {
		return res, fmt.Errorf("announce: %w", err)
	}

	icfg := cfg.Ingest
	icfg.Group = tcfg.Prefix + "ingest"
	icfg.TransactionalID = tcfg.Prefix + "ingest"
	w, err := New(icfg, cfg.Kafka, names, cfg.Getter, cfg.Logger, nil)
	if err != nil {
		return res, err
	}
	done, err := kafka.NewClient(cfg.Kafka, "bench-done", nil, nil,
		kgo.ConsumeTopics(names.Name(schemas.TopicIngested)), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return res, err
	}
	defer done.Close()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
	}
	runtime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	werr := make(chan error, 1)
	go func() { werr <- w.Run(runCtx) }()
	finished := 0
	for finished < res.Objects {
		f := done.PollFetches(ctx)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		select {
		case err := <-werr:
			return res, fmt.Errorf("ingest stopped early: %w", err)
		default:
		}
		finished += f.NumRecords()
	}
	res.Wall, res.CPU = time.Since(t0), cpuTime()-cpu0
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	stop()
	if err := <-werr; err != nil {
		return res, err
	}
	res.EventsPerSecond = float64(res.Events) / res.Wall.Seconds()
	res.EventsPerCPUSecond = float64(res.Events) / res.CPU.Seconds()
	res.Ratio = res.EventsPerCPUSecond / res.FloorEventsPerCPUSecond
	res.StdRatio = res.EventsPerCPUSecond / res.StdFloorEventsPerCPUSecond
	return res, nil
}

// benchFloor fetches, decompresses and fully parses every object, with the
// project's validating parser or, with std, encoding/json. Decompressed
// bytes go to buffers reused across objects, as the worker's own window
// is, so the floor pays for no allocation the worker does not.
func benchFloor(ctx context.Context, cfg BenchConfig, std bool) error {
	var bufs sync.Pool
	var readers sync.Pool
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Ingest.Concurrency)
	for _, o := range cfg.Objects {
		g.Go(func() error {
			out, err := cfg.Getter.GetObject(gctx, &s3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(o.Key)})
			if err != nil {
				return fmt.Errorf("floor get %s: %w", o.Key, err)
			}
			defer out.Body.Close()
			zr, _ := readers.Get().(*gzip.Reader)
			if zr == nil {
				zr, err = gzip.NewReader(out.Body)
			} else {
				err = zr.Reset(out.Body)
			}
			if err != nil {
				return fmt.Errorf("floor gunzip %s: %w", o.Key, err)
			}
			defer readers.Put(zr)
			buf, _ := bufs.Get().(*bytes.Buffer)
			if buf == nil {
				buf = new(bytes.Buffer)
			}
			defer bufs.Put(buf)
			buf.Reset()
			if _, err := buf.ReadFrom(zr); err != nil {
				return fmt.Errorf("floor gunzip %s: %w", o.Key, err)
			}
			if std {
				var d struct{ Records []json.RawMessage }
				if err := json.Unmarshal(buf.Bytes(), &d); err != nil {
					return fmt.Errorf("floor parse %s: %w", o.Key, err)
				}
				return nil
			}
			p := jsonParser{maxDepth: cfg.Ingest.Limits.MaxDepth}
			p.reset(buf.Bytes())
			p.skip()
			if p.err != nil {
				return fmt.Errorf("floor parse %s: %w", o.Key, p.err)
			}
			return nil
		})
	}
	return g.Wait()
}

func isBucketExists(err error) bool {
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	return errors.As(err, &owned) || errors.As(err, &exists)
}

// cpuTime returns this process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LargeBenchObjects builds n delivery objects of perObject records each
// from the records of small objects (real CloudTrail, say), giving every
// copy a new eventID, so the benchmark has large objects of real content.
func LargeBenchObjects(small []BenchObject, n, perObject int) ([]BenchObject, error) {
	var records [][]byte
	c := &rawCopier{}
	dec := NewCloudTrailDecoder(DefaultLimits())
	for _, o := range small {
		zr, err := gzip.NewReader(bytes.NewReader(o.Body))
		if err != nil {
			return nil, err
		}
		c.records = c.records[:0]
		if err := dec.Decode(zr, ObjectInfo{}, c); err != nil {
			return nil, err
		}
		records = append(records, c.records...)
	}
	if len(records) == 0 {
		return nil, errors.New("no records to build large objects from")
	}
	out := make([]BenchObject, n)
	k := 0
	for i := range out {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		_, _ = zw.Write([]byte(`{"Records":[`))
		for j := range perObject {
			if j > 0 {
				_, _ = zw.Write([]byte{','})
			}
			r := records[k%len(records)]
			k++
			// Replace the eventID value with a unique one of the same shape.
			id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j)
			_, _ = zw.Write(replaceEventID(r, id))
		}
		_, _ = zw.Write([]byte(`]}`))
		_ = zw.Close()
		out[i] = BenchObject{
			Key:    fmt.Sprintf("AWSLogs/o-benchbench1/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T1015Z_large%011d.json.gz", i),
			Body:   buf.Bytes(),
			Events: perObject,
		}
	}
	return out, nil
}

// CopyBenchObjects returns n copies of objs, each copy's keys under its own
// prefix and its records given new eventIDs, so every copy's events are
// distinct events.
func CopyBenchObjects(objs []BenchObject, n int) ([]BenchObject, error) {
	if n <= 1 {
		return objs, nil
	}
	out := make([]BenchObject, 0, len(objs)*n)
	for c := range n {
		for i, o := range objs {
			if c == 0 {
				out = append(out, o)
				continue
			}
			body, err := rewriteEventIDs(o.Body, fmt.Sprintf("%08x-%04x", c, i))
			if err != nil {
				return nil, fmt.Errorf("copy %s: %w", o.Key, err)
			}
			out = append(out, BenchObject{Key: fmt.Sprintf("copy%d/%s", c, o.Key), Body: body, Events: o.Events})
		}
	}
	return out, nil
}

// rewriteEventIDs gives every eventID in the gzip body a new value that
// starts with prefix (13 characters) and keeps the value's length.
func rewriteEventIDs(gz []byte, prefix string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	const key = `"eventID":"`
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(key))
		if j < 0 {
			break
		}
		i += j + len(key)
		copy(b[i:min(i+len(prefix), len(b))], prefix)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type rawCopier struct{ records [][]byte }

func (c *rawCopier) Event(e *schemas.Event) error {
	c.records = append(c.records, append([]byte(nil), e.Raw...))
	return nil
}
func (c *rawCopier) BadRecord(int64, *DecodeError, []byte) error { return nil }

func replaceEventID(rec []byte, id string) []byte {
	const key = `"eventID":"`
	i := bytes.Index(rec, []byte(key))
	if i < 0 {
		return rec
	}
	start := i + len(key)
	end := bytes.IndexByte(rec[start:], '"')
	if end < 0 {
		return rec
	}
	out := make([]byte, 0, len(rec)+len(id))
	out = append(out, rec[:start]...)
	out = append(out, id...)
	return append(out, rec[start+end:]...)
}
