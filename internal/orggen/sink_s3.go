package orggen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client S3Sink uses; *s3.Client implements
// it. Calls come from several goroutines at once.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, opts ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3Sink writes objects to S3 or an S3-compatible server.
type S3Sink struct {
	client S3API
	// region is where created buckets go.
	region string
	create bool
	// buckets holds one *bucketOnce per bucket, so each is created once.
	buckets sync.Map
}

var _ Sink = (*S3Sink)(nil)

type bucketOnce struct {
	once sync.Once
	err  error
}

// NewS3Sink returns a sink writing through client. With createBuckets,
// each bucket is created (in region) before its first object, and one
// that already exists and is ours is fine.
func NewS3Sink(client S3API, region string, createBuckets bool) *S3Sink {
	return &S3Sink{client: client, region: region, create: createBuckets}
}

// Put uploads body to s3://bucket/key.
func (s *S3Sink) Put(ctx context.Context, bucket, key string, body []byte) error {
	if s.create {
		if err := s.ensureBucket(ctx, bucket); err != nil {
			return err
		}
	}
	contentType := "application/octet-stream"
	if strings.HasSuffix(key, ".gz") {
		contentType = "application/x-gzip"
	} else if strings.HasSuffix(key, ".json") {
		contentType = "application/json"
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// DefaultConcurrency is 16 uploads at once: S3 writes wait on the network
// far more than they use a CPU.
func (s *S3Sink) DefaultConcurrency() int { return 16 }

func (s *S3Sink) ensureBucket(ctx context.Context, bucket string) error {
	v, _ := s.buckets.LoadOrStore(bucket, &bucketOnce{})
	b := v.(*bucketOnce)
	b.once.Do(func() {
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if s.region != "" && s.region != "us-east-1" {
			in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(s.region)}
		}
		_, err := s.client.CreateBucket(ctx, in)
		var owned *types.BucketAlreadyOwnedByYou
		var apiErr smithy.APIError
		switch {
		case err == nil, errors.As(err, &owned):
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "BucketAlreadyOwnedByYou":
		default:
			b.err = fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	})
	return b.err
}
