package devstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwatch/trailwatch/internal/awscfg"
)

// NotificationID is the id of the queue configuration that EnsureBuckets
// puts on each bucket.
const NotificationID = "trailwatch-objects"

// s3Config returns the client configuration for the stack's MinIO, the
// same one the pipeline gets from .state/env.
func (c *Config) s3Config() awscfg.Config {
	s3 := awscfg.DefaultConfig()
	s3.Endpoint = "http://" + c.MinIO.Addr
	s3.Region = c.MinIO.Region
	s3.AccessKeyID = DevAccessKey
	s3.SecretAccessKey = DevSecretKey
	return s3
}

// EnsureBuckets creates each bucket that does not exist yet and sets its
// notification configuration so that every created object
// (s3:ObjectCreated:*) is announced to the queue target queueARN, which on
// the local MinIO is its Kafka target. Setting the configuration replaces
// the bucket's previous one, so EnsureBuckets can run on every start.
func EnsureBuckets(ctx context.Context, client *s3.Client, buckets []string, queueARN string) error {
	for _, b := range buckets {
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		var owned *types.BucketAlreadyOwnedByYou
		var exists *types.BucketAlreadyExists
		if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
		_, err = client.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(b),
			NotificationConfiguration: &types.NotificationConfiguration{
				QueueConfigurations: []types.QueueConfiguration{{
					Id:       aws.String(NotificationID),
					QueueArn: aws.String(queueARN),
					Events:   []types.Event{"s3:ObjectCreated:*"},
				}},
			},
		})
		if err != nil {
			return fmt.Errorf("put notification configuration of bucket %s: %w", b, err)
		}
	}
	return nil
}

// minioService is the S3 server, built from its pinned version on first
// use, announcing new objects straight to the broker.
func (s *Stack) minioService() service {
	c := &s.cfg
	dir := filepath.Join(c.StateDir, "minio")
	data := filepath.Join(dir, "data")
	health := "http://" + c.MinIO.Addr + "/minio/health/live"
	return service{
		process: s.process("minio", data),
		endpoints: []Endpoint{
			{"s3", "http://" + c.MinIO.Addr},
			{"minio console", "http://" + c.MinIO.ConsoleAddr},
		},
		addrs:   []string{c.MinIO.Addr, c.MinIO.ConsoleAddr},
		timeout: c.StartTimeout,
		install: s.installMinIO,
		command: func() *exec.Cmd {
			cmd := exec.Command(c.MinIOBinary(), "server",
				"--address", c.MinIO.Addr,
				"--console-address", c.MinIO.ConsoleAddr,
				"--certs-dir", filepath.Join(dir, "certs"),
				data)
			// MinIO reads a target's settings from variables suffixed
			// _<ID> and takes the ID verbatim, case included, and an ARN
			// must match it exactly: keep the suffix in the case of the
			// ARN (arn:minio:sqs::trailwatch:kafka), not upper case.
			id := "_" + c.MinIO.NotifyID
			cmd.Env = s.childEnv(
				"MINIO_ROOT_USER="+DevAccessKey,
				"MINIO_ROOT_PASSWORD="+DevSecretKey,
				"MINIO_SITE_REGION="+c.MinIO.Region,
				"MINIO_UPDATE=off",
				"MINIO_NOTIFY_KAFKA_ENABLE"+id+"=on",
				"MINIO_NOTIFY_KAFKA_BROKERS"+id+"="+c.Broker.Addr,
				"MINIO_NOTIFY_KAFKA_TOPIC"+id+"="+c.ObjectsTopic(),
				// No queue dir: with one, MinIO parks every event on
				// disk and a sender polls the folder every 3s, which
				// would eat the pipeline's 3s detection budget. Sent
				// directly, an event reaches the topic in milliseconds;
				// the stack starts the broker before MinIO and stops it
				// after, so the broker is there to take it.
			)
			return cmd
		},
		what:  health,
		ready: func(ctx context.Context) error { return httpOK(ctx, health) },
		setup: func(ctx context.Context) error {
			s3cfg := c.s3Config()
			client, err := s3cfg.S3(ctx)
			if err != nil {
				return fmt.Errorf("set up minio buckets: %w", err)
			}
			if err := EnsureBuckets(ctx, client, c.MinIO.Buckets, c.QueueARN()); err != nil {
				return fmt.Errorf("set up minio buckets: %w", err)
			}
			fmt.Fprintf(s.out, "%-12s buckets %v announce new objects on %s\n", "minio", c.MinIO.Buckets, c.ObjectsTopic())
			return nil
		},
	}
}

// installMinIO builds the pinned MinIO into the cache unless it is there.
// It builds into a temporary folder and moves the binary into place, so an
// interrupted build never leaves a broken binary behind.
func (s *Stack) installMinIO(ctx context.Context) error {
	c := &s.cfg
	bin := c.MinIOBinary()
	if _, err := os.Stat(bin); err == nil {
		return nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("build minio: the go tool is needed to build %s@%s: %w", c.MinIO.Module, c.MinIO.Version, err)
	}
	parent := filepath.Dir(filepath.Dir(bin))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".install-")
	if err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	defer os.RemoveAll(tmp)

	p := s.process("minio-install", "")
	fmt.Fprintf(s.out, "%-12s building %s@%s with go install, once (2 to 5 minutes); log: %s\n", "minio", c.MinIO.Module, c.MinIO.Version, p.logFile)
	started := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.InstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", c.MinIO.Module+"@"+c.MinIO.Version)
	// Outside the project, with no workspace, so that neither its go.mod
	// nor a go.work changes what is built.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off")
	if err := os.MkdirAll(filepath.Dir(p.logFile), 0o755); err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	log, err := os.Create(p.logFile)
	if err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build minio %s: %w; see %s%s", c.MinIO.Version, err, p.logFile, p.logTail(15))
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return fmt.Errorf("build minio: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "minio"), bin); err != nil {
		return fmt.Errorf("build minio: install binary: %w", err)
	}
	fmt.Fprintf(s.out, "%-12s built in %s: %s\n", "minio", time.Since(started).Round(time.Second), bin)
	return nil
}

// httpOK returns nil when a GET of url answers 200.
func httpOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", url, resp.Status)
	}
	return nil
}
