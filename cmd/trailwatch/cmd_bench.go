package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
	"github.com/trailwatch/trailwatch/internal/orggen"
	"github.com/trailwatch/trailwatch/schemas"
)

// defaultDataset is where the real CloudTrail dataset sits beside a
// checkout of the project.
const defaultDataset = "../shared/datasets/cloudtrail-sans-s3-ransomware"

// runBench measures a stage's throughput against a floor measured in the
// same run. Only ingest is measurable in this version.
func runBench(ctx context.Context, inv *invocation) error {
	fs := inv.flags("ingest [--dataset DIR] [--large-objects N] [--large-records N]")
	cfgPath := configFlag(fs)
	dataset := fs.String("dataset", defaultDataset, "`folder` of real CloudTrail .json.gz delivery files for the small-object run (generated logs when it is missing)")
	largeObjects := fs.Int("large-objects", 24, "large objects in the large-object run")
	largeRecords := fs.Int("large-records", 20000, "records per large object")
	copies := fs.Int("small-copies", 1, "upload the small objects this many times under different keys, for a longer small-object run")
	only := fs.String("only", "", "run only the small or the large objects")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of each run's ingest phase to `file`.small and `file`.large")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "ingest" {
		return usageError{"name the stage to measure: ingest (the other stages come with their own versions)"}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := lifecycle.NewLogger(cfg.Log, inv.stderr).With("role", "bench")
	s3c, err := cfg.S3.S3(ctx)
	if err != nil {
		return err
	}
	getter, err := objectGetter(ctx, &cfg)
	if err != nil {
		return err
	}
	small, source, err := benchSmallObjects(ctx, *dataset)
	if err != nil {
		return err
	}
	large, err := ingest.LargeBenchObjects(small, *largeObjects, *largeRecords)
	if err != nil {
		return err
	}
	small, err = ingest.CopyBenchObjects(small, *copies)
	if err != nil {
		return err
	}
	fmt.Fprintf(inv.stderr, "bench ingest: %d small objects (%s), %d large objects of %d records; broker %s, S3 %s; GOMAXPROCS %d\n",
		len(small), source, len(large), *largeRecords, strings.Join(cfg.Kafka.Brokers, ","), cfg.S3.Endpoint, runtime.GOMAXPROCS(0))

	tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tobjects\tevents\tMB gz\twall s\tevents/s\tevents/CPU-s\tfloor\tratio\tstd floor\tstd ratio\t")
	for _, run := range []struct {
		name    string
		objects []ingest.BenchObject
	}{{"small", small}, {"large", large}} {
		if *only != "" && *only != run.name {
			continue
		}
		bucket := fmt.Sprintf("trailwatch-bench-%s-%d", run.name, time.Now().Unix())
		bcfg := ingest.BenchConfig{
			Ingest: cfg.Ingest, Kafka: cfg.Kafka, S3: s3c, Getter: getter, Bucket: bucket, Objects: run.objects, Logger: logger,
		}
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile + "." + run.name)
			if err != nil {
				return err
			}
			defer f.Close()
			bcfg.CPUProfile = f
		}
		res, err := ingest.BenchIngest(ctx, bcfg)
		if err != nil {
			return fmt.Errorf("bench %s objects: %w", run.name, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.0f\t%.0f\t%.0f\t%.2f\t%.0f\t%.2f\t\n", run.name, res.Objects, res.Events,
			float64(res.Bytes)/1e6, res.Wall.Seconds(), res.EventsPerSecond, res.EventsPerCPUSecond,
			res.FloorEventsPerCPUSecond, res.Ratio, res.StdFloorEventsPerCPUSecond, res.StdRatio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(inv.stdout, "\nevents/CPU-s is events per CPU-second of the ingest process (the per-core rate). Both floors fetch and\ngunzip the same objects with the same concurrency and produce nothing; \"floor\" then parses them with\ntrailwatch's own validating JSON parser, \"std floor\" with encoding/json. Floors are in events/CPU-s.")
	return nil
}

// benchSmallObjects reads the dataset's delivery files, or generates an
// organisation's logs when the dataset is not there.
func benchSmallObjects(ctx context.Context, dir string) ([]ingest.BenchObject, string, error) {
	if _, err := os.Stat(dir); err != nil {
		tmp, err := os.MkdirTemp("", "trailwatch-bench-")
		if err != nil {
			return nil, "", err
		}
		defer os.RemoveAll(tmp)
		gcfg := orggen.DefaultConfig()
		gcfg.Events, gcfg.FlowRecords = 30000, 0
		g, err := orggen.New(gcfg, nil)
		if err != nil {
			return nil, "", err
		}
		if _, err := g.Run(ctx, orggen.NewDirSink(tmp)); err != nil {
			return nil, "", err
		}
		dir = tmp
		objs, err := readBenchDir(dir)
		return objs, "generated", err
	}
	objs, err := readBenchDir(dir)
	return objs, dir, err
}

func readBenchDir(dir string) ([]ingest.BenchObject, error) {
	var objs []ingest.BenchObject
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json.gz") || strings.Contains(path, "Digest") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n, err := countRecords(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, _ := filepath.Rel(dir, path)
		objs = append(objs, ingest.BenchObject{Key: "bench/" + filepath.ToSlash(rel), Body: b, Events: n})
		return nil
	})
	if err == nil && len(objs) == 0 {
		err = errors.New("no .json.gz files found")
	}
	return objs, err
}

// countRecords decodes a delivery file to count its records.
func countRecords(gz []byte) (int, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, err
	}
	var c recordCounter
	if err := ingest.NewCloudTrailDecoder(ingest.DefaultLimits()).Decode(zr, ingest.ObjectInfo{}, &c); err != nil {
		return 0, err
	}
	return c.n, nil
}

type recordCounter struct{ n int }

func (c *recordCounter) Event(*schemas.Event) error                         { c.n++; return nil }
func (c *recordCounter) BadRecord(int64, *ingest.DecodeError, []byte) error { return nil }
