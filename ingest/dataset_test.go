package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/schemas"
)

// TestDatasetEndToEnd ingests the real CloudTrail dataset beside the
// project (3,872 delivery files) from MinIO through a worker into the
// events topic, and checks the counts its README gives: 30,477 records
// holding 23,981 distinct eventIDs (CloudTrail delivered some twice).
func TestDatasetEndToEnd(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "datasets", "cloudtrail-sans-s3-ransomware")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("dataset missing under CI: %v", err)
		}
		t.Skipf("dataset not found at %s", dir)
	}
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 6)

	var keys []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".gz" {
			rel, _ := filepath.Rel(dir, path)
			// Keys as a real account trail writes them.
			keys = append(keys, "AWSLogs/342082656213/CloudTrail/"+filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for _, k := range keys {
		g.Go(func() error {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k[len("AWSLogs/342082656213/CloudTrail/"):])))
			if err != nil {
				return err
			}
			_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(b)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var ann [][]byte
	for _, k := range keys {
		ann = append(ann, objectJSON(bucket, k))
	}
	announce(t, kcfg, topics, ann...)

	cfg := testConfig()
	cfg.Concurrency = 16
	// The worker reads through the default S3 client (the lean Getter),
	// as a deployed worker does.
	w, err := New(cfg, kcfg, topics, testGetter(t, cfg.Concurrency), testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, w, kcfg, topics, len(keys))

	events := readCommitted(t, kcfg, topics.Name(schemas.TopicEvents))
	distinct := map[string]bool{}
	for _, r := range events {
		var ev schemas.Event
		if err := schemas.UnmarshalEvent(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.AccountID != "342082656213" || ev.Region == "" {
			t.Fatalf("event %s: account %q region %q", ev.ID, ev.AccountID, ev.Region)
		}
		distinct[ev.ID] = true
	}
	if len(keys) != 3872 || len(events) != 30477 || len(distinct) != 23981 {
		t.Fatalf("%d files gave %d events, %d distinct; want 3872 files, 30477 events, 23981 distinct",
			len(keys), len(events), len(distinct))
	}
	if dl := readCommitted(t, kcfg, topics.Name(schemas.TopicDLQ)); len(dl) != 0 {
		t.Fatalf("%d dead letters from a clean dataset", len(dl))
	}
}
