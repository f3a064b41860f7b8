package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas"
)

// bfObject is one object of the backfill fixture, with what a backfill
// needs to know to decide about it.
type bfObject struct {
	key     string
	prefix  string // key prefix before AWSLogs/
	layout  string // LayoutOrganization, LayoutAccount or LayoutHive; "" when not a log
	account string
	region  string
	kind    schemas.ObjectKind // ObjectUnknown for a file that is not a log
	day     time.Time          // date folder
}

var (
	bfOrg      = "o-abcdefghij"
	bfAccounts = []string{"111122223333", "444455556666"}
	bfRegions  = []string{"eu-west-1", "us-east-1"}
	// bfFrom and bfTo are the range the tests list: two of the three
	// days that have logs in range, with a day of logs before and after.
	bfFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	bfTo   = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
)

// backfillFixture returns the objects of a log bucket: for 2 accounts × 2
// regions × 5 days (2026-02-28 to 2026-03-04), an organisation trail (three
// files written in the same minute, with random suffixes), its digests, an
// account trail, VPC flow logs (hour folders in one region, Parquet in
// the other) and VPC flow logs with Hive-compatible prefixes (two hour
// partitions in one region; no hour partition, and Parquet in an hour
// partition, in the other); a copy of the organisation trail, and of one
// Hive flow log, under a key prefix; and files that are not logs, in a
// day folder and at the top.
func backfillFixture() []bfObject {
	rng := rand.New(rand.NewPCG(1, 2))
	suffix := func() string {
		const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 16)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	var out []bfObject
	for d := range 5 {
		day := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
		folder := day.Format("2006/01/02/")
		stamp := day.Add(10*time.Hour + 15*time.Minute).Format("20060102T1504Z")
		for _, acct := range bfAccounts {
			for _, region := range bfRegions {
				ct := func(prefix, root string) {
					for range 3 { // same minute, random order of arrival
						out = append(out, bfObject{
							key:    fmt.Sprintf("%s%s%s/CloudTrail/%s/%s%s_CloudTrail_%s_%s_%s.json.gz", prefix, root, acct, region, folder, acct, region, stamp, suffix()),
							prefix: prefix, layout: LayoutOrganization, account: acct, region: region, kind: schemas.ObjectCloudTrail, day: day,
						})
					}
				}
				ct("", "AWSLogs/"+bfOrg+"/")
				ct("team-a/", "AWSLogs/"+bfOrg+"/")
				out = append(out,
					bfObject{
						key:    fmt.Sprintf("AWSLogs/%s/%s/CloudTrail-Digest/%s/%s%s_CloudTrail-Digest_%s_org-trail_us-east-1_%s.json.gz", bfOrg, acct, region, folder, acct, region, day.Add(11*time.Hour).Format("20060102T150405Z")),
						layout: LayoutOrganization, account: acct, region: region, kind: schemas.ObjectCloudTrailDigest, day: day,
					},
					bfObject{
						key:    fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s%s_CloudTrail_%s_%s_%s.json.gz", acct, region, folder, acct, region, stamp, suffix()),
						layout: LayoutAccount, account: acct, region: region, kind: schemas.ObjectCloudTrail, day: day,
					})
				hour := ""
				if region == "eu-west-1" {
					hour = "10/"
				}
				out = append(out, bfObject{
					key:    fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s%s%s_vpcflowlogs_%s_fl-0123456789abcdef0_%s_%08x.log.gz", acct, region, folder, hour, acct, region, stamp, rng.Uint32()),
					layout: LayoutAccount, account: acct, region: region, kind: schemas.ObjectVPCFlow, day: day,
				})
				hive := func(prefix, hour string, kind schemas.ObjectKind) {
					ext := ".log.gz"
					if kind == schemas.ObjectVPCFlowParquet {
						ext = ".log.parquet"
					}
					out = append(out, bfObject{
						key: fmt.Sprintf("%sAWSLogs/aws-account-id=%s/aws-service=vpcflowlogs/aws-region=%s/year=%04d/month=%02d/day=%02d/%s%s_vpcflowlogs_%s_fl-0fedcba9876543210_%s_%08x%s",
							prefix, acct, region, day.Year(), int(day.Month()), day.Day(), hour, acct, region, stamp, rng.Uint32(), ext),
						prefix: prefix, layout: LayoutHive, account: acct, region: region, kind: kind, day: day,
					})
				}
				if region == "eu-west-1" {
					hive("", "hour=03/", schemas.ObjectVPCFlow)
					hive("", "hour=21/", schemas.ObjectVPCFlow)
					if acct == bfAccounts[0] {
						hive("team-a/", "hour=03/", schemas.ObjectVPCFlow)
					}
				} else {
					hive("", "", schemas.ObjectVPCFlow)
					hive("", "hour=10/", schemas.ObjectVPCFlowParquet)
					out = append(out, bfObject{
						key:    fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s%s_vpcflowlogs_%s_fl-0123456789abcdef1_%s_%08x.log.parquet", acct, region, folder, acct, region, stamp, rng.Uint32()),
						layout: LayoutAccount, account: acct, region: region, kind: schemas.ObjectVPCFlowParquet, day: day,
					})
				}
			}
		}
		// Delivered just after midnight into the previous day's folder:
		// the folder decides, not the file name.
		out = append(out, bfObject{
			key:    fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/eu-west-1/%s%s_CloudTrail_eu-west-1_%s_%s.json.gz", bfOrg, bfAccounts[0], folder, bfAccounts[0], day.AddDate(0, 0, 1).Format("20060102T1504Z"), suffix()),
			layout: LayoutOrganization, account: bfAccounts[0], region: "eu-west-1", kind: schemas.ObjectCloudTrail, day: day,
		})
		out = append(out, bfObject{
			key:  fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/us-east-1/%snotes.txt", bfOrg, bfAccounts[1], folder),
			kind: schemas.ObjectUnknown, layout: LayoutOrganization, account: bfAccounts[1], region: "us-east-1", day: day,
		})
	}
	out = append(out,
		bfObject{key: "README.txt", kind: schemas.ObjectUnknown},
		bfObject{key: "AWSLogs/" + bfOrg + "/" + bfAccounts[0] + "/CloudTrail/eu-west-1/notes.txt", kind: schemas.ObjectUnknown},
		bfObject{key: "exports/" + bfAccounts[0] + "_CloudTrail_eu-west-1_20260301T1015Z_copycopycopycopy.json.gz", kind: schemas.ObjectCloudTrail},
	)
	return out
}

// bfBody returns a valid object body for o's kind.
func bfBody(t testing.TB, o bfObject) []byte {
	switch o.kind {
	case schemas.ObjectCloudTrail:
		return gz(mustRead(t, "testdata/cloudtrail/delivery.json"))
	case schemas.ObjectVPCFlowParquet:
		// Not a Parquet file: the backfill tests only list it.
		return []byte("PAR1 listed, not decoded PAR1")
	case schemas.ObjectVPCFlow:
		return gz([]byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
			"2 " + o.account + " eni-0a1b2c3d4e5f60718 203.0.113.12 10.0.1.5 44321 443 6 10 5000 1772446500 1772446560 ACCEPT OK\n"))
	}
	return []byte("{}")
}

// putFixture uploads objects to bucket.
func putFixture(t *testing.T, cl *s3.Client, bucket string, objects []bfObject) {
	t.Helper()
	for _, o := range objects {
		putObject(t, cl, bucket, o.key, bfBody(t, o))
	}
}

// bfSelect returns the keys of the fixture objects that a backfill over
// bfFrom to bfTo with cfg's filters must announce.
func bfSelect(objects []bfObject, cfg BackfillConfig) []string {
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var keys []string
	for _, o := range objects {
		switch {
		case o.layout == "" || o.prefix != prefix || !slices.Contains(cfg.Kinds, o.kind),
			o.day.Before(cfg.From) || o.day.After(cfg.To),
			!slices.Contains(cfg.Layouts, o.layout),
			o.layout == LayoutOrganization && !wanted(cfg.Orgs, bfOrg),
			!wanted(cfg.Accounts, o.account), !wanted(cfg.Regions, o.region):
			continue
		}
		keys = append(keys, o.key)
	}
	slices.Sort(keys)
	return keys
}

func bfConfig(bucket string) BackfillConfig {
	cfg := DefaultBackfillConfig()
	cfg.Buckets, cfg.From, cfg.To = []string{bucket}, bfFrom, bfTo
	cfg.ListConcurrency = 4
	cfg.ProgressInterval = time.Hour
	return cfg
}

// newBFEnv uploads the fixture to a new bucket and starts a broker: the
// setup of the tests that run a backfill over the default range, whose
// config and expected keys it returns too.
func newBFEnv(t *testing.T) (s3c *s3.Client, bucket string, objects []bfObject, kcfg kafka.Config, topics schemas.TopicNames, cfg BackfillConfig, want []string) {
	t.Helper()
	s3c, bucket = testS3(t)
	objects = backfillFixture()
	putFixture(t, s3c, bucket, objects)
	kcfg, topics = testBroker(t, 3)
	cfg = bfConfig(bucket)
	return s3c, bucket, objects, kcfg, topics, cfg, bfSelect(objects, cfg)
}

// runBackfill runs a backfill to its end.
func runBackfill(t *testing.T, ctx context.Context, cfg BackfillConfig, kcfg kafka.Config, topics schemas.TopicNames, lister BucketLister) (BackfillStats, error) {
	t.Helper()
	b, err := NewBackfill(cfg, kcfg, topics, lister, BackfillOutput{}, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Run(ctx)
}

// announcedKeys reads the objects topic: the backfill announcements' keys
// in order, checking each announcement's fields.
func announcedKeys(t *testing.T, kcfg kafka.Config, topics schemas.TopicNames, bucket string) []string {
	t.Helper()
	var keys []string
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicObjects)) {
		var o schemas.Object
		if err := json.Unmarshal(r.Value, &o); err != nil {
			t.Fatalf("announcement %q: %v", r.Value, err)
		}
		if o.Via != viaBackfill {
			continue
		}
		info := ClassifyKey(o.Key)
		switch {
		case o.V != schemas.ObjectVersion, o.Bucket != bucket, string(r.Key) != bucket+"/"+o.Key,
			o.Kind != info.Kind, o.AccountID != info.AccountID, o.Region != info.Region,
			o.Size <= 0, o.ETag == "", strings.Contains(o.ETag, `"`), o.Time.IsZero():
			t.Errorf("announcement with bad fields (record key %q): %+v", r.Key, o)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// startWorker runs an ingest worker until the test ends.
func startWorker(t *testing.T, kcfg kafka.Config, topics schemas.TopicNames, s3c *s3.Client) {
	t.Helper()
	w, err := New(testConfig(), kcfg, topics, s3c, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-errc; err != nil {
			t.Errorf("worker Run: %v", err)
		}
	})
}

// markerRecord returns an ingested-topic record: the done-marker of
// bucket/key with result, produced at at (now when zero).
func markerRecord(topics schemas.TopicNames, bucket, key, result string, at time.Time) *kgo.Record {
	if at.IsZero() {
		at = time.Now()
	}
	v, _ := json.Marshal(schemas.Ingested{V: 1, Bucket: bucket, Key: key, Result: result, Events: 4, Time: at.UTC()})
	return &kgo.Record{Topic: topics.Name(schemas.TopicIngested), Key: []byte(bucket + "/" + key), Value: v, Timestamp: at}
}

// seedRecords produces records outside any transaction. Records of one
// partition (of one key) land in the order given; a record's Timestamp,
// when set, is kept.
func seedRecords(t *testing.T, kcfg kafka.Config, records ...*kgo.Record) {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, "seed-plain", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// sameKeys fails unless got holds each key of want exactly once.
func sameKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
	}
	for _, k := range want {
		switch seen[k] {
		case 1:
		case 0:
			t.Errorf("%s: %s missing", what, k)
		default:
			t.Errorf("%s: %s announced %d times", what, k, seen[k])
		}
		delete(seen, k)
	}
	for k, n := range seen {
		t.Errorf("%s: %s announced %d times, not wanted", what, k, n)
	}
}

// TestBackfillAnnouncesRange lists one bucket with several filters and
// checks that exactly the in-range log objects are announced.
func TestBackfillAnnouncesRange(t *testing.T) {
	s3c, bucket := testS3(t)
	objects := backfillFixture()
	putFixture(t, s3c, bucket, objects)

	for _, tc := range []struct {
		name   string
		mutate func(*BackfillConfig)
		// ignored is how many listed objects are not logs of the kinds.
		ignored int64
	}{
		{"defaults", func(*BackfillConfig) {}, 2},
		{"organisation cloudtrail", func(c *BackfillConfig) {
			c.Layouts, c.Kinds = []string{LayoutOrganization}, []schemas.ObjectKind{schemas.ObjectCloudTrail}
		}, 2},
		{"account layout flow logs", func(c *BackfillConfig) {
			c.Layouts, c.Kinds = []string{LayoutAccount}, []schemas.ObjectKind{schemas.ObjectVPCFlow}
		}, 4},
		{"hive flow logs", func(c *BackfillConfig) {
			c.Layouts, c.Kinds = []string{LayoutHive}, []schemas.ObjectKind{schemas.ObjectVPCFlow}
		}, 4},
		{"hive parquet of one account", func(c *BackfillConfig) {
			c.Layouts, c.Accounts, c.Kinds = []string{LayoutHive}, []string{bfAccounts[0]}, []schemas.ObjectKind{schemas.ObjectVPCFlowParquet}
		}, 6},
		{"hive one account and region, one day", func(c *BackfillConfig) {
			c.Layouts, c.Accounts, c.Regions, c.From = []string{LayoutHive}, []string{bfAccounts[1]}, []string{"eu-west-1"}, c.To
		}, 0},
		{"flow logs of every layout", func(c *BackfillConfig) {
			c.Kinds = []schemas.ObjectKind{schemas.ObjectVPCFlow, schemas.ObjectVPCFlowParquet}
		}, 0},
		{"one account and region", func(c *BackfillConfig) {
			c.Accounts, c.Regions = []string{bfAccounts[1]}, []string{"us-east-1"}
		}, 2},
		{"named organisation", func(c *BackfillConfig) { c.Orgs = []string{bfOrg} }, 2},
		{"other organisation", func(c *BackfillConfig) {
			c.Orgs, c.Layouts = []string{"o-zzzzzzzzzz"}, []string{LayoutOrganization}
		}, 0},
		{"key prefix", func(c *BackfillConfig) { c.Prefix = "team-a" }, 0},
		{"one day", func(c *BackfillConfig) { c.From = c.To }, 1},
		{"small pages", func(c *BackfillConfig) { c.ListPageSize, c.ListConcurrency = 2, 1 }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kcfg, topics := testBroker(t, 3)
			cfg := bfConfig(bucket)
			tc.mutate(&cfg)
			want := bfSelect(objects, cfg)
			if len(want) == 0 && tc.name != "other organisation" {
				t.Fatal("fixture selects nothing")
			}
			stats, err := runBackfill(t, context.Background(), cfg, kcfg, topics, s3c)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			sameKeys(t, "announced", announcedKeys(t, kcfg, topics, bucket), want)
			if stats.Announced != int64(len(want)) || stats.Done != 0 || stats.Pending != 0 || stats.Ignored != tc.ignored ||
				stats.Listed != stats.Announced+stats.Ignored || stats.PrefixesListed != stats.Prefixes || stats.Phase != "done" {
				t.Errorf("stats = %+v, want %d announced and %d ignored", stats, len(want), tc.ignored)
			}
			checkLayoutCounts(t, stats, cfg, bfLayouts(objects, want))
		})
	}
}

// bfLayouts counts keys by the layout the fixture put them in.
func bfLayouts(objects []bfObject, keys []string) map[string]int64 {
	counts := map[string]int64{}
	for _, o := range objects {
		if slices.Contains(keys, o.key) {
			counts[o.layout]++
		}
	}
	return counts
}

// checkLayoutCounts checks the per-layout counts of stats: every
// configured layout and no other, sources adding up, and the
// announcements by layout.
func checkLayoutCounts(t *testing.T, stats BackfillStats, cfg BackfillConfig, announced map[string]int64) {
	t.Helper()
	var sources int64
	for _, l := range cfg.Layouts {
		n, ok := stats.SourcesByLayout[l]
		if !ok {
			t.Errorf("SourcesByLayout = %v: no %s", stats.SourcesByLayout, l)
		}
		sources += n
		if got := stats.AnnouncedByLayout[l]; got != announced[l] {
			t.Errorf("AnnouncedByLayout[%s] = %d, want %d", l, got, announced[l])
		}
	}
	if len(stats.SourcesByLayout) != len(cfg.Layouts) || len(stats.AnnouncedByLayout) != len(cfg.Layouts) || sources != stats.Sources {
		t.Errorf("by layout: sources %v, announced %v; want the layouts %v, sources adding up to %d",
			stats.SourcesByLayout, stats.AnnouncedByLayout, cfg.Layouts, stats.Sources)
	}
}

// TestBackfillSkipsDoneAndPending puts keys on the ingested topic (plain
// and in committed and aborted transactions) and on the objects topic (in
// several announcement shapes): done and pending keys are not announced,
// the rest are, and a second run announces nothing.
func TestBackfillSkipsDoneAndPending(t *testing.T) {
	s3c, bucket, objects, kcfg, topics, cfg, want := newBFEnv(t)

	ingested := func(key string) *kgo.Record { return markerRecord(topics, bucket, key, "ok", time.Time{}) }
	done, pending := want[:6], want[6:10]
	committed, aborted := want[10], want[11]
	var records []*kgo.Record
	for _, k := range done {
		records = append(records, ingested(k))
	}
	// A key outside the range, and one in another bucket: not tracked.
	records = append(records, ingested(objects[0].key))
	other := ingested(want[12])
	other.Key = []byte("another-bucket/" + want[12])
	records = append(records, other)
	for i, k := range pending {
		var v []byte
		if i%2 == 0 {
			v = objectJSON(bucket, k)
		} else {
			v = []byte(fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-03-01T10:20:00Z","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":10}}}]}`, bucket, k))
		}
		records = append(records, &kgo.Record{Topic: topics.Name(schemas.TopicObjects), Key: []byte(fmt.Sprint(i)), Value: v})
	}
	// The first done key announced too: done wins.
	records = append(records, &kgo.Record{Topic: topics.Name(schemas.TopicObjects), Value: objectJSON(bucket, done[0])})
	cl, err := kafka.NewClient(kcfg, "seed", nil, nil, kgo.TransactionalID("backfill-test-seed"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tx := range []struct {
		key    string
		commit kgo.TransactionEndTry
	}{{committed, kgo.TryCommit}, {aborted, kgo.TryAbort}} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, ingested(tx.key)).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, tx.commit); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	seedRecords(t, kcfg, records...)

	stats, err := runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	skip := append(append(slices.Clone(done), pending...), committed)
	var rest []string
	for _, k := range want {
		if !slices.Contains(skip, k) {
			rest = append(rest, k)
		}
	}
	sameKeys(t, "first run", announcedKeys(t, kcfg, topics, bucket), rest)
	if stats.Announced != int64(len(rest)) || stats.Done != int64(len(done)+1) || stats.Pending != int64(len(pending)) {
		t.Errorf("first run: stats = %+v, want %d announced, %d done, %d pending", stats, len(rest), len(done)+1, len(pending))
	}

	stats, err = runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if stats.Announced != 0 || stats.Done != int64(len(done)+1) || stats.Pending != int64(len(want)-len(done)-1) {
		t.Errorf("second run: stats = %+v, want nothing announced", stats)
	}
	sameKeys(t, "after the second run", announcedKeys(t, kcfg, topics, bucket), rest)
}

// cancelLister cancels a context at the n-th listing of a day prefix,
// before making it: an interruption in the middle of a backfill. It first
// calls settle, which waits for some announcements to be on the topic
// (listing is faster than the producer's start, and an interruption
// before any acknowledgement would test less).
type cancelLister struct {
	BucketLister
	at     int64
	calls  atomic.Int64
	settle func()
	cancel context.CancelFunc
}

func (l *cancelLister) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if in.Delimiter == nil && l.calls.Add(1) == l.at {
		l.settle()
		l.cancel()
	}
	return l.BucketLister.ListObjectsV2(ctx, in, opts...)
}

// TestBackfillResume interrupts a backfill half-way through, in the middle
// of day prefixes whose keys were written in the same minute, and resumes
// it: every key is announced exactly once over both runs, and a third run
// announces nothing.
func TestBackfillResume(t *testing.T) {
	s3c, bucket, _, kcfg, topics, cfg, want := newBFEnv(t)
	cfg.ListConcurrency, cfg.ListPageSize = 2, 2

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	settle := func() {
		cl, err := kafka.NewClient(kcfg, "settle", nil, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer cl.Close()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topics.Name(schemas.TopicObjects))
			var n int64
			ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
			if err == nil && n > 0 {
				return
			}
		}
		t.Error("no announcement acknowledged before the interruption")
	}
	lister := &cancelLister{BucketLister: s3c, at: 14, settle: settle, cancel: cancel}
	first, err := runBackfill(t, ctx, cfg, kcfg, topics, lister)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run = %v, want context.Canceled", err)
	}
	afterFirst := announcedKeys(t, kcfg, topics, bucket)
	if len(afterFirst) == 0 || len(afterFirst) >= len(want) || first.Announced != int64(len(afterFirst)) {
		t.Fatalf("interrupted run announced %d (stats %d) of %d: want some, not all", len(afterFirst), first.Announced, len(want))
	}

	t.Logf("interrupted run: %d of %d announced", len(afterFirst), len(want))

	second, err := runBackfill(t, context.Background(), cfg, kcfg, topics, s3c)
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	sameKeys(t, "after resuming", announcedKeys(t, kcfg, topics, bucket), want)
	if second.Pending != int64(len(afterFirst)) || second.Announced != int64(len(want)-len(afterFirst)) {
		t.Errorf("resumed run: stats = %+v, want %d pending and %d announced", second, len(afterFirst), len(want)-len(afterFirst))
	}

	third, err := runBackfill(t, context.Background(), cfg, kcfg, topics, s3c)
	if err != nil {
		t.Fatalf("third Run: %v", err)
	}
	if third.Announced != 0 || third.Pending != int64(len(want)) {
		t.Errorf("third run: stats = %+v, want nothing announced", third)
	}
}

// TestBackfillThenIngest runs the ingest worker over a backfill's
// announcements, then backfills new objects with Wait while a worker
// runs: the backfill returns once they are ingested, with their events.
func TestBackfillThenIngest(t *testing.T) {
	s3c, bucket := testS3(t)
	objects := backfillFixture()
	putFixture(t, s3c, bucket, objects)
	kcfg, topics := testBroker(t, 3)
	cfg := bfConfig(bucket)
	// The fixture's Parquet files are not Parquet: this test is about the
	// hand-over to ingest, not about a decoder.
	cfg.Kinds = slices.DeleteFunc(cfg.Kinds, func(k schemas.ObjectKind) bool { return k == schemas.ObjectVPCFlowParquet })
	want := bfSelect(objects, cfg)

	stats, err := runBackfill(t, context.Background(), cfg, kcfg, topics, s3c)
	if err != nil || stats.Announced != int64(len(want)) {
		t.Fatalf("Run = %v, stats %+v, want %d announced", err, stats, len(want))
	}
	w, err := New(testConfig(), kcfg, topics, s3c, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, w, kcfg, topics, len(want))
	results := map[string]string{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicIngested)) {
		var in schemas.Ingested
		if err := json.Unmarshal(r.Value, &in); err != nil {
			t.Fatal(err)
		}
		results[in.Key] = in.Result
	}
	for _, k := range want {
		wantResult := "ok"
		if ClassifyKey(k).Kind == schemas.ObjectCloudTrailDigest {
			wantResult = "digest"
		}
		if results[k] != wantResult {
			t.Errorf("%s: ingest result %q, want %q", k, results[k], wantResult)
		}
	}

	// Three more files arrive in the same minute as the others of a day
	// in range; a waiting backfill with a live worker sees them ingested.
	var fresh []bfObject
	for i := range 3 {
		o := objects[0]
		o.key = fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/eu-west-1/2026/03/02/%s_CloudTrail_eu-west-1_20260302T1015Z_late%012d.json.gz", bfOrg, bfAccounts[0], bfAccounts[0], i)
		o.kind = schemas.ObjectCloudTrail
		fresh = append(fresh, o)
	}
	putFixture(t, s3c, bucket, fresh)
	startWorker(t, kcfg, topics, s3c)

	cfg.Wait = true
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stats, err = runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	if err != nil {
		t.Fatalf("waiting Run: %v (stats %+v)", err, stats)
	}
	// delivery.json holds 4 events.
	if stats.Announced != 3 || stats.Done != int64(len(want)) || stats.Awaited != 3 || stats.Ingested != 3 || stats.Events != 12 {
		t.Errorf("waiting run: stats = %+v, want 3 announced and ingested with 12 events, %d done", stats, len(want))
	}
}

func TestBackfillConfigValidate(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		name    string
		mutate  func(*BackfillConfig)
		wantErr string
	}{
		{"valid", func(*BackfillConfig) {}, ""},
		{"no bucket", func(c *BackfillConfig) { c.Buckets = nil }, "backfill.buckets"},
		{"bad bucket", func(c *BackfillConfig) { c.Buckets = []string{"ok-bucket", "a/b"} }, "backfill.buckets[1]"},
		{"bucket twice", func(c *BackfillConfig) { c.Buckets = []string{"ok-bucket", "ok-bucket"} }, "backfill.buckets[1]"},
		{"prefix with AWSLogs", func(c *BackfillConfig) { c.Prefix = "x/AWSLogs/" }, "backfill.prefix"},
		{"unknown layout", func(c *BackfillConfig) { c.Layouts = []string{"org"} }, "backfill.layouts[0]"},
		{"hive layout alone", func(c *BackfillConfig) { c.Layouts = []string{LayoutHive} }, ""},
		{"retry some reasons", func(c *BackfillConfig) {
			c.RetryFailed, c.RetryReasons = true, []string{ReasonAccessDenied, ReasonObjectMissing}
		}, ""},
		{"retry an unknown reason", func(c *BackfillConfig) {
			c.RetryFailed, c.RetryReasons = true, []string{ReasonAccessDenied, "not_found"}
		}, "backfill.retry_reasons[1]"},
		{"reasons without retry", func(c *BackfillConfig) { c.RetryReasons = []string{ReasonAccessDenied} }, "backfill.retry_reasons"},
		{"bad org", func(c *BackfillConfig) { c.Orgs = []string{"o-short"} }, "backfill.orgs[0]"},
		{"bad account", func(c *BackfillConfig) { c.Accounts = []string{"111122223333", "1234"} }, "backfill.accounts[1]"},
		{"bad region", func(c *BackfillConfig) { c.Regions = []string{"Europe"} }, "backfill.regions[0]"},
		{"unknown kind", func(c *BackfillConfig) { c.Kinds = []schemas.ObjectKind{"unknown"} }, "backfill.kinds[0]"},
		{"no from", func(c *BackfillConfig) { c.From = time.Time{} }, "backfill.from"},
		{"from not a day", func(c *BackfillConfig) { c.From = c.From.Add(time.Hour) }, "backfill.from"},
		{"to before from", func(c *BackfillConfig) { c.To = day("2026-02-01") }, "backfill.to"},
		{"range too long", func(c *BackfillConfig) { c.From = day("2000-01-01") }, "backfill.to"},
		{"zero concurrency", func(c *BackfillConfig) { c.ListConcurrency = 0 }, "backfill.list_concurrency"},
		{"page too large", func(c *BackfillConfig) { c.ListPageSize = 5000 }, "backfill.list_page_size"},
		{"negative rate", func(c *BackfillConfig) { c.MaxObjectsPerSecond = -1 }, "backfill.max_objects_per_second"},
		{"few tracked keys", func(c *BackfillConfig) { c.MaxTrackedKeys = 10 }, "backfill.max_tracked_keys"},
		{"small buffer", func(c *BackfillConfig) { c.MaxBufferedRecords = 1 }, "backfill.max_buffered_records"},
		{"dry run and wait", func(c *BackfillConfig) { c.DryRun, c.Wait = true, true }, "backfill.wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bfConfig("trail-bucket")
			tc.mutate(&c)
			err := c.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate = %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
}

// TestBackfillScope checks which bucket/keys a run tracks: exactly those
// under its source folders and in its date range.
func TestBackfillScope(t *testing.T) {
	cfg := bfConfig("logs")
	r := &backfillRun{
		b:     &Backfill{cfg: cfg},
		roots: []string{"logs/AWSLogs/"},
		sources: map[string]dayFolders{
			"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/":                           plainDays,
			"logs/AWSLogs/111122223333/vpcflowlogs/eu-west-1/":                                       plainDays,
			"logs/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/": hiveDays,
		},
	}
	const hive = "logs/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region="
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/03/01/f.json.gz", true},
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/03/02/f.json.gz", true},
		{"logs/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/02/23/f.log.gz", true},
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/02/28/f.json.gz", false},
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/03/03/f.json.gz", false},
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-east-1/2026/03/01/f.json.gz", false},
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/3/1/f.json.gz", false},
		{"logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/f.json.gz", false},
		{"other/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2026/03/01/f.json.gz", false},
		{"logs/x/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/03/01/f.log.gz", false},
		{hive + "eu-west-1/year=2026/month=03/day=01/f.log.gz", true},
		{hive + "eu-west-1/year=2026/month=03/day=02/hour=23/f.log.parquet", true},
		{hive + "eu-west-1/year=2026/month=02/day=28/hour=23/f.log.gz", false},
		{hive + "eu-west-1/year=2026/month=03/day=03/f.log.gz", false},
		{hive + "us-east-1/year=2026/month=03/day=01/f.log.gz", false},
		{hive + "eu-west-1/2026/03/01/f.log.gz", false},
		{hive + "eu-west-1/year=2026/month=3/day=1/f.log.gz", false},
		{"logs/AWSLogs/111122223333/vpcflowlogs/eu-west-1/year=2026/month=03/day=01/f.log.gz", false},
	} {
		if got := r.inScope(tc.key); got != tc.want {
			t.Errorf("inScope(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

// TestBackfillLimiter checks the announcement rate cap on a fake clock.
func TestBackfillLimiter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perSecond float64
		calls     int
		want      time.Duration
	}{
		{"unlimited", 0, 100, 0},
		{"ten per second", 10, 21, 2 * time.Second},
		{"one per second", 1, 3, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newBackfillLimiter(tc.perSecond)
				start := time.Now()
				for range tc.calls {
					if err := l.wait(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				if got := time.Since(start); got != tc.want {
					t.Errorf("%d calls took %s, want %s", tc.calls, got, tc.want)
				}
			})
		})
	}
}

func TestBackfillSummary(t *testing.T) {
	stats := BackfillStats{
		Sources: 6, SourcesByLayout: map[string]int64{LayoutOrganization: 2, LayoutAccount: 2, LayoutHive: 2},
		PrefixesListed: 12, Listed: 40, ListedBytes: 4096, Announced: 9, AnnouncedBytes: 1024,
		AnnouncedByLayout: map[string]int64{LayoutOrganization: 4, LayoutAccount: 1, LayoutHive: 4},
		Retried:           3, RetriedReasons: map[string]int64{ReasonAccessDenied: 2, ReasonObjectMissing: 1},
		Done: 20, Pending: 5, Ignored: 4, Failed: 2, FailedReasons: map[string]int64{ReasonGzipCorrupt: 2},
		Elapsed: 1500 * time.Millisecond,
	}
	for _, tc := range []struct {
		name   string
		mutate func(*BackfillConfig)
		stats  BackfillStats
		want   string
	}{
		{"retrying dry run", func(c *BackfillConfig) { c.DryRun, c.RetryFailed = true, true }, stats,
			"6 sources (account 2, hive 2, organization 2), 12 prefixes listed, 40 objects (4.0 KiB), in 1.5s\n" +
				"would announce 9 (1.0 KiB): account 1, hive 4, organization 4; would retry 3 of them (access_denied 2, object_missing 1)\n" +
				"skipped 20 already ingested, 5 pending, 4 of other kinds\n" +
				"not retried: 2 dead-lettered by ingest (gzip_corrupt 2)\n"},
		{"retrying nothing", func(c *BackfillConfig) { c.RetryFailed = true }, BackfillStats{SourcesByLayout: map[string]int64{LayoutHive: 0}, AnnouncedByLayout: map[string]int64{LayoutHive: 0}},
			"0 sources (hive 0), 0 prefixes listed, 0 objects (0 B), in 0s\n" +
				"announced 0 (0 B): hive 0; retried 0 of them\n" +
				"skipped 0 already ingested, 0 pending, 0 of other kinds\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := bfConfig("logs")
			tc.mutate(&cfg)
			if got := tc.stats.Summary(&cfg); got != tc.want {
				t.Errorf("Summary =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestBackfillStats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stats    BackfillStats
		wantETA  time.Duration
		contains string
	}{
		{"nothing listed", BackfillStats{Phase: "list", Prefixes: 10}, -1, "prefixes 0/10"},
		{"a quarter", BackfillStats{Phase: "list", Prefixes: 8, PrefixesListed: 2, Announced: 50, AnnouncedBytes: 3 << 20, ListElapsed: 10 * time.Second}, 30 * time.Second, "announced 50 (3.0 MiB), done 0, pending 0, ignored 0, 5 obj/s, ETA 30s"},
		{"waiting", BackfillStats{Phase: "wait", Prefixes: 1, PrefixesListed: 1, Announced: 3, Awaited: 3, Ingested: 2, Events: 8, ListElapsed: time.Second}, 0, "ingested 2/3 (8 events)"},
		{"reconcile", BackfillStats{Phase: "reconcile", Sources: 4, ReconcileRecords: 1500}, -1, "4 sources, 1500 records read"},
		{"discover", BackfillStats{Phase: "discover", Sources: 5, SourcesByLayout: map[string]int64{LayoutOrganization: 3, LayoutHive: 2}, ListCalls: 9}, -1,
			"5 sources (hive 2, organization 3), 9 list calls"},
		{"retrying", BackfillStats{Phase: "list", Prefixes: 4, PrefixesListed: 4, Announced: 6, Retried: 2, Done: 3, Failed: 1, ListElapsed: time.Second}, 0,
			"announced 6 (0 B), retried 2, done 3, failed 1, pending 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.stats.ETA(); got != tc.wantETA {
				t.Errorf("ETA = %s, want %s", got, tc.wantETA)
			}
			if s := tc.stats.String(); !strings.Contains(s, tc.contains) {
				t.Errorf("String = %q, want it to contain %q", s, tc.contains)
			}
		})
	}
}
