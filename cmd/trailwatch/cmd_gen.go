package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/lifecycle"
	"github.com/trailwatch/trailwatch/internal/orggen"
)

// runGen generates an organisation's CloudTrail and VPC flow logs, with
// injected attack scenarios and their ground truth, into a local folder
// (--out: DIR/<bucket>/<key>, and DIR/ground-truth.json) or S3 (the s3
// config section: endpoint, region, and credentials from
// TRAILWATCH_S3_ACCESS_KEY_ID / TRAILWATCH_S3_SECRET_ACCESS_KEY; the
// ground truth goes to s3://<truth-bucket>/ground-truth/<seed>.json).
func runGen(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--out DIR | --s3-bucket BUCKET --flow-bucket BUCKET] [--seed N] [--events N] [--flow-format text|parquet|mixed] [--scenario all] ...")
	cfgPath := configFlag(fs)
	def := orggen.DefaultConfig()
	seed := fs.Uint64("seed", def.Seed, "seed: same seed and flags, same bytes")
	accounts := fs.Int("accounts", def.Accounts, "number of accounts in the organisation")
	start := fs.String("start", def.Start.Format("2006-01-02"), "first day (YYYY-MM-DD) or instant (RFC 3339, on a 5-minute boundary) of the window, or yesterday/today (UTC; not reproducible across days)")
	duration := fs.Duration("duration", def.Duration, "length of the window")
	events := fs.Int("events", def.Events, "total CloudTrail events (0: none)")
	flowRecords := fs.Int("flow-records", def.FlowRecords, "background VPC flow log records (0: none)")
	flowFormat := fs.String("flow-format", def.FlowFormat, "VPC flow log file format: text (.log.gz), parquet (.log.parquet), or mixed (some flow logs deliver Parquet, the rest text)")
	scenarios := fs.String("scenario", "", "attack scenarios to inject, comma-separated, or all: "+strings.Join(orggen.Scenarios, ", "))
	digests := fs.Bool("digests", false, "also write hourly CloudTrail digest files")
	out := fs.String("out", "", "write to this local `folder` as DIR/<bucket>/<key> instead of S3")
	trailBucket := fs.String("s3-bucket", def.TrailBucket, "bucket of the organisation trail")
	flowBucket := fs.String("flow-bucket", def.FlowBucket, "bucket of the VPC flow logs")
	prefix := fs.String("prefix", "", "S3 key prefix before AWSLogs/")
	concurrency := fs.Int("concurrency", 0, "objects generated and written at once (0: CPUs for --out, 16 for S3)")
	createBuckets := fs.Bool("create-buckets", true, "create the S3 buckets when missing")
	truthBucket := fs.String("truth-bucket", "trailwatch-gen", "bucket for ground-truth/<seed>.json in S3 (not a log bucket: those announce every object to ingest)")
	truthFile := fs.String("ground-truth", "", "also write the ground truth JSON to this local `file`")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	startTime, err := parseStart(*start, time.Now())
	if err != nil {
		return usageError{err.Error()}
	}
	cfg := def
	cfg.Seed, cfg.Accounts, cfg.Start, cfg.Duration = *seed, *accounts, startTime, *duration
	cfg.Events, cfg.FlowRecords, cfg.FlowFormat, cfg.Digests = *events, *flowRecords, *flowFormat, *digests
	cfg.TrailBucket, cfg.FlowBucket, cfg.KeyPrefix, cfg.Concurrency = *trailBucket, *flowBucket, *prefix, *concurrency
	for s := range strings.SplitSeq(*scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Scenarios = append(cfg.Scenarios, s)
		}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	file, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := lifecycle.NewLogger(file.Log, inv.stderr)

	var sink orggen.Sink
	if *out != "" {
		sink = orggen.NewDirSink(*out)
	} else {
		client, err := file.S3.S3(ctx)
		if err != nil {
			return err
		}
		sink = orggen.NewS3Sink(client, file.S3.Region, *createBuckets)
	}
	g, err := orggen.New(cfg, logger)
	if err != nil {
		return err
	}
	sum, err := g.Run(ctx, sink)
	if err != nil {
		return err
	}
	truth, err := json.MarshalIndent(sum.GroundTruth, "", "  ")
	if err != nil {
		return fmt.Errorf("encode ground truth: %w", err)
	}
	truth = append(truth, '\n')
	truthAt := ""
	if *out != "" {
		truthAt = filepath.Join(*out, "ground-truth.json")
		if err := os.WriteFile(truthAt, truth, 0o644); err != nil {
			return fmt.Errorf("write ground truth: %w", err)
		}
	} else {
		// Not in a log bucket: their notifications announce every new
		// object, and ingest would dead-letter one that is not a log.
		key := "ground-truth/" + strconv.FormatUint(cfg.Seed, 10) + ".json"
		if err := sink.Put(ctx, *truthBucket, key, truth); err != nil {
			return err
		}
		truthAt = "s3://" + *truthBucket + "/" + key
	}
	if *truthFile != "" {
		if err := os.WriteFile(*truthFile, truth, 0o644); err != nil {
			return fmt.Errorf("write ground truth: %w", err)
		}
	}
	fmt.Fprintf(inv.stdout, "gen: %s; ground truth %s\n", sum, truthAt)
	return nil
}

// parseStart reads --start: a date, an RFC 3339 instant, or
// yesterday/today relative to now (UTC midnight).
func parseStart(s string, now time.Time) (time.Time, error) {
	midnight := now.UTC().Truncate(24 * time.Hour)
	switch s {
	case "today":
		return midnight, nil
	case "yesterday":
		return midnight.Add(-24 * time.Hour), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start %q is not YYYY-MM-DD, RFC 3339, yesterday or today", s)
	}
	return t.UTC(), nil
}
