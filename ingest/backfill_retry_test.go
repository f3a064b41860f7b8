package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/schemas"
)

// bfKeysOf returns the keys of want that the fixture put in layout.
func bfKeysOf(objects []bfObject, want []string, layout string) []string {
	var keys []string
	for _, o := range objects {
		if o.layout == layout && slices.Contains(want, o.key) {
			keys = append(keys, o.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// TestBackfillRetryFailed seeds done-markers for every key in range, some
// of them failures (one superseded by a success, one superseding one,
// one announced before its failure, one announced after it by someone
// else), and checks what plain, dry, filtered and full retrying runs
// announce, run after run: each failed object once per failure, never
// twice, and again once ingest fails it again.
func TestBackfillRetryFailed(t *testing.T) {
	s3c, bucket, objects, kcfg, topics, cfg, want := newBFEnv(t)
	hive, org, acct := bfKeysOf(objects, want, LayoutHive), bfKeysOf(objects, want, LayoutOrganization), bfKeysOf(objects, want, LayoutAccount)
	if len(hive) < 2 || len(org) < 4 || len(acct) < 2 {
		t.Fatalf("fixture: %d hive, %d organisation, %d account keys in range", len(hive), len(org), len(acct))
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var (
		accessHive = hive[0] // access_denied
		accessOrg  = org[0]  // access_denied
		consumed   = org[1]  // announced, then access_denied
		latest     = org[2]  // ok, then access_denied
		recovered  = org[3]  // access_denied, then ok: done
		missing    = acct[0] // object_missing
		foreign    = acct[1] // object_missing, then announced by an S3 notification
		corrupt    = hive[1] // gzip_corrupt
	)
	failures := map[string]string{
		accessHive: ReasonAccessDenied, accessOrg: ReasonAccessDenied, consumed: ReasonAccessDenied, latest: ReasonAccessDenied,
		missing: ReasonObjectMissing, foreign: ReasonObjectMissing, corrupt: ReasonGzipCorrupt,
	}
	announce := func(key string, at time.Time) *kgo.Record {
		return &kgo.Record{Topic: topics.Name(schemas.TopicObjects), Key: []byte(bucket + "/" + key), Value: objectJSON(bucket, key), Timestamp: at}
	}
	records := []*kgo.Record{
		announce(consumed, t0.Add(-time.Hour)),
		markerRecord(topics, bucket, latest, "ok", t0.Add(-2*time.Hour)),
		markerRecord(topics, bucket, recovered, ReasonAccessDenied, t0.Add(-2*time.Hour)),
	}
	for _, k := range want {
		result := "ok"
		if ClassifyKey(k).Kind == schemas.ObjectCloudTrailDigest {
			result = "digest"
		}
		if r, ok := failures[k]; ok {
			result = r
		}
		records = append(records, markerRecord(topics, bucket, k, result, t0))
	}
	records = append(records, &kgo.Record{Topic: topics.Name(schemas.TopicObjects), Timestamp: t0.Add(10 * time.Minute),
		Value: fmt.Appendf(nil, `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"2026-03-01T10:20:00Z","s3":{"bucket":{"name":%q},"object":{"key":%q,"size":10}}}]}`, bucket, foreign)})
	seedRecords(t, kcfg, records...)

	ctx := context.Background()
	type expect struct {
		announced, pending, failed int64
		retried, failedReasons     map[string]int64
	}
	check := func(name string, stats BackfillStats, err error, e expect) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: Run: %v", name, err)
		}
		if stats.Announced != e.announced || stats.Retried != e.announced || stats.Pending != e.pending || stats.Failed != e.failed ||
			stats.Done != int64(len(want)-len(failures)) || !maps.Equal(stats.RetriedReasons, e.retried) || !maps.Equal(stats.FailedReasons, e.failedReasons) {
			t.Errorf("%s: stats = %+v,\nwant %d announced and retried (%v), %d pending, %d done, %d failed (%v)",
				name, stats, e.announced, e.retried, e.pending, len(want)-len(failures), e.failed, e.failedReasons)
		}
	}
	retryRun := func(reasons ...string) (BackfillStats, error) {
		c := cfg
		c.RetryFailed, c.RetryReasons = true, reasons
		return runBackfill(t, ctx, c, kcfg, topics, s3c)
	}

	stats, err := runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	check("plain run", stats, err, expect{failed: 7, failedReasons: map[string]int64{ReasonAccessDenied: 4, ReasonObjectMissing: 2, ReasonGzipCorrupt: 1}})
	sameKeys(t, "after the plain run", announcedKeys(t, kcfg, topics, bucket), nil)

	// A dry run counts, by reason, what a retry would announce, and
	// prints it.
	dry := cfg
	dry.RetryFailed, dry.DryRun = true, true
	var out bytes.Buffer
	b, err := NewBackfill(dry, kcfg, topics, s3c, BackfillOutput{DryRun: &out}, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stats, err = b.Run(ctx)
	check("dry run", stats, err, expect{announced: 6, pending: 1, retried: map[string]int64{ReasonAccessDenied: 4, ReasonObjectMissing: 1, ReasonGzipCorrupt: 1}})
	var printed []string
	for line := range strings.Lines(out.String()) {
		var o schemas.Object
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("dry run line %q: %v", line, err)
		}
		printed = append(printed, o.Key)
	}
	sameKeys(t, "dry run output", printed, []string{accessHive, accessOrg, consumed, latest, missing, corrupt})
	if s := stats.Summary(&dry); !strings.Contains(s, "would retry 6 of them (access_denied 4, gzip_corrupt 1, object_missing 1)") {
		t.Errorf("dry run summary:\n%s", s)
	}
	sameKeys(t, "after the dry run", announcedKeys(t, kcfg, topics, bucket), nil)

	accessDenied := []string{accessHive, accessOrg, consumed, latest}
	stats, err = retryRun(ReasonAccessDenied)
	check("retry access_denied", stats, err, expect{announced: 4, pending: 1, retried: map[string]int64{ReasonAccessDenied: 4},
		failed: 2, failedReasons: map[string]int64{ReasonObjectMissing: 1, ReasonGzipCorrupt: 1}})
	sameKeys(t, "after retrying access_denied", announcedKeys(t, kcfg, topics, bucket), accessDenied)
	stats, err = retryRun(ReasonAccessDenied)
	check("retry access_denied again", stats, err, expect{pending: 5, failed: 2, failedReasons: map[string]int64{ReasonObjectMissing: 1, ReasonGzipCorrupt: 1}})

	all := append(slices.Clone(accessDenied), missing, corrupt)
	stats, err = retryRun()
	check("retry every reason", stats, err, expect{announced: 2, pending: 5, retried: map[string]int64{ReasonObjectMissing: 1, ReasonGzipCorrupt: 1}})
	sameKeys(t, "after retrying every reason", announcedKeys(t, kcfg, topics, bucket), all)
	stats, err = retryRun()
	check("retry every reason again", stats, err, expect{pending: 7})

	// Each retry names the marker it retries.
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicObjects)) {
		var o schemas.Object
		if json.Unmarshal(r.Value, &o) != nil || o.Via != viaBackfill {
			continue // seeded above
		}
		key := o.Key
		var named []string
		for _, h := range r.Headers {
			if h.Key == retryHeader {
				named = append(named, string(h.Value))
			}
		}
		if len(named) != 1 {
			t.Errorf("retry of %s: headers %v, want one %s", key, r.Headers, retryHeader)
		} else if _, _, ok := parseRetryHeader([]byte(named[0])); !ok {
			t.Errorf("retry of %s: %s %q does not parse", key, retryHeader, named[0])
		}
	}

	// Ingest fails one of them again: a later marker, so the retry
	// announced for the earlier one no longer counts, even though the
	// worker's clock is behind the backfill's (the marker's timestamp is
	// before the retry's): the retry names the marker it retried.
	seedRecords(t, kcfg, markerRecord(topics, bucket, accessHive, ReasonAccessDenied, t0.Add(30*time.Minute)))
	stats, err = retryRun(ReasonAccessDenied)
	check("retry after a new failure", stats, err, expect{announced: 1, pending: 6, retried: map[string]int64{ReasonAccessDenied: 1}})
	stats, err = retryRun(ReasonAccessDenied)
	check("retry after a new failure again", stats, err, expect{pending: 7})
	got := announcedKeys(t, kcfg, topics, bucket)
	sameKeys(t, "after the new failure", slices.DeleteFunc(slices.Clone(got), func(k string) bool { return k == accessHive }), all[1:])
	if n := len(got) - len(all); n != 1 {
		t.Errorf("%s announced %d times over all runs, want 2", accessHive, n+1)
	}

	// A plain run still leaves every failure alone.
	stats, err = runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	check("plain run at the end", stats, err, expect{failed: 7, failedReasons: map[string]int64{ReasonAccessDenied: 4, ReasonObjectMissing: 2, ReasonGzipCorrupt: 1}})
}

// TestBackfillRetryThenIngest has the ingest worker dead-letter an object
// deleted before it was read (object_missing), restores the object, and
// retries it with Wait while a worker runs: the backfill returns once it
// is ingested, with its events, and a plain run then finds it done.
func TestBackfillRetryThenIngest(t *testing.T) {
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 3)
	o := bfObject{
		key:    fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/eu-west-1/2026/03/01/%s_CloudTrail_eu-west-1_20260301T1015Z_restoredrestored.json.gz", bfOrg, bfAccounts[0], bfAccounts[0]),
		layout: LayoutOrganization, account: bfAccounts[0], region: "eu-west-1", kind: schemas.ObjectCloudTrail, day: bfFrom,
	}
	putFixture(t, s3c, bucket, []bfObject{o})
	cfg := bfConfig(bucket)
	ctx := context.Background()
	if stats, err := runBackfill(t, ctx, cfg, kcfg, topics, s3c); err != nil || stats.Announced != 1 {
		t.Fatalf("first Run = %v, stats %+v, want 1 announced", err, stats)
	}
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key)}); err != nil {
		t.Fatal(err)
	}
	w, err := New(testConfig(), kcfg, topics, s3c, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, w, kcfg, topics, 1)
	putFixture(t, s3c, bucket, []bfObject{o})

	stats, err := runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	if err != nil || stats.Announced != 0 || stats.Failed != 1 || stats.FailedReasons[ReasonObjectMissing] != 1 {
		t.Fatalf("plain Run after the failure = %v, stats %+v, want 1 failed (object_missing), nothing announced", err, stats)
	}

	startWorker(t, kcfg, topics, s3c)
	cfg.RetryFailed, cfg.RetryReasons, cfg.Wait = true, []string{ReasonObjectMissing}, true
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	stats, err = runBackfill(t, rctx, cfg, kcfg, topics, s3c)
	// delivery.json holds 4 events.
	if err != nil || stats.Announced != 1 || stats.Retried != 1 || stats.Awaited != 1 || stats.Ingested != 1 || stats.Events != 4 {
		t.Fatalf("retrying Run = %v, stats %+v, want 1 retried and ingested with 4 events", err, stats)
	}

	cfg.RetryFailed, cfg.RetryReasons, cfg.Wait = false, nil, false
	stats, err = runBackfill(t, ctx, cfg, kcfg, topics, s3c)
	if err != nil || stats.Announced != 0 || stats.Done != 1 || stats.Failed != 0 {
		t.Fatalf("plain Run at the end = %v, stats %+v, want 1 done", err, stats)
	}
}

func TestMarkerFailure(t *testing.T) {
	marker := func(key, result string) []byte {
		v, _ := json.Marshal(schemas.Ingested{V: 1, Bucket: "b", Key: key, Result: result})
		return v
	}
	for _, tc := range []struct {
		name  string
		value []byte
		want  string
	}{
		{"ok", marker("k", "ok"), ""},
		{"digest", marker("k", "digest"), ""},
		{"access denied", marker("k", ReasonAccessDenied), ReasonAccessDenied},
		{"unsupported format", marker("k", ReasonUnsupportedFormat), ReasonUnsupportedFormat},
		{"ok spelled out in the key", marker(`x"result":"ok"`, ReasonObjectMissing), ReasonObjectMissing},
		{"ok with spaces", []byte(`{"v": 1, "result": "ok"}`), ""},
		{"no result", []byte(`{"v":1}`), ""},
		{"not JSON", []byte(`not json`), ""},
		{"tombstone", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := markerFailure(tc.value); got != tc.want {
				t.Errorf("markerFailure(%s) = %q, want %q", tc.value, got, tc.want)
			}
		})
	}
}

func TestRetryHeader(t *testing.T) {
	f := failure{reason: ReasonAccessDenied, partition: 7, offset: 1 << 40}
	if p, o, ok := parseRetryHeader(retryHeaderValue(f)); !ok || p != f.partition || o != f.offset {
		t.Errorf("round trip of %+v: %d, %d, %v", f, p, o, ok)
	}
	for _, bad := range []string{"", "3", "3/", "/4", "a/1", "1/b", "-1/2", "1/-2", "1/2/3", "4294967296/1"} {
		if _, _, ok := parseRetryHeader([]byte(bad)); ok {
			t.Errorf("parseRetryHeader(%q) accepted", bad)
		}
	}
}

func TestAnnouncedAfter(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f := failure{reason: ReasonAccessDenied, partition: 2, offset: 41, at: at.UnixMilli()}
	header := func(v string) []kgo.RecordHeader {
		return []kgo.RecordHeader{{Key: "other", Value: []byte("x")}, {Key: retryHeader, Value: []byte(v)}}
	}
	for _, tc := range []struct {
		name string
		rec  kgo.Record
		want bool
	}{
		{"retry of this failure", kgo.Record{Headers: header("2/41"), Timestamp: at.Add(-time.Hour)}, true},
		{"retry of an earlier failure", kgo.Record{Headers: header("2/17"), Timestamp: at.Add(time.Hour)}, false},
		{"retry of a marker on another partition", kgo.Record{Headers: header("1/41"), Timestamp: at.Add(time.Hour)}, false},
		{"retry header that does not parse", kgo.Record{Headers: header("2:41"), Timestamp: at.Add(time.Hour)}, false},
		{"announced after", kgo.Record{Timestamp: at.Add(time.Millisecond)}, true},
		{"announced in the same millisecond", kgo.Record{Timestamp: at}, false},
		{"announced before", kgo.Record{Timestamp: at.Add(-time.Second)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := announcedAfter(&tc.rec, f); got != tc.want {
				t.Errorf("announcedAfter = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestObjectReasonsComplete checks that objectReasons holds every Reason
// constant of errors.go but ReasonBadAnnouncement: a reason added there
// must be added to objectReasons too, or --retry-reasons refuses it.
func TestObjectReasonsComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Reason") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				if v != ReasonBadAnnouncement {
					declared = append(declared, v)
				}
			}
		}
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d reasons in errors.go: %v", len(declared), declared)
	}
	for _, r := range declared {
		if !slices.Contains(objectReasons, r) {
			t.Errorf("errors.go declares the reason %q, which objectReasons (backfill_retry.go) lacks: --retry-reasons would refuse it", r)
		}
	}
}
