// Package awscfg builds trailwatch's AWS SDK clients (S3 for log objects,
// SQS for notifications) from one configuration section, so the endpoint,
// credentials and retry policy are the same for every stage. With an empty
// Endpoint it talks to AWS with the SDK's default credential chain; with an
// Endpoint it talks to an S3-compatible server such as the local MinIO.
package awscfg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Config is the s3 section of the configuration file.
type Config struct {
	// Region is the AWS region for signing. Default us-east-1.
	Region string `yaml:"region"`
	// Endpoint is an S3-compatible endpoint URL (http://127.0.0.1:19100
	// for the local MinIO). Empty means AWS itself.
	Endpoint string `yaml:"endpoint"`
	// SQSEndpoint is an SQS endpoint URL to use instead of AWS's (a VPC
	// endpoint, or a test server speaking the SQS JSON protocol). It is
	// separate from Endpoint because an S3-compatible server seldom
	// serves SQS too. Empty means AWS itself.
	SQSEndpoint string `yaml:"sqs_endpoint"`
	// PathStyle addresses buckets as endpoint/bucket rather than
	// bucket.endpoint. It is always on when Endpoint is set (S3-compatible
	// servers expect it). Default false.
	PathStyle bool `yaml:"path_style"`
	// MaxAttempts bounds the SDK's attempts per request, retryable errors
	// only. Default 5.
	MaxAttempts int `yaml:"max_attempts"`
	// MaxBackoff caps the delay between attempts. Default 5s.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// AccessKeyID and SecretAccessKey come only from
	// TRAILWATCH_S3_ACCESS_KEY_ID and TRAILWATCH_S3_SECRET_ACCESS_KEY; when
	// unset the SDK's default chain (environment, profile, IRSA, instance
	// role) is used. They sign SQS requests too.
	AccessKeyID     string `yaml:"-" env:"TRAILWATCH_S3_ACCESS_KEY_ID"`
	SecretAccessKey string `yaml:"-" env:"TRAILWATCH_S3_SECRET_ACCESS_KEY"`
}

// DefaultConfig returns the defaults: AWS, us-east-1, 5 attempts.
func DefaultConfig() Config {
	return Config{Region: "us-east-1", MaxAttempts: 5, MaxBackoff: 5 * time.Second}
}

// Validate reports the first bad field by its YAML path under s3.
func (c *Config) Validate() error {
	if c.Region == "" {
		return errors.New("s3.region: must not be empty")
	}
	for _, e := range []struct{ name, url string }{{"s3.endpoint", c.Endpoint}, {"s3.sqs_endpoint", c.SQSEndpoint}} {
		if e.url == "" {
			continue
		}
		u, err := url.Parse(e.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", e.name, e.url)
		}
	}
	if c.MaxAttempts < 1 {
		return fmt.Errorf("s3.max_attempts: must be at least 1, got %d", c.MaxAttempts)
	}
	if c.MaxBackoff <= 0 {
		return fmt.Errorf("s3.max_backoff: must be positive, got %s", c.MaxBackoff)
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return errors.New("s3: TRAILWATCH_S3_ACCESS_KEY_ID and TRAILWATCH_S3_SECRET_ACCESS_KEY go together")
	}
	return nil
}

// Load returns the SDK configuration for c.
func (c *Config) Load(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(c.Region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = c.MaxAttempts
				o.MaxBackoff = c.MaxBackoff
			})
		}),
	}
	if c.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}

// S3 returns an S3 client for c.
func (c *Config) S3(ctx context.Context) (*s3.Client, error) {
	cfg, err := c.Load(ctx)
	if err != nil {
		return nil, err
	}
	pathStyle := c.PathStyle || c.Endpoint != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.UsePathStyle = pathStyle
	}), nil
}

// SQS returns an SQS client for c, for reading S3 event notifications from
// a queue. It talks to SQSEndpoint when set, and otherwise to AWS in
// Region; Endpoint (an S3-compatible server) does not apply. The SDK's
// HTTP client sets no overall request timeout, so ReceiveMessage long
// polls of up to 20s are not cut short.
func (c *Config) SQS(ctx context.Context) (*sqs.Client, error) {
	cfg, err := c.Load(ctx)
	if err != nil {
		return nil, err
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if c.SQSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.SQSEndpoint)
		}
	}), nil
}
