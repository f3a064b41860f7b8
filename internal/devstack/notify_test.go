package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/internal/awscfg"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

// minioEvent is the value MinIO produces to Kafka: the standard S3 event
// Records array, with MinIO's own summary fields around it.
type minioEvent struct {
	EventName string     `json:"EventName"`
	Key       string     `json:"Key"`
	Records   []s3Record `json:"Records"`
}

// s3Record is one standard S3 event record, the fields the test reads.
type s3Record struct {
	EventName string `json:"eventName"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		} `json:"object"`
	} `json:"s3"`
}

// TestMinIOAnnouncesObjects is the stack's end-to-end check: an object put
// into a log bucket of the local MinIO arrives as an S3 event on the
// objects topic of the local broker. It also runs the bucket setup again,
// as every `make up` does, to show that it is idempotent.
func TestMinIOAnnouncesObjects(t *testing.T) {
	endpoint := testenv.MinIO(t)
	brokers := testenv.Brokers(t)
	cfg := DefaultConfig()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	s3cfg := awscfg.DefaultConfig()
	s3cfg.Endpoint, s3cfg.Region = endpoint.Endpoint, endpoint.Region
	s3cfg.AccessKeyID, s3cfg.SecretAccessKey = endpoint.AccessKey, endpoint.SecretKey
	client, err := s3cfg.S3(ctx)
	if err != nil {
		t.Fatalf("s3 client: %v", err)
	}
	for range 2 {
		if err := EnsureBuckets(ctx, client, cfg.MinIO.Buckets, cfg.QueueARN()); err != nil {
			t.Fatalf("EnsureBuckets: %v", err)
		}
	}

	for _, tc := range []struct {
		bucket string
		key    string
	}{
		// Keys outside AWSLogs/, so that a pipeline reading the same
		// topic classifies them as unknown rather than as broken logs.
		{"trailwatch-org-trail", "devstack-test/CloudTrail/us-east-1/%s.json.gz"},
		{"trailwatch-flow-logs", "devstack-test/vpcflowlogs/us-east-1/%s space+plus.log.gz"},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			notif, err := client.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(tc.bucket)})
			if err != nil {
				t.Fatalf("get notification configuration: %v", err)
			}
			var arns []string
			for _, q := range notif.QueueConfigurations {
				arns = append(arns, aws.ToString(q.QueueArn))
			}
			if len(arns) != 1 || withoutRegion(arns[0]) != withoutRegion(cfg.QueueARN()) {
				t.Fatalf("bucket notifies %v, want only %s", arns, cfg.QueueARN())
			}

			// Read from the current end, so records of earlier runs do
			// not count.
			consumer := consumerAtEnd(ctx, t, brokers, cfg.ObjectsTopic())
			key := fmt.Sprintf(tc.key, time.Now().UTC().Format("20060102T150405.000000000Z"))
			body := []byte("devstack notification test\n")
			if _, err := client.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(tc.bucket),
				Key:    aws.String(key),
				Body:   bytes.NewReader(body),
			}); err != nil {
				t.Fatalf("put s3://%s/%s: %v", tc.bucket, key, err)
			}
			t.Cleanup(func() {
				_, _ = client.DeleteObject(context.WithoutCancel(ctx), &s3.DeleteObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(key)})
			})

			rec := awaitEvent(ctx, t, consumer, tc.bucket, key)
			if rec.EventName != "s3:ObjectCreated:Put" {
				t.Errorf("eventName = %q, want s3:ObjectCreated:Put", rec.EventName)
			}
			if rec.S3.Object.Size != int64(len(body)) {
				t.Errorf("object size = %d, want %d", rec.S3.Object.Size, len(body))
			}
		})
	}
}

// withoutRegion drops the region from a MinIO queue ARN: MinIO answers
// with its own region filled in (arn:minio:sqs:us-east-1:id:kafka) where
// the configuration left it empty.
func withoutRegion(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) == 6 {
		parts[3] = ""
	}
	return strings.Join(parts, ":")
}

// consumerAtEnd returns a client that reads every partition of topic from
// its current end.
func consumerAtEnd(ctx context.Context, t *testing.T, brokers []string, topic string) *kgo.Client {
	t.Helper()
	adminCl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("new kafka client: %v", err)
	}
	defer adminCl.Close()
	ends, err := kadm.NewClient(adminCl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	if err := ends.Error(); err != nil {
		t.Fatalf("list end offsets of %s: %v (does the broker have the pipeline topics?)", topic, err)
	}
	at := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) { at[o.Partition] = kgo.NewOffset().At(o.Offset) })
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: at}))
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// awaitEvent reads until it finds the S3 event record for bucket/key.
func awaitEvent(ctx context.Context, t *testing.T, cl *kgo.Client, bucket, key string) s3Record {
	t.Helper()
	for {
		fs := cl.PollRecords(ctx, 100)
		if ctx.Err() != nil {
			t.Fatalf("no S3 event for s3://%s/%s on the objects topic before the deadline: %v", bucket, key, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		for _, r := range fs.Records() {
			var ev minioEvent
			if err := json.Unmarshal(r.Value, &ev); err != nil {
				t.Fatalf("record %s[%d]@%d is not an S3 event: %v: %s", r.Topic, r.Partition, r.Offset, err, r.Value)
			}
			for _, rec := range ev.Records {
				// S3 events carry the key URL-encoded.
				k, err := url.QueryUnescape(rec.S3.Object.Key)
				if err != nil {
					t.Fatalf("event key %q: %v", rec.S3.Object.Key, err)
				}
				if rec.S3.Bucket.Name == bucket && k == key {
					return rec
				}
			}
		}
	}
}
