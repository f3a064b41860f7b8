package devstack

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/awscfg"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas"
)

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

			obj := awaitObject(ctx, t, consumer, tc.bucket, key)
			if obj.Size != int64(len(body)) {
				t.Errorf("announced size = %d, want %d", obj.Size, len(body))
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

// awaitObject reads until it finds the announcement of bucket/key, parsed
// the way ingest parses it: the stack's records must be what the pipeline
// reads.
func awaitObject(ctx context.Context, t *testing.T, cl *kgo.Client, bucket, key string) schemas.Object {
	t.Helper()
	for {
		fs := cl.PollRecords(ctx, 100)
		if ctx.Err() != nil {
			t.Fatalf("no announcement of s3://%s/%s on the objects topic before the deadline: %v", bucket, key, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		for _, r := range fs.Records() {
			objs, err := ingest.ParseNotification(r.Value)
			if err != nil {
				// Other tests share the topic; only our record matters.
				t.Logf("skip record %s[%d]@%d: %v", r.Topic, r.Partition, r.Offset, err)
				continue
			}
			for _, o := range objs {
				if o.Bucket == bucket && o.Key == key {
					return o
				}
			}
		}
	}
}
