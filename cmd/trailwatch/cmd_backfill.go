package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
	"github.com/trailwatch/trailwatch/schemas"
)

// runBackfill lists log objects in S3 over a date range and announces the
// ones not ingested or announced yet on the objects topic, with progress
// on stderr. It reads the kafka, topics, s3 and log sections of the
// config file; what to list comes from the flags. Interrupted (Ctrl-C),
// it exits non-zero, and the same command resumes it: nothing is skipped
// and nothing announced twice. With --retry-failed it also announces again
// the objects ingest dead-lettered, once the cause is fixed.
func runBackfill(ctx context.Context, inv *invocation) error {
	fs := inv.flags("--bucket BUCKET --from YYYY-MM-DD [--to YYYY-MM-DD] [--prefix P] [--org O] [--accounts A,...] [--regions R,...] [--kinds K,...] [--retry-failed [--retry-reasons R,...]] [--dry-run] [--wait]\n\n" +
		"Announces the log objects of the day prefixes from --from to --to that are neither ingested\n" +
		"(the ingested topic) nor announced (the objects topic). Run the same command again to resume.\n\n" +
		"An object ingest dead-lettered (access denied, missing, corrupt, ...) counts as ingested. Once the\n" +
		"cause is fixed (a bucket policy, a KMS key grant, an object restored), --retry-failed announces\n" +
		"such objects again, only those with the reasons given by --retry-reasons if set. An object already\n" +
		"announced again since its failure, by an earlier run or anyone, is not announced twice. Try it\n" +
		"with --dry-run first: the summary counts the objects that would be retried by reason.")
	cfgPath := configFlag(fs)
	def := ingest.DefaultBackfillConfig()
	var buckets, layouts, orgs, accounts, regions, kinds, retryReasons stringList
	fs.Var(&buckets, "bucket", "log `bucket` to list; repeat or separate with commas")
	prefix := fs.String("prefix", "", "S3 key `prefix` before AWSLogs/ (a trail's key prefix)")
	fs.Var(&layouts, "layouts", "key layouts to list, comma-separated: organization (AWSLogs/<org>/<account>/...), account (AWSLogs/<account>/...), hive (flow logs under AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=.../) (default all three)")
	fs.Var(&orgs, "org", "organisation `id` (o-...) to list; repeat or separate with commas (default every one found)")
	fs.Var(&accounts, "accounts", "account ids to list, comma-separated (default every one found)")
	fs.Var(&regions, "regions", "regions to list, comma-separated (default every one found)")
	fs.Var(&kinds, "kinds", "object kinds to announce, comma-separated: cloudtrail, cloudtrail-digest, cloudtrail-insights, vpcflow, vpcflow-parquet (default all)")
	from := fs.String("from", "", "first `day` to list, YYYY-MM-DD (UTC), or today or yesterday (required)")
	to := fs.String("to", "today", "last `day` to list, inclusive, YYYY-MM-DD (UTC), or today or yesterday")
	fs.IntVar(&def.ListConcurrency, "concurrency", def.ListConcurrency, "S3 listings at once")
	fs.Float64Var(&def.MaxObjectsPerSecond, "rate", 0, "at most this many announcements per second (0: no limit)")
	fs.IntVar(&def.MaxTrackedKeys, "max-tracked-keys", def.MaxTrackedKeys, "most done or pending keys held in memory (about 40 bytes each)")
	fs.DurationVar(&def.ProgressInterval, "progress-interval", def.ProgressInterval, "how often progress is logged when stderr is not a terminal")
	fs.BoolVar(&def.DryRun, "dry-run", false, "announce nothing; print the objects that would be announced as JSON lines on stdout")
	fs.BoolVar(&def.Wait, "wait", false, "after announcing, wait until ingest has finished every object (progress shows the events)")
	fs.BoolVar(&def.RetryFailed, "retry-failed", false, "also announce objects whose latest done-marker is a failure (dead-lettered), unless announced again since")
	fs.Var(&retryReasons, "retry-reasons", "retry only the failures with these dead-letter `reasons`, comma-separated: access_denied, object_missing, s3_error, unsupported_format, gzip_corrupt, ... (implies --retry-failed; default every reason)")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg := def
	cfg.Buckets, cfg.Prefix = splitList(buckets), *prefix
	if l := splitList(layouts); len(l) > 0 {
		cfg.Layouts = l
	}
	cfg.Orgs, cfg.Accounts, cfg.Regions = splitList(orgs), splitList(accounts), splitList(regions)
	if r := splitList(retryReasons); len(r) > 0 {
		cfg.RetryFailed, cfg.RetryReasons = true, r
	}
	if k := splitList(kinds); len(k) > 0 {
		cfg.Kinds = nil
		for _, s := range k {
			cfg.Kinds = append(cfg.Kinds, schemas.ObjectKind(s))
		}
	}
	now := time.Now()
	var err error
	if *from == "" {
		return usageError{"--from is required"}
	}
	if cfg.From, err = parseDay("--from", *from, now); err != nil {
		return usageError{err.Error()}
	}
	if cfg.To, err = parseDay("--to", *to, now); err != nil {
		return usageError{err.Error()}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}

	file, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := lifecycle.NewLogger(file.Log, inv.stderr).With("role", "backfill")
	s3c, err := file.S3.S3(ctx)
	if err != nil {
		return err
	}
	out := ingest.BackfillOutput{DryRun: inv.stdout}
	if isTerminal(inv.stderr) {
		out.Terminal = inv.stderr
	}
	b, err := ingest.NewBackfill(cfg, file.Kafka, file.Topics.Names(), s3c, out, logger, nil)
	if err != nil {
		return err
	}
	stats, err := b.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted after announcing %d objects; run the same command again to resume (what is announced or ingested is skipped)", stats.Announced)
	}
	if err != nil {
		return err
	}
	for line := range strings.Lines(stats.Summary(&cfg)) {
		fmt.Fprintf(inv.stderr, "backfill: %s", line)
	}
	return nil
}

// splitList flattens repeated, comma-separated flag values, dropping
// empty items.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// parseDay reads a --from or --to day: YYYY-MM-DD, today or yesterday
// (UTC).
func parseDay(flag, s string, now time.Time) (time.Time, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	switch s {
	case "today":
		return today, nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not YYYY-MM-DD, today or yesterday", flag, s)
	}
	return t, nil
}

// isTerminal reports whether w is a character device (a terminal), where
// a progress line can be redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
