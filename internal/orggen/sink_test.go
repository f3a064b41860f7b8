package orggen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestDirSink(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.Events, cfg.FlowRecords, cfg.Scenarios, cfg.Digests = 1_000, 300, nil, false
	g, err := New(cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := g.Run(context.Background(), NewDirSink(dir))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		bucket, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		if bucket != cfg.TrailBucket && bucket != cfg.FlowBucket {
			t.Errorf("%s is not under a bucket folder", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != sum.Objects {
		t.Fatalf("%d files on disk, summary says %d objects", n, sum.Objects)
	}
}

// TestS3SinkMinIO writes a small run into MinIO, through fresh buckets
// the sink creates, and lists them back.
func TestS3SinkMinIO(t *testing.T) {
	env := testenv.MinIO(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := s3.New(s3.Options{
		Region:       env.Region,
		BaseEndpoint: aws.String(env.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(env.AccessKey, env.SecretKey, ""),
	})
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	cfg := testConfig()
	cfg.Events, cfg.FlowRecords, cfg.Scenarios = 2_000, 500, []string{ScenarioBruteForce, ScenarioPortScan}
	cfg.TrailBucket, cfg.FlowBucket = "orggen-trail-"+suffix, "orggen-flow-"+suffix
	t.Cleanup(func() {
		for _, b := range []string{cfg.TrailBucket, cfg.FlowBucket} {
			emptyAndDeleteBucket(t, client, b)
		}
	})
	g, err := New(cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := g.Run(ctx, NewS3Sink(client, env.Region, true))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, b := range []string{cfg.TrailBucket, cfg.FlowBucket} {
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %s: %v", b, err)
			}
			for _, o := range page.Contents {
				key := aws.ToString(o.Key)
				switch {
				case b == cfg.FlowBucket && flowKeyRE.MatchString(key):
					counts["flow"]++
				case b == cfg.TrailBucket && ctKeyRE.MatchString(key):
					counts["cloudtrail"]++
				case b == cfg.TrailBucket && digestRE.MatchString(key):
					counts["digest"]++
				default:
					t.Errorf("unexpected object s3://%s/%s", b, key)
				}
			}
		}
	}
	if counts["cloudtrail"] != sum.CloudTrailObjects || counts["flow"] != sum.FlowObjects || counts["digest"] != sum.DigestObjects {
		t.Fatalf("listed %v, summary %d cloudtrail, %d flow, %d digest", counts, sum.CloudTrailObjects, sum.FlowObjects, sum.DigestObjects)
	}
}

// emptyAndDeleteBucket removes a test bucket and everything in it.
func emptyAndDeleteBucket(t *testing.T, client *s3.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Logf("clean up %s: %v", bucket, err)
			return
		}
		if len(page.Contents) == 0 {
			continue
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			t.Logf("clean up %s: %v", bucket, err)
			return
		}
	}
	if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Logf("delete bucket %s: %v", bucket, err)
	}
}
