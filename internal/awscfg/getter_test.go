package awscfg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestObjectURL(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, region, bucket, key string
		pathStyle                           bool
		want                                string
	}{
		{"aws virtual hosted", "", "eu-west-1", "logs", "AWSLogs/1/CloudTrail/f.json.gz", false,
			"https://logs.s3.eu-west-1.amazonaws.com/AWSLogs/1/CloudTrail/f.json.gz"},
		{"aws bucket with dots", "", "us-east-1", "my.logs", "k", false, "https://s3.us-east-1.amazonaws.com/my.logs/k"},
		{"aws path style", "", "us-east-1", "logs", "k", true, "https://s3.us-east-1.amazonaws.com/logs/k"},
		{"china partition", "", "cn-north-1", "logs", "k", false, "https://logs.s3.cn-north-1.amazonaws.com.cn/k"},
		{"endpoint", "http://127.0.0.1:19100", "us-east-1", "logs", "a b+c/é.gz", false,
			"http://127.0.0.1:19100/logs/a%20b%2Bc/%C3%A9.gz"},
		{"endpoint with path", "https://proxy.example/s3/", "us-east-1", "logs", "k", false, "https://proxy.example/s3/logs/k"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Region, c.Endpoint, c.PathStyle = tc.region, tc.endpoint, tc.pathStyle
			c.AccessKeyID, c.SecretAccessKey = "a", "b"
			g, err := c.Getter(context.Background(), 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.objectURL(tc.bucket, tc.key).String(); got != tc.want {
				t.Errorf("objectURL = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestGetterMinIO reads objects from the local MinIO with the Getter and
// checks bodies, ranges, preconditions and error codes against what the
// SDK client sees.
func TestGetterMinIO(t *testing.T) {
	m := testenv.MinIO(t)
	c := DefaultConfig()
	c.Endpoint, c.Region, c.AccessKeyID, c.SecretAccessKey = m.Endpoint, m.Region, m.AccessKey, m.SecretKey
	ctx := context.Background()
	sdk, err := c.S3(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("tw-getter-test-%d", time.Now().UnixNano()%1e9)
	if _, err := sdk.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"AWSLogs/1/CloudTrail/plain.json.gz", "odd keys/a b+c=d&e?f/é ü.json.gz"}
	body := bytes.Repeat([]byte("0123456789"), 1000)
	t.Cleanup(func() {
		for _, k := range keys {
			_, _ = sdk.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		}
		_, _ = sdk.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	var etag string
	for _, k := range keys {
		out, err := sdk.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		etag = aws.ToString(out.ETag)
	}
	g, err := c.Getter(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	bad := c
	bad.SecretAccessKey = "wrong"
	badGetter, err := bad.Getter(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		getter   *Getter
		in       *s3.GetObjectInput
		want     []byte
		wantCode string
	}{
		{"whole object", g, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[0])}, body, ""},
		{"key needing escapes", g, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[1])}, body, ""},
		{"range pinned to etag", g, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[1]),
			Range: aws.String("bytes=9990-"), IfMatch: aws.String(etag)}, body[9990:], ""},
		{"changed object", g, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[1]),
			Range: aws.String("bytes=10-"), IfMatch: aws.String(`"0123"`)}, nil, "PreconditionFailed"},
		{"missing key", g, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("nope")}, nil, "NoSuchKey"},
		{"missing bucket", g, &s3.GetObjectInput{Bucket: aws.String(bucket + "-nope"), Key: aws.String("k")}, nil, "NoSuchBucket"},
		{"wrong secret", badGetter, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[0])}, nil, "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.getter.GetObject(ctx, tc.in)
			if tc.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode {
					t.Fatalf("err = %v, want code %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer out.Body.Close()
			got, err := io.ReadAll(out.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) || aws.ToString(out.ETag) != etag {
				t.Fatalf("got %d bytes etag %s, want %d bytes etag %s", len(got), aws.ToString(out.ETag), len(tc.want), etag)
			}
			// A ranged answer says where it sits in the whole object,
			// as the SDK's does.
			wantRange := ""
			if tc.in.Range != nil {
				wantRange = fmt.Sprintf("bytes %d-%d/%d", len(body)-len(tc.want), len(body)-1, len(body))
			}
			if got := aws.ToString(out.ContentRange); got != wantRange {
				t.Errorf("ContentRange %q, want %q", got, wantRange)
			}
		})
	}
}

// processCPU is this process's user plus system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkGetterMinIO(b *testing.B) {
	m := testenv.MinIO(b)
	c := DefaultConfig()
	c.Endpoint, c.Region, c.AccessKeyID, c.SecretAccessKey = m.Endpoint, m.Region, m.AccessKey, m.SecretKey
	ctx := context.Background()
	sdk, _ := c.S3(ctx)
	bucket := fmt.Sprintf("tw-getter-bench-%d", time.Now().UnixNano()%1e9)
	_, _ = sdk.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	_, _ = sdk.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: bytes.NewReader(make([]byte, 2048))})
	defer func() {
		_, _ = sdk.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
		_, _ = sdk.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	}()
	g, _ := c.Getter(ctx, 4)
	for _, bc := range []struct {
		name string
		get  func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	}{{"sdk", sdk.GetObject}, {"getter", g.GetObject}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				out, err := bc.get(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, out.Body)
				out.Body.Close()
			}
			// Wall time per GET includes MinIO's own work on the same
			// machine; the client's CPU per GET is what ingest pays.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
