package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas"
)

// A backfill lists log objects that are already in S3 and announces them
// on the objects topic, for the ingest workers to read like any other
// announcement. It is how an organisation's history gets into the pipeline,
// and how a gap (a queue that was down, a bucket notification that was
// missing) is filled.
//
// What it must never do is skip a key, or announce one twice. CloudTrail
// keys written in the same minute end in a random suffix, so they do not
// sort by arrival: a resume "after the last key listed" loses files. So a
// backfill keeps no cursor at all. Every run lists its whole range again
// and reconciles each key against two sets read from Kafka before the
// listing starts:
//
//   - done: the keys on the compacted ingested topic, which ingest writes
//     in the same transaction as an object's events (so an object is done
//     exactly when its events are committed). An object ingest gave up on
//     (dead-lettered) is done too, its marker naming the reason, unless
//     the run retries failures (see backfill_retry.go);
//   - pending: the keys announced on the objects topic, by anyone (an
//     earlier backfill, SQS discovery, a MinIO notification), that ingest
//     has not finished yet.
//
// A listed key in neither set is announced. Both sets are read
// read_committed up to the topics' last stable offsets, which makes a
// resume exact: every announcement the interrupted run got acknowledged is
// on the objects topic, and is found there; one it had not sent yet is
// not, and is announced now. (One still in flight when a run stops lands
// on the topic before the next run reads it, unless that run starts
// within the broker's request time: an interrupted run waits up to
// FlushTimeout for its requests in flight, so only a killed process
// leaves that window open.)
//
// Why the objects topic and not a local state file of announced keys: the
// topic already is the durable, replicated record of every announcement,
// whoever made it; a file would be a second copy that can disagree with it
// (an fsync lost, a file left on another machine or pod, announcements
// made by SQS discovery that it never saw), and an operator would have to
// carry it between runs. Reading seven days of announcements costs
// seconds to minutes; keeping one more file right is an operations
// burden every time.
//
// The objects topic keeps seven days by default. An announcement that
// expired before ingest read it was never going to be ingested; it is not
// found, and is announced again, which is the right outcome. Two backfills
// over the same range at the same time do not see each other's
// announcements and may announce a key twice; ingest then reads it twice
// (events keep their event_id, so storage stays idempotent), but do not
// run them that way.
//
// Memory: the sets hold only keys inside the backfill's own listing
// prefixes, filtered while reading, as 16-byte hashes (about 40 bytes per
// key with the map's overhead); a failed key also keeps where its marker
// is, about 50 bytes more. BackfillConfig.MaxTrackedKeys bounds them;
// split a very large range into several runs.
//
// Listing: the account, service and region folders are discovered with
// the "/" delimiter (a handful of calls per account), then each day
// prefix, <source>/YYYY/MM/DD/, is listed on its own, never the whole
// bucket, so the cost follows the date range. Flow logs partitioned by
// hour sit under their day prefix and are found too. Flow logs delivered
// with Hive-compatible prefixes are listed the same way, their folders
// named aws-account-id=, aws-service=, aws-region= and
// year=YYYY/month=MM/day=DD/.

// viaBackfill is the Object.Via of objects announced by a backfill.
const viaBackfill = "backfill"

// The key layouts a backfill lists (BackfillConfig.Layouts).
const (
	// LayoutOrganization is an organisation trail's layout:
	// [prefix/]AWSLogs/<org id>/<account>/<service>/<region>/YYYY/MM/DD/.
	LayoutOrganization = "organization"
	// LayoutAccount is a single account's layout (account trails, VPC flow
	// logs): [prefix/]AWSLogs/<account>/<service>/<region>/YYYY/MM/DD/.
	LayoutAccount = "account"
	// LayoutHive is the Hive-compatible layout VPC flow logs can be
	// delivered in: [prefix/]AWSLogs/aws-account-id=<account>/
	// aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/.
	LayoutHive = "hive"
)

// BackfillConfig says what a backfill lists and how hard it works. The
// trailwatch backfill command fills it from its flags; the YAML tags name
// the fields in errors and let a job keep it in a file.
type BackfillConfig struct {
	// Buckets are the log buckets to list. Required.
	Buckets []string `yaml:"buckets"`
	// Prefix is the trail's or flow log's S3 key prefix, the folders
	// before AWSLogs/ ("" for none; a missing trailing '/' is added).
	Prefix string `yaml:"prefix"`
	// Layouts are the key layouts to list: LayoutOrganization,
	// LayoutAccount and LayoutHive. Default all three.
	Layouts []string `yaml:"layouts"`
	// Orgs restricts the organisation layout to these organisation ids
	// (o-...); the other layouts have no organisation folder. Empty: every
	// organisation folder found under AWSLogs/.
	Orgs []string `yaml:"orgs"`
	// Accounts restricts the listing to these 12-digit account ids.
	// Empty: every account folder found (listed with the "/" delimiter).
	Accounts []string `yaml:"accounts"`
	// Regions restricts the listing to these regions. Empty: every region
	// folder found under each account and service.
	Regions []string `yaml:"regions"`
	// Kinds are the object kinds to announce; they also choose the service
	// folders listed (CloudTrail, CloudTrail-Digest, CloudTrail-Insight,
	// vpcflowlogs). Default every kind: cloudtrail, cloudtrail-digest,
	// cloudtrail-insights, vpcflow and vpcflow-parquet.
	Kinds []schemas.ObjectKind `yaml:"kinds"`
	// From and To are the first and last day (UTC midnight, inclusive) of
	// the date folders listed. Required.
	From time.Time `yaml:"from"`
	To   time.Time `yaml:"to"`
	// ListConcurrency is how many ListObjectsV2 listings (folder discovery
	// and day prefixes) run at once. Default 16.
	ListConcurrency int `yaml:"list_concurrency"`
	// ListPageSize is the MaxKeys of one ListObjectsV2 call, 1 to 1000.
	// Default 1000.
	ListPageSize int32 `yaml:"list_page_size"`
	// MaxObjectsPerSecond caps the announcement rate, so that a large
	// backfill does not crowd out live objects; 0 means no cap. Default 0.
	MaxObjectsPerSecond float64 `yaml:"max_objects_per_second"`
	// MaxTrackedKeys bounds the done, pending and (with Wait) announced
	// keys held in memory, about 40 bytes each; a run that would exceed it
	// fails with an error asking for a narrower range. Default 20,000,000
	// (about 1 GiB at most).
	MaxTrackedKeys int `yaml:"max_tracked_keys"`
	// MaxBufferedRecords bounds the announcements waiting for the broker's
	// acknowledgement; a full buffer slows listing down. Default 10000.
	MaxBufferedRecords int `yaml:"max_buffered_records"`
	// ProgressInterval is how often progress is logged when there is no
	// terminal to draw it on. Default 10s.
	ProgressInterval time.Duration `yaml:"progress_interval"`
	// FlushTimeout is how long an interrupted run waits for announcements
	// already handed to the producer to be acknowledged, so the count it
	// reports is accurate. Default 10s.
	FlushTimeout time.Duration `yaml:"flush_timeout"`
	// DryRun lists and reconciles but announces nothing: each object that
	// would be announced is written to BackfillOutput.DryRun instead.
	DryRun bool `yaml:"dry_run"`
	// Wait keeps the run going after the listing until ingest has finished
	// every object this run announced or found pending, following the
	// ingested topic (progress then shows the events ingested). Default
	// false: return once the announcements are acknowledged.
	Wait bool `yaml:"wait"`
	// RetryFailed announces again the objects whose latest done-marker is
	// a failure (ingest dead-lettered them: access denied, missing,
	// corrupt, ...), unless a retry is already pending: announced after
	// that marker, by an earlier retrying run or anyone else. Use it once
	// the cause is fixed. Default false: a failed object counts as done.
	RetryFailed bool `yaml:"retry_failed"`
	// RetryReasons limits RetryFailed to the failures with these
	// dead-letter reasons (access_denied, object_missing, ...). Empty:
	// every reason.
	RetryReasons []string `yaml:"retry_reasons"`
}

// DefaultBackfillConfig returns the defaults; Buckets, From and To are left
// for the caller.
func DefaultBackfillConfig() BackfillConfig {
	return BackfillConfig{
		Layouts: []string{LayoutOrganization, LayoutAccount, LayoutHive},
		Kinds: []schemas.ObjectKind{schemas.ObjectCloudTrail, schemas.ObjectCloudTrailDigest,
			schemas.ObjectCloudTrailInsights, schemas.ObjectVPCFlow, schemas.ObjectVPCFlowParquet},
		ListConcurrency:    16,
		ListPageSize:       1000,
		MaxTrackedKeys:     20_000_000,
		MaxBufferedRecords: 10_000,
		ProgressInterval:   10 * time.Second,
		FlushTimeout:       10 * time.Second,
	}
}

// maxBackfillDays bounds the date range of one run (ten years): a typo in
// a year should fail, not list for a week.
const maxBackfillDays = 3660

// Validate reports the first bad field by its YAML path under backfill.
func (c *BackfillConfig) Validate() error {
	if len(c.Buckets) == 0 {
		return errors.New("backfill.buckets: at least one bucket is needed")
	}
	for i, b := range c.Buckets {
		if len(b) < 3 || len(b) > 63 || strings.ContainsAny(b, "/ ") {
			return fmt.Errorf("backfill.buckets[%d]: %q is not an S3 bucket name", i, b)
		}
		// Listed twice, a key would be announced twice.
		if slices.Contains(c.Buckets[:i], b) {
			return fmt.Errorf("backfill.buckets[%d]: %q is listed twice", i, b)
		}
	}
	if strings.HasPrefix(c.Prefix, "/") || strings.Contains(c.Prefix, "AWSLogs/") {
		return fmt.Errorf("backfill.prefix: %q must be the folders before AWSLogs/, without a leading '/'", c.Prefix)
	}
	if len(c.Layouts) == 0 {
		return errors.New("backfill.layouts: at least one layout is needed")
	}
	for i, l := range c.Layouts {
		if !slices.Contains(backfillLayouts[:], l) {
			return fmt.Errorf("backfill.layouts[%d]: %q is not %s, %s or %s", i, l, LayoutOrganization, LayoutAccount, LayoutHive)
		}
	}
	for i, o := range c.Orgs {
		if !isOrgID(o) {
			return fmt.Errorf("backfill.orgs[%d]: %q is not an organisation id (o- and 10 to 32 lowercase letters or digits)", i, o)
		}
	}
	for i, a := range c.Accounts {
		if !isAccountID(a) {
			return fmt.Errorf("backfill.accounts[%d]: %q is not a 12-digit account id", i, a)
		}
	}
	for i, r := range c.Regions {
		if !isRegion(r) {
			return fmt.Errorf("backfill.regions[%d]: %q is not a region code", i, r)
		}
	}
	for i, r := range c.RetryReasons {
		if !slices.Contains(objectReasons, r) {
			return fmt.Errorf("backfill.retry_reasons[%d]: %q is not a dead-letter reason of an object (%s)", i, r, strings.Join(objectReasons, ", "))
		}
	}
	if len(c.RetryReasons) > 0 && !c.RetryFailed {
		return errors.New("backfill.retry_reasons: needs retry_failed")
	}
	if len(c.Kinds) == 0 {
		return errors.New("backfill.kinds: at least one kind is needed")
	}
	for i, k := range c.Kinds {
		if serviceOf(k) == "" {
			return fmt.Errorf("backfill.kinds[%d]: %q is not one of cloudtrail, cloudtrail-digest, cloudtrail-insights, vpcflow, vpcflow-parquet", i, k)
		}
	}
	switch {
	case c.From.IsZero():
		return errors.New("backfill.from: required (the first day, YYYY-MM-DD)")
	case c.To.IsZero():
		return errors.New("backfill.to: required (the last day, YYYY-MM-DD)")
	case !isUTCMidnight(c.From):
		return fmt.Errorf("backfill.from: %s is not a day (UTC midnight)", c.From)
	case !isUTCMidnight(c.To):
		return fmt.Errorf("backfill.to: %s is not a day (UTC midnight)", c.To)
	case c.To.Before(c.From):
		return fmt.Errorf("backfill.to: %s is before from %s", c.To.Format(time.DateOnly), c.From.Format(time.DateOnly))
	case c.To.Sub(c.From) > maxBackfillDays*24*time.Hour:
		return fmt.Errorf("backfill.to: the range %s to %s is longer than %d days", c.From.Format(time.DateOnly), c.To.Format(time.DateOnly), maxBackfillDays)
	case c.ListConcurrency < 1:
		return fmt.Errorf("backfill.list_concurrency: must be at least 1, got %d", c.ListConcurrency)
	case c.ListPageSize < 1 || c.ListPageSize > 1000:
		return fmt.Errorf("backfill.list_page_size: must be 1 to 1000, got %d", c.ListPageSize)
	case c.MaxObjectsPerSecond < 0:
		return fmt.Errorf("backfill.max_objects_per_second: must not be negative, got %g", c.MaxObjectsPerSecond)
	case c.MaxTrackedKeys < 1000:
		return fmt.Errorf("backfill.max_tracked_keys: must be at least 1000, got %d", c.MaxTrackedKeys)
	case c.MaxBufferedRecords < 100:
		return fmt.Errorf("backfill.max_buffered_records: must be at least 100, got %d", c.MaxBufferedRecords)
	case c.ProgressInterval <= 0:
		return fmt.Errorf("backfill.progress_interval: must be positive, got %s", c.ProgressInterval)
	case c.FlushTimeout <= 0:
		return fmt.Errorf("backfill.flush_timeout: must be positive, got %s", c.FlushTimeout)
	case c.DryRun && c.Wait:
		return errors.New("backfill.wait: a dry run announces nothing to wait for")
	}
	return nil
}

func isUTCMidnight(t time.Time) bool {
	return t.Location() == time.UTC && t.Equal(t.Truncate(24*time.Hour))
}

// keyRoot returns the folders every listed key starts with: the prefix
// and AWSLogs/.
func (c *BackfillConfig) keyRoot() string {
	p := c.Prefix
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p + "AWSLogs/"
}

// serviceOf returns the service folder a kind is delivered under, "" for
// a kind a backfill cannot list.
func serviceOf(k schemas.ObjectKind) string {
	switch k {
	case schemas.ObjectCloudTrail:
		return svcCloudTrail
	case schemas.ObjectCloudTrailDigest:
		return svcCloudTrailDigest
	case schemas.ObjectCloudTrailInsights:
		return svcCloudTrailInsight
	case schemas.ObjectVPCFlow, schemas.ObjectVPCFlowParquet:
		return svcVPCFlowLogs
	}
	return ""
}

// BucketLister is the one S3 call a backfill makes. *s3.Client satisfies
// it. It is called concurrently, up to BackfillConfig.ListConcurrency
// calls at once; errors are final for the run (the SDK has retried the
// retryable ones), which then fails and can be resumed.
type BucketLister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ BucketLister = (*s3.Client)(nil)

// BackfillOutput is where a backfill writes for people. Both writers are
// optional; each is written from one goroutine at a time.
type BackfillOutput struct {
	// Terminal, when set, gets a progress line redrawn in place twice a
	// second (give it stderr when stderr is a terminal). Without it,
	// progress is logged every BackfillConfig.ProgressInterval.
	Terminal io.Writer
	// DryRun gets, in a dry run, one schemas.Object JSON line per object
	// that would be announced.
	DryRun io.Writer
}

// BackfillStats counts what a backfill did. Objects are counted once per
// key listed; bytes are object sizes from the listing.
type BackfillStats struct {
	// Phase is what the run is doing: discover, reconcile, list, wait or
	// done.
	Phase string
	// Sources are the account, service and region folders found, and
	// Prefixes the day prefixes to list (Sources times days).
	Sources, Prefixes int64
	// SourcesByLayout counts Sources by key layout, each configured
	// layout present.
	SourcesByLayout map[string]int64
	// PrefixesListed counts the day prefixes listed to the end.
	PrefixesListed int64
	// ListCalls counts ListObjectsV2 calls, discovery included.
	ListCalls int64
	// ReconcileRecords counts the ingested- and objects-topic records read
	// to build the done and pending sets.
	ReconcileRecords int64
	// Listed and ListedBytes count the objects listed in the day prefixes.
	Listed, ListedBytes int64
	// Announced and AnnouncedBytes count the announcements the broker
	// acknowledged (in a dry run: the objects that would be announced).
	Announced, AnnouncedBytes int64
	// AnnouncedByLayout counts Announced by key layout, each configured
	// layout present.
	AnnouncedByLayout map[string]int64
	// Retried counts the announcements, included in Announced, of objects
	// whose latest done-marker was a failure (BackfillConfig.RetryFailed);
	// RetriedReasons counts them by dead-letter reason.
	Retried        int64
	RetriedReasons map[string]int64
	// Done counts listed objects skipped as already ingested; Failed,
	// those skipped because ingest dead-lettered them and they were not
	// to be retried, by reason in FailedReasons; Pending, those skipped as
	// announced and not yet ingested (a failed object announced again
	// after its failure included); Ignored, those of another kind than
	// BackfillConfig.Kinds (or not a log at all).
	Done, Failed, Pending, Ignored int64
	FailedReasons                  map[string]int64
	// Awaited counts, with BackfillConfig.Wait, the objects the run waits
	// for (announced by it or found pending); Ingested and Events, those
	// of them ingest has finished, and their events.
	Awaited, Ingested, Events int64
	// Elapsed is the time since the run started; ListElapsed, since the
	// listing started.
	Elapsed, ListElapsed time.Duration
}

// Rate returns the announcements per second of the listing so far.
func (s BackfillStats) Rate() float64 {
	if s.ListElapsed <= 0 {
		return 0
	}
	return float64(s.Announced) / s.ListElapsed.Seconds()
}

// ETA estimates the listing time left from the share of day prefixes
// listed, or -1 when there is nothing to go on yet.
func (s BackfillStats) ETA() time.Duration {
	if s.PrefixesListed == 0 || s.ListElapsed <= 0 {
		return -1
	}
	left := s.Prefixes - s.PrefixesListed
	return time.Duration(float64(s.ListElapsed) * float64(left) / float64(s.PrefixesListed))
}

// String formats s as one progress line.
func (s BackfillStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backfill %s", s.Phase)
	switch s.Phase {
	case "discover":
		fmt.Fprintf(&b, ": %d sources (%s), %d list calls", s.Sources, formatCounts(s.SourcesByLayout), s.ListCalls)
	case "reconcile":
		fmt.Fprintf(&b, ": %d sources, %d records read", s.Sources, s.ReconcileRecords)
	default:
		fmt.Fprintf(&b, ": prefixes %d/%d, listed %d (%s), announced %d (%s)",
			s.PrefixesListed, s.Prefixes, s.Listed, formatBytes(s.ListedBytes), s.Announced, formatBytes(s.AnnouncedBytes))
		if s.Retried > 0 {
			fmt.Fprintf(&b, ", retried %d", s.Retried)
		}
		fmt.Fprintf(&b, ", done %d", s.Done)
		if s.Failed > 0 {
			fmt.Fprintf(&b, ", failed %d", s.Failed)
		}
		fmt.Fprintf(&b, ", pending %d, ignored %d, %.0f obj/s", s.Pending, s.Ignored, s.Rate())
		if s.Phase == "list" {
			if eta := s.ETA(); eta >= 0 {
				fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
			}
		}
		if s.Awaited > 0 {
			fmt.Fprintf(&b, ", ingested %d/%d (%d events)", s.Ingested, s.Awaited, s.Events)
		}
	}
	fmt.Fprintf(&b, ", %s", s.Elapsed.Round(time.Second))
	return b.String()
}

// Summary returns the report of a run of cfg that finished, one line
// per subject: what was listed, announced (by layout) and, with
// RetryFailed, retried (by reason), what was skipped, and the failures
// left alone. In a dry run it says what would have been announced.
func (s BackfillStats) Summary(cfg *BackfillConfig) string {
	announce, retry := "announced", "retried"
	if cfg.DryRun {
		announce, retry = "would announce", "would retry"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d sources (%s), %d prefixes listed, %d objects (%s), in %s\n",
		s.Sources, formatCounts(s.SourcesByLayout), s.PrefixesListed, s.Listed, formatBytes(s.ListedBytes), s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "%s %d (%s): %s", announce, s.Announced, formatBytes(s.AnnouncedBytes), formatCounts(s.AnnouncedByLayout))
	if cfg.RetryFailed {
		fmt.Fprintf(&b, "; %s %d of them", retry, s.Retried)
		if s.Retried > 0 {
			fmt.Fprintf(&b, " (%s)", formatCounts(s.RetriedReasons))
		}
	}
	fmt.Fprintf(&b, "\nskipped %d already ingested, %d pending, %d of other kinds\n", s.Done, s.Pending, s.Ignored)
	if s.Failed > 0 {
		fmt.Fprintf(&b, "not retried: %d dead-lettered by ingest (%s)\n", s.Failed, formatCounts(s.FailedReasons))
	}
	if s.Awaited > 0 {
		fmt.Fprintf(&b, "ingested %d of %d objects, %d events\n", s.Ingested, s.Awaited, s.Events)
	}
	return b.String()
}

// formatBytes writes n in binary units.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Backfill lists log objects over a date range and announces those not
// done yet on the objects topic (see the comment at the top of this file).
//
// Goroutines: Run owns every goroutine it starts: at most
// ListConcurrency listing goroutines at a time (errgroup), one progress
// reporter, and the Kafka client's own, all stopped before Run returns.
// A Backfill runs one Run at a time.
type Backfill struct {
	cfg     BackfillConfig
	kcfg    kafka.Config
	topics  schemas.TopicNames
	s3      BucketLister
	out     BackfillOutput
	logger  *slog.Logger
	reg     prometheus.Registerer
	metrics *backfillMetrics
	now     func() time.Time
}

// NewBackfill returns a backfill. s3 lists the buckets; reg may be nil.
func NewBackfill(cfg BackfillConfig, kcfg kafka.Config, topics schemas.TopicNames, s3 BucketLister, out BackfillOutput, logger *slog.Logger, reg prometheus.Registerer) (*Backfill, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Backfill{
		cfg: cfg, kcfg: kcfg, topics: topics, s3: s3, out: out, logger: logger, reg: reg,
		metrics: newBackfillMetrics(reg), now: time.Now,
	}, nil
}

// backfillMetrics are the backfill's Prometheus metrics (for a backfill
// run as a job with a push gateway or a scraped admin server).
type backfillMetrics struct {
	objects   *prometheus.CounterVec
	bytes     prometheus.Counter
	listCalls prometheus.Counter
}

func newBackfillMetrics(reg prometheus.Registerer) *backfillMetrics {
	m := &backfillMetrics{
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_backfill_objects_total",
			Help: "Objects a backfill listed, by result (announced, retried, done, failed, pending, ignored, dry_run).",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_ingest_backfill_announced_bytes_total",
			Help: "Size of the objects a backfill announced, as stored in S3.",
		}),
		listCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_ingest_backfill_list_calls_total",
			Help: "ListObjectsV2 calls a backfill made.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.objects, m.bytes, m.listCalls)
	}
	return m
}

// keyHash identifies a bucket/key in the tracked sets: two independent
// 64-bit hashes, so that a collision (which would skip a key) is
// vanishingly unlikely even for a billion keys.
type keyHash [2]uint64

// keyState is what the run knows about a tracked key.
type keyState uint8

const (
	// stateDone: the latest done-marker on the ingested topic is a
	// success.
	stateDone keyState = iota + 1
	// stateFailed: the latest done-marker is a failure (backfillRun.failures
	// says which).
	stateFailed
	// statePending: announced (objects topic), not ingested yet; or, when
	// retrying, announced after its failure marker.
	statePending
	// stateAnnounced: announced by this run (tracked only with Wait).
	stateAnnounced
)

// logSource is one account, service and region folder: the day folders
// under it are listed.
type logSource struct {
	bucket string
	// prefix ends with the region folder and '/'.
	prefix string
	// layout is layoutOrg, layoutAccount or layoutHive.
	layout int
}

// backfillRun is the state of one Run.
type backfillRun struct {
	b     *Backfill
	start time.Time
	cl    *kgo.Client
	// produceCtx is Run's context: announcements are produced with it,
	// not with a listing goroutine's, which ends before the flush.
	produceCtx context.Context
	limit      *backfillLimiter
	kinds      map[schemas.ObjectKind]bool
	seeds      [2]maphash.Seed
	phase      atomic.Pointer[string]
	listAt     atomic.Int64 // unix nanos when the listing started

	// roots are "<bucket>/<prefix>AWSLogs/" per bucket, and sources the
	// "<bucket>/<source prefix>" of every source with how it names its
	// day folders: together the scope of keys the run tracks.
	roots   []string
	sources map[string]dayFolders

	mu     sync.Mutex
	states map[keyHash]keyState
	// failures holds the latest marker of every stateFailed key.
	failures map[keyHash]failure
	// reasons interns failure reasons, so that each failure does not
	// keep its own copy.
	reasons  map[string]string
	waiting  int64 // pending and announced keys not ingested yet (Wait)
	dryRunMu sync.Mutex

	produceErr atomic.Pointer[error]

	sourcesN, prefixes, prefixesListed, listCalls, reconcileRecords atomic.Int64
	listed, listedBytes, announced, announcedBytes, retried         atomic.Int64
	done, failed, pending, ignored, awaited, ingested, events       atomic.Int64
	sourcesBy, announcedBy                                          [len(backfillLayouts)]atomic.Int64
	retriedReasons, failedReasons                                   reasonCounts
}

// Run lists, reconciles and announces. It returns the final counts and
// nil once every day prefix is listed and every announcement acknowledged
// (and, with Wait, ingested). When ctx ends first it returns the counts so
// far and an error wrapping ctx's: run it again with the same
// configuration to resume, which announces exactly what this run did not.
func (b *Backfill) Run(ctx context.Context) (BackfillStats, error) {
	r := &backfillRun{
		b: b, start: b.now(), kinds: map[schemas.ObjectKind]bool{},
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		states: map[keyHash]keyState{}, sources: map[string]dayFolders{},
		failures: map[keyHash]failure{}, reasons: map[string]string{},
		limit: newBackfillLimiter(b.cfg.MaxObjectsPerSecond),
	}
	for _, k := range b.cfg.Kinds {
		r.kinds[k] = true
	}
	r.setPhase("discover")

	progressCtx, stopProgress := context.WithCancel(ctx)
	var progress sync.WaitGroup
	progress.Go(func() { r.reportProgress(progressCtx) })

	err := r.run(ctx)
	switch {
	case err == nil:
		r.setPhase("done")
	case ctx.Err() != nil:
		r.setPhase("interrupted")
	default:
		r.setPhase("failed")
	}
	stopProgress()
	progress.Wait()
	stats := r.stats()
	if err == nil {
		b.logger.Info("backfill finished", stats.logAttrs()...)
		return stats, nil
	}
	if ctx.Err() != nil {
		b.logger.Info("backfill interrupted: run it again to resume", stats.logAttrs()...)
		return stats, fmt.Errorf("backfill interrupted: %w", ctx.Err())
	}
	return stats, err
}

func (r *backfillRun) run(ctx context.Context) error {
	cfg := &r.b.cfg
	sources, err := r.discover(ctx)
	if err != nil {
		return err
	}
	days := 0
	for d := cfg.From; !d.After(cfg.To); d = d.AddDate(0, 0, 1) {
		days++
	}
	r.prefixes.Store(int64(len(sources) * days))
	r.b.logger.Info("backfill sources found", "sources", len(sources), "days", days, "prefixes", len(sources)*days)

	cl, err := kafka.NewClient(r.b.kcfg, "backfill", r.b.logger, r.b.reg,
		kgo.ConsumeTopics(r.b.topics.Name(schemas.TopicObjects), r.b.topics.Name(schemas.TopicIngested)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records (transaction markers) are how the read knows
		// it reached a partition's last stable offset: a transaction's
		// last offset is its marker, which is otherwise never delivered.
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.MaxBufferedRecords(cfg.MaxBufferedRecords),
		kgo.ProducerLinger(5*time.Millisecond),
	)
	if err != nil {
		return err
	}
	r.cl, r.produceCtx = cl, ctx
	defer cl.Close()

	r.setPhase("reconcile")
	if err := r.reconcile(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	r.b.logger.Info("backfill reconciled", "records", r.reconcileRecords.Load(), "tracked_keys", len(r.states))
	r.mu.Unlock()

	r.setPhase("list")
	r.listAt.Store(r.b.now().UnixNano())
	err = r.listAll(ctx, sources, days)
	if ferr := r.flush(ctx); err == nil {
		err = ferr
	}
	if err != nil || !cfg.Wait {
		return err
	}
	r.setPhase("wait")
	return r.wait(ctx)
}

// discover finds the account, service and region folders to list, with
// ListObjectsV2 and the "/" delimiter at each level, filtered by the
// configured layouts, organisations, accounts and regions. Its result is
// sorted.
func (r *backfillRun) discover(ctx context.Context) ([]logSource, error) {
	cfg := &r.b.cfg
	root := cfg.keyRoot()
	var services []string
	for _, k := range cfg.Kinds {
		if s := serviceOf(k); !slices.Contains(services, s) {
			services = append(services, s)
		}
	}
	listing := func(layout int) bool { return slices.Contains(cfg.Layouts, backfillLayouts[layout]) }
	var accounts []accountDir
	var mu sync.Mutex
	add := func(a accountDir) {
		mu.Lock()
		accounts = append(accounts, a)
		mu.Unlock()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.ListConcurrency)
	for _, bucket := range cfg.Buckets {
		r.roots = append(r.roots, bucket+"/"+root)
		top, err := r.listFolders(ctx, bucket, root)
		if err != nil {
			return nil, err
		}
		for _, name := range top {
			hiveID, hive := strings.CutPrefix(name, hiveAccount)
			switch {
			case isAccountID(name):
				if listing(layoutAccount) && wanted(cfg.Accounts, name) {
					add(accountDir{bucket: bucket, prefix: root + name + "/", layout: layoutAccount})
				}
			case hive && isAccountID(hiveID):
				if listing(layoutHive) && wanted(cfg.Accounts, hiveID) {
					add(accountDir{bucket: bucket, prefix: root + name + "/", layout: layoutHive})
				}
			case isOrgID(name):
				if !listing(layoutOrg) || !wanted(cfg.Orgs, name) {
					continue
				}
				orgRoot := root + name + "/"
				g.Go(func() error {
					ids, err := r.listFolders(gctx, bucket, orgRoot)
					for _, id := range ids {
						if isAccountID(id) && wanted(cfg.Accounts, id) {
							add(accountDir{bucket: bucket, prefix: orgRoot + id + "/", layout: layoutOrg})
						}
					}
					return err
				})
			default:
				r.b.logger.Debug("backfill skips a folder", "bucket", bucket, "folder", root+name+"/")
			}
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	var sources []logSource
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(cfg.ListConcurrency)
	for _, a := range accounts {
		for _, svc := range services {
			svcRoot, regionPrefix, ok := a.serviceRoot(svc)
			if !ok {
				continue
			}
			g.Go(func() error {
				folders, err := r.listFolders(gctx, a.bucket, svcRoot)
				mu.Lock()
				defer mu.Unlock()
				for _, folder := range folders {
					region, ok := strings.CutPrefix(folder, regionPrefix)
					if ok && isRegion(region) && wanted(cfg.Regions, region) {
						sources = append(sources, logSource{bucket: a.bucket, prefix: svcRoot + folder + "/", layout: a.layout})
						r.sourcesN.Add(1)
						r.sourcesBy[a.layout].Add(1)
					}
				}
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(sources, func(a, b logSource) int {
		return strings.Compare(a.bucket+"/"+a.prefix, b.bucket+"/"+b.prefix)
	})
	for _, s := range sources {
		r.sources[s.bucket+"/"+s.prefix] = daysOf(s.layout)
	}
	return sources, nil
}

// wanted reports whether name passes a filter list (empty: everything).
func wanted(filter []string, name string) bool {
	return len(filter) == 0 || slices.Contains(filter, name)
}

// listFolders returns the names of the folders directly under prefix.
func (r *backfillRun) listFolders(ctx context.Context, bucket, prefix string) ([]string, error) {
	var names []string
	p := s3.NewListObjectsV2Paginator(r.b.s3, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
		MaxKeys: aws.Int32(r.b.cfg.ListPageSize),
	})
	for p.HasMorePages() {
		r.countListCall()
		page, err := p.NextPage(ctx)
		if err != nil {
			return names, fmt.Errorf("list folders of s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				names = append(names, name)
			}
		}
	}
	return names, nil
}

func (r *backfillRun) countListCall() {
	r.listCalls.Add(1)
	r.b.metrics.listCalls.Inc()
}

// hash returns the tracked-set identity of a bucket/key.
func (r *backfillRun) hash(bucketKey string) keyHash {
	return keyHash{maphash.String(r.seeds[0], bucketKey), maphash.String(r.seeds[1], bucketKey)}
}

// inScope reports whether bucketKey ("<bucket>/<key>") lies in one of the
// run's day prefixes: under a source folder, in a date folder from From to
// To. Exactly the keys the listing can return are in scope, so the sets
// hold nothing the run will not ask about.
func (r *backfillRun) inScope(bucketKey string) bool {
	inRoot := false
	for _, root := range r.roots {
		if strings.HasPrefix(bucketKey, root) {
			inRoot = true
			break
		}
	}
	if !inRoot {
		return false
	}
	for i := 0; ; {
		j := strings.IndexByte(bucketKey[i:], '/')
		if j < 0 {
			return false
		}
		i += j + 1
		if days := r.sources[bucketKey[:i]]; days != 0 {
			day, ok := days.day(bucketKey[i:])
			return ok && !day.Before(r.b.cfg.From) && !day.After(r.b.cfg.To)
		}
	}
}

// setLocked records a key's state, enforcing MaxTrackedKeys; r.mu is
// held.
func (r *backfillRun) setLocked(h keyHash, s keyState) error {
	if _, ok := r.states[h]; !ok && len(r.states) >= r.b.cfg.MaxTrackedKeys {
		return fmt.Errorf("backfill.max_tracked_keys: more than %d keys in range are done or pending; narrow the date range or the accounts, or raise it", r.b.cfg.MaxTrackedKeys)
	}
	r.states[h] = s
	return nil
}

// reconcile reads the ingested and objects topics from their start to
// their last stable offsets at the time of the call, and tracks the
// in-scope keys as done, failed or pending. A plain run reads both topics
// at once: a marker wins over any announcement. A retrying run reads the
// ingested topic to its end first, so that each announcement is judged
// against its key's latest marker (see backfill_retry.go).
func (r *backfillRun) reconcile(ctx context.Context) error {
	objectsTopic, ingestedTopic := r.b.topics.Name(schemas.TopicObjects), r.b.topics.Name(schemas.TopicIngested)
	adm := kadm.NewClient(r.cl)
	ends, err := adm.ListCommittedOffsets(ctx, objectsTopic, ingestedTopic)
	if err == nil {
		err = ends.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("list last stable offsets of %s and %s (create the topics with trailwatch topics): %w", objectsTopic, ingestedTopic, err)
	}
	if err != nil {
		return fmt.Errorf("list last stable offsets of %s and %s: %w", objectsTopic, ingestedTopic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, objectsTopic, ingestedTopic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("list start offsets of %s and %s: %w", objectsTopic, ingestedTopic, err)
	}
	// left holds, per partition still to read, the offset of the last
	// record before the last stable offset.
	left := map[string]map[int32]int64{}
	var finished map[string][]int32
	finish := func(topic string, p int32) {
		delete(left[topic], p)
		if finished == nil {
			finished = map[string][]int32{}
		}
		finished[topic] = append(finished[topic], p)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if left[o.Topic] == nil {
			left[o.Topic] = map[int32]int64{}
		}
		left[o.Topic][o.Partition] = o.Offset - 1
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Offset >= o.Offset {
			finish(o.Topic, o.Partition)
		}
	})
	remaining := func() int { return len(left[objectsTopic]) + len(left[ingestedTopic]) }

	// A paused topic keeps its position; records already fetched for it
	// are dropped and fetched again once it is resumed.
	holdObjects := r.b.cfg.RetryFailed
	if holdObjects {
		r.cl.PauseFetchTopics(objectsTopic)
	}
	for remaining() > 0 {
		if holdObjects && len(left[ingestedTopic]) == 0 {
			r.cl.ResumeFetchTopics(objectsTopic)
			holdObjects = false
		}
		if finished != nil {
			// Records past the snapshot would do no harm, but there is
			// no reason to fetch them; a paused partition keeps its
			// position for the wait phase.
			r.cl.PauseFetchPartitions(finished)
			finished = nil
		}
		fetches := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fetches.IsClientClosed() {
			return errors.New("read reconcile topics: kafka client closed")
		}
		if err := fetchError(fetches, r.b.logger); err != nil {
			return fmt.Errorf("read reconcile topics: %w", err)
		}
		var terr error
		fetches.EachRecord(func(rec *kgo.Record) {
			if terr != nil {
				return
			}
			if !rec.Attrs.IsControl() {
				r.reconcileRecords.Add(1)
				if rec.Topic == ingestedTopic {
					terr = r.reconcileIngested(rec)
				} else {
					terr = r.reconcileAnnounced(rec)
				}
			}
			if last, ok := left[rec.Topic][rec.Partition]; ok && rec.Offset >= last {
				finish(rec.Topic, rec.Partition)
			}
		})
		if terr != nil {
			return terr
		}
	}
	if finished != nil {
		r.cl.PauseFetchPartitions(finished)
	}
	// The objects topic is not needed again.
	r.cl.PauseFetchTopics(objectsTopic)
	return nil
}

// fetchError returns the first fetch error that stops the read; data loss
// (records deleted by retention while being read) is only logged.
func fetchError(fetches kgo.Fetches, logger *slog.Logger) error {
	for _, fe := range fetches.Errors() {
		var loss *kgo.ErrDataLoss
		if errors.As(fe.Err, &loss) {
			logger.Info("backfill read skipped records deleted by retention", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
			continue
		}
		return fmt.Errorf("fetch %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
	}
	return nil
}

// reconcileIngested tracks an ingested-topic record (a done-marker, keyed
// bucket/key) as done or failed. The latest marker of a key decides, and
// a marker wins over an announcement read before it: the markers of one
// key are on one partition, in order, and a plain run treats a failure
// like a success.
func (r *backfillRun) reconcileIngested(rec *kgo.Record) error {
	if !r.rootedKey(rec.Key) {
		return nil
	}
	bk := string(rec.Key)
	if !r.inScope(bk) {
		return nil
	}
	h := r.hash(bk)
	reason := markerFailure(rec.Value)
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == "" {
		delete(r.failures, h)
		return r.setLocked(h, stateDone)
	}
	interned, ok := r.reasons[reason]
	if !ok {
		interned = reason
		r.reasons[reason] = reason
	}
	r.failures[h] = failure{reason: interned, partition: rec.Partition, offset: rec.Offset, at: rec.Timestamp.UnixMilli()}
	return r.setLocked(h, stateFailed)
}

// rootedKey is the cheap test before a conversion to string: whether b
// starts with one of the run's roots.
func (r *backfillRun) rootedKey(b []byte) bool {
	for _, root := range r.roots {
		if len(b) >= len(root) && string(b[:len(root)]) == root {
			return true
		}
	}
	return false
}

// reconcileAnnounced tracks the objects of an objects-topic record as
// pending. The record may be in any shape ingest accepts (its key is not
// always bucket/key), so a record whose value does not even mention one
// of the buckets is skipped before it is parsed. One that does not parse
// was dead-lettered by ingest and announced nothing.
func (r *backfillRun) reconcileAnnounced(rec *kgo.Record) error {
	mentioned := false
	for _, b := range r.b.cfg.Buckets {
		if bytes.Contains(rec.Value, []byte(b)) {
			mentioned = true
			break
		}
	}
	if !mentioned {
		return nil
	}
	objs, err := ParseNotification(rec.Value)
	if err != nil {
		return nil
	}
	for i := range objs {
		bk := objs[i].Bucket + "/" + objs[i].Key
		if r.inScope(bk) {
			if err := r.trackAnnounced(r.hash(bk), rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// trackAnnounced tracks a key announced by rec as pending, unless its
// latest marker came after the announcement. A retrying run has read
// every marker by now, so a failed key announced after its failure is a
// retry in flight; a plain run treats failed keys as done.
func (r *backfillRun) trackAnnounced(h keyHash, rec *kgo.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.states[h] {
	case stateDone, statePending:
		return nil
	case stateFailed:
		if r.b.cfg.RetryFailed && announcedAfter(rec, r.failures[h]) {
			delete(r.failures, h)
			r.states[h] = statePending
		}
		return nil
	}
	return r.setLocked(h, statePending)
}

// listAll lists every day prefix of every source, day by day (so ingest
// receives the history roughly in time order), ListConcurrency at a time.
func (r *backfillRun) listAll(ctx context.Context, sources []logSource, days int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.b.cfg.ListConcurrency)
	for d := range days {
		day := r.b.cfg.From.AddDate(0, 0, d)
		for _, src := range sources {
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error { return r.listDay(gctx, src, day) })
		}
	}
	return g.Wait()
}

// listDay lists one day prefix of src and offers each object.
func (r *backfillRun) listDay(ctx context.Context, src logSource, day time.Time) error {
	bucket, prefix := src.bucket, src.prefix+daysOf(src.layout).folder(day)
	p := s3.NewListObjectsV2Paginator(r.b.s3, &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(r.b.cfg.ListPageSize),
	})
	for p.HasMorePages() {
		r.countListCall()
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for i := range page.Contents {
			if err := r.offer(ctx, src, &page.Contents[i]); err != nil {
				return err
			}
		}
	}
	r.prefixesListed.Add(1)
	return nil
}

// offer decides about one listed object of src: ignore it, skip it as
// done, failed or pending, or announce it (again, when it failed and is
// to be retried).
func (r *backfillRun) offer(ctx context.Context, src logSource, o *s3types.Object) error {
	bucket, key, size := src.bucket, aws.ToString(o.Key), aws.ToInt64(o.Size)
	r.listed.Add(1)
	r.listedBytes.Add(size)
	info := ClassifyKey(key)
	if !r.kinds[info.Kind] {
		r.ignored.Add(1)
		r.b.metrics.objects.WithLabelValues("ignored").Inc()
		return nil
	}
	bk := bucket + "/" + key
	h := r.hash(bk)
	r.mu.Lock()
	state, fail := r.states[h], r.failures[h]
	r.mu.Unlock()
	switch state {
	case stateDone:
		r.done.Add(1)
		r.b.metrics.objects.WithLabelValues("done").Inc()
		return nil
	case statePending:
		r.pending.Add(1)
		r.b.metrics.objects.WithLabelValues("pending").Inc()
		return nil
	case stateFailed:
		if !r.b.cfg.RetryFailed || !wanted(r.b.cfg.RetryReasons, fail.reason) {
			r.failed.Add(1)
			r.failedReasons.add(fail.reason)
			r.b.metrics.objects.WithLabelValues("failed").Inc()
			return nil
		}
	}

	obj := schemas.Object{
		V: schemas.ObjectVersion, Bucket: bucket, Key: key, Size: size,
		// Listings quote the ETag; event notifications do not. Keep the
		// notifications' form, so Ingested records agree whatever the
		// discovery path.
		ETag: strings.Trim(aws.ToString(o.ETag), `"`),
		Kind: info.Kind, AccountID: info.AccountID, Region: info.Region, Time: info.Time, Via: viaBackfill,
	}
	if obj.Time.IsZero() {
		obj.Time = aws.ToTime(o.LastModified).UTC()
	}
	value, err := json.Marshal(&obj)
	if err != nil {
		return fmt.Errorf("encode announcement of s3://%s: %w", bk, err)
	}
	// retryOf is the reason of the failure retried, "" for a first
	// announcement.
	retryOf := ""
	if state == stateFailed {
		retryOf = fail.reason
	}
	if r.b.cfg.DryRun {
		r.dryRunMu.Lock()
		defer r.dryRunMu.Unlock()
		r.countAnnounced(src, size, retryOf, "dry_run")
		if w := r.b.out.DryRun; w != nil {
			if _, err := w.Write(append(value, '\n')); err != nil {
				return fmt.Errorf("write dry run: %w", err)
			}
		}
		return nil
	}
	if err := r.limit.wait(ctx); err != nil {
		return err
	}
	if perr := r.produceErr.Load(); perr != nil {
		return *perr
	}
	if r.b.cfg.Wait {
		// Tracked before it is produced: its Ingested record cannot
		// come before the announcement exists.
		r.mu.Lock()
		err := r.setLocked(h, stateAnnounced)
		r.mu.Unlock()
		if err != nil {
			return err
		}
	}
	rec := &kgo.Record{Topic: r.b.topics.Name(schemas.TopicObjects), Key: schemas.ObjectKey(&obj), Value: value}
	result := "announced"
	if retryOf != "" {
		rec.Headers = []kgo.RecordHeader{{Key: retryHeader, Value: retryHeaderValue(fail)}}
		result = "retried"
	}
	r.cl.Produce(r.produceCtx, rec, func(_ *kgo.Record, err error) {
		if err != nil {
			if r.produceCtx.Err() == nil {
				err = fmt.Errorf("announce s3://%s: %w", bk, err)
				r.produceErr.CompareAndSwap(nil, &err)
			}
			return
		}
		r.countAnnounced(src, size, retryOf, result)
		r.b.metrics.bytes.Add(float64(size))
	})
	return nil
}

// countAnnounced counts an announcement of an object of src (in a dry
// run, one that would be made) under the metric result; retryOf is the
// reason of the failure it retries, "" for a first one.
func (r *backfillRun) countAnnounced(src logSource, size int64, retryOf, result string) {
	r.announced.Add(1)
	r.announcedBytes.Add(size)
	r.announcedBy[src.layout].Add(1)
	if retryOf != "" {
		r.retried.Add(1)
		r.retriedReasons.add(retryOf)
	}
	r.b.metrics.objects.WithLabelValues(result).Inc()
}

// flush waits for every announcement handed to the producer. After an
// interruption it still waits up to FlushTimeout, so that the counts
// reported are what the broker has.
func (r *backfillRun) flush(ctx context.Context) error {
	fctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), r.b.cfg.FlushTimeout)
		defer cancel()
	}
	if err := r.cl.Flush(fctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("flush announcements: %w", err)
	}
	if perr := r.produceErr.Load(); perr != nil {
		return *perr
	}
	return ctx.Err()
}

// wait follows the ingested topic from where reconcile stopped until every
// key announced by this run or found pending has been ingested.
func (r *backfillRun) wait(ctx context.Context) error {
	ingestedTopic := r.b.topics.Name(schemas.TopicIngested)
	r.mu.Lock()
	for _, s := range r.states {
		if s == statePending || s == stateAnnounced {
			r.waiting++
		}
	}
	r.awaited.Store(r.waiting)
	r.mu.Unlock()
	// Go on from where reconcile paused each partition.
	paused := r.cl.PauseFetchPartitions(nil)
	r.cl.ResumeFetchPartitions(map[string][]int32{ingestedTopic: paused[ingestedTopic]})
	for {
		r.mu.Lock()
		waiting := r.waiting
		r.mu.Unlock()
		if waiting == 0 {
			return nil
		}
		fetches := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fetches.IsClientClosed() {
			return fmt.Errorf("follow %s: kafka client closed", ingestedTopic)
		}
		if err := fetchError(fetches, r.b.logger); err != nil {
			return fmt.Errorf("follow %s: %w", ingestedTopic, err)
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			if rec.Topic != ingestedTopic || rec.Attrs.IsControl() || !r.rootedKey(rec.Key) {
				return
			}
			h := r.hash(string(rec.Key))
			r.mu.Lock()
			s := r.states[h]
			awaited := s == statePending || s == stateAnnounced
			if awaited {
				r.states[h] = stateDone
				r.waiting--
			}
			r.mu.Unlock()
			if !awaited {
				return
			}
			var in schemas.Ingested
			if json.Unmarshal(rec.Value, &in) == nil {
				r.events.Add(in.Events)
			}
			r.ingested.Add(1)
		})
	}
}

func (r *backfillRun) setPhase(p string) { r.phase.Store(&p) }

// stats returns a snapshot of the counters.
func (r *backfillRun) stats() BackfillStats {
	now := r.b.now()
	s := BackfillStats{
		Phase: *r.phase.Load(), Sources: r.sourcesN.Load(), Prefixes: r.prefixes.Load(),
		PrefixesListed: r.prefixesListed.Load(), ListCalls: r.listCalls.Load(),
		ReconcileRecords: r.reconcileRecords.Load(),
		Listed:           r.listed.Load(), ListedBytes: r.listedBytes.Load(),
		Announced: r.announced.Load(), AnnouncedBytes: r.announcedBytes.Load(),
		Retried: r.retried.Load(), RetriedReasons: r.retriedReasons.snapshot(),
		Done: r.done.Load(), Failed: r.failed.Load(), Pending: r.pending.Load(), Ignored: r.ignored.Load(),
		FailedReasons:   r.failedReasons.snapshot(),
		SourcesByLayout: map[string]int64{}, AnnouncedByLayout: map[string]int64{},
		Awaited: r.awaited.Load(), Ingested: r.ingested.Load(), Events: r.events.Load(),
		Elapsed: now.Sub(r.start),
	}
	if at := r.listAt.Load(); at != 0 {
		s.ListElapsed = now.Sub(time.Unix(0, at))
	}
	for i, name := range backfillLayouts {
		if slices.Contains(r.b.cfg.Layouts, name) {
			s.SourcesByLayout[name] = r.sourcesBy[i].Load()
			s.AnnouncedByLayout[name] = r.announcedBy[i].Load()
		}
	}
	return s
}

// logAttrs returns s as slog attributes.
func (s BackfillStats) logAttrs() []any {
	return []any{"sources", s.Sources, "sources_by_layout", formatCounts(s.SourcesByLayout),
		"prefixes", s.Prefixes, "prefixes_listed", s.PrefixesListed,
		"list_calls", s.ListCalls, "listed", s.Listed, "listed_bytes", s.ListedBytes,
		"announced", s.Announced, "announced_bytes", s.AnnouncedBytes, "announced_by_layout", formatCounts(s.AnnouncedByLayout),
		"retried", s.Retried, "retried_reasons", formatCounts(s.RetriedReasons), "done", s.Done,
		"failed", s.Failed, "failed_reasons", formatCounts(s.FailedReasons),
		"pending", s.Pending, "ignored", s.Ignored, "awaited", s.Awaited, "ingested", s.Ingested, "events", s.Events,
		"elapsed", s.Elapsed.Round(time.Millisecond)}
}

// terminalInterval is how often the progress line is redrawn on a
// terminal.
const terminalInterval = 500 * time.Millisecond

// reportProgress draws (on a terminal) or logs progress until ctx ends;
// on a terminal it ends with the final line and a newline.
func (r *backfillRun) reportProgress(ctx context.Context) {
	term := r.b.out.Terminal
	interval := r.b.cfg.ProgressInterval
	if term != nil {
		interval = terminalInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if term != nil {
				// \r and "erase line" redraw in place.
				fmt.Fprintf(term, "\r\x1b[K%s\n", r.stats())
			}
			return
		case <-t.C:
			s := r.stats()
			if term != nil {
				fmt.Fprintf(term, "\r\x1b[K%s", s)
			} else {
				r.b.logger.Info("backfill progress", append([]any{"phase", s.Phase}, s.logAttrs()...)...)
			}
		}
	}
}

// backfillLimiter spaces announcements at most one per interval; nil
// means no limit. It is safe for concurrent use.
type backfillLimiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

func newBackfillLimiter(perSecond float64) *backfillLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &backfillLimiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// wait blocks until the caller may announce, or ctx ends.
func (l *backfillLimiter) wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
