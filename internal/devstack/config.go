package devstack

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/trailwatch/trailwatch/internal/devbroker"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas"
)

// The local stack's MinIO credentials. They guard a server that listens on
// 127.0.0.1 only and holds generated data; they are fixed so that every
// developer's .state/env and every test agree on them.
const (
	// DevAccessKey is the local MinIO's root user.
	DevAccessKey = "trailwatch"
	// DevSecretKey is the local MinIO's root password.
	DevSecretKey = "trailwatch-dev-secret"
)

// Config says where the stack keeps its state and cache, which binaries it
// runs and on which addresses its services listen. Every address is on
// 127.0.0.1.
type Config struct {
	// RepoDir is the project's root folder, where deploy/local/geoip.sh
	// lives. Default "." (the stack scripts run from the root).
	RepoDir string `yaml:"repo_dir"`
	// StateDir holds each service's data, pid file and log, and the env
	// file. Default $TRAILWATCH_STATE_DIR; empty means <RepoDir>/.state.
	StateDir string `yaml:"state_dir"`
	// CacheDir holds installed tools, keyed by their pinned version, so
	// that a second start takes seconds. Default $TRAILWATCH_CACHE_DIR,
	// else ${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch.
	CacheDir string `yaml:"cache_dir"`
	// Binary is the trailwatch executable that runs the devbroker and
	// devclickhouse services. Default: the running executable.
	Binary string `yaml:"binary"`
	// StartTimeout bounds how long a service may take to become ready
	// after it starts. Default 60s.
	StartTimeout time.Duration `yaml:"start_timeout"`
	// InstallTimeout bounds each first-time install: building MinIO,
	// fetching the ClickHouse library, the GeoIP databases. Default 20m.
	InstallTimeout time.Duration `yaml:"install_timeout"`
	// StopTimeout bounds how long a service may take to exit after
	// SIGTERM before it is killed. Default 30s (the broker flushes its
	// data on the way out).
	StopTimeout time.Duration `yaml:"stop_timeout"`

	// Broker configures the Kafka-protocol broker.
	Broker BrokerConfig `yaml:"broker"`
	// MinIO configures the S3 server.
	MinIO MinIOConfig `yaml:"minio"`
	// ClickHouse configures the ClickHouse engine.
	ClickHouse ClickHouseConfig `yaml:"clickhouse"`
}

// BrokerConfig is the stack's Kafka-protocol broker (trailwatch devbroker).
type BrokerConfig struct {
	// Addr is where the broker listens. Default 127.0.0.1:19092.
	Addr string `yaml:"addr"`
	// Partitions is the partition count of each pipeline topic. Default 6.
	Partitions int32 `yaml:"partitions"`
	// TopicPrefix starts every pipeline topic's name. Default "trailwatch.".
	TopicPrefix string `yaml:"topic_prefix"`
}

// MinIOConfig is the stack's S3 server.
type MinIOConfig struct {
	// Module is the Go module MinIO is built from. Default
	// github.com/minio/minio.
	Module string `yaml:"module"`
	// Version is the pinned module version; it also names the cache
	// folder of the built binary. Default v0.0.0-20260212201848-7aac2a2c5b7c.
	Version string `yaml:"version"`
	// Addr is where the S3 API listens. Default 127.0.0.1:19100.
	Addr string `yaml:"addr"`
	// ConsoleAddr is where the web console listens. Default 127.0.0.1:19101.
	ConsoleAddr string `yaml:"console_addr"`
	// Region is the region MinIO reports and clients sign for.
	// Default us-east-1.
	Region string `yaml:"region"`
	// Buckets are the log buckets created at start, each announcing new
	// objects on the objects topic. Default trailwatch-org-trail
	// (CloudTrail) and trailwatch-flow-logs (VPC Flow Logs).
	Buckets []string `yaml:"buckets"`
	// NotifyID names MinIO's Kafka notification target; the buckets'
	// notification configuration refers to it as
	// arn:minio:sqs::<NotifyID>:kafka. Default trailwatch.
	NotifyID string `yaml:"notify_id"`
}

// ClickHouseConfig is the stack's ClickHouse engine (trailwatch
// devclickhouse).
type ClickHouseConfig struct {
	// TCPPort is the native protocol's port on 127.0.0.1. Default 19000.
	TCPPort int `yaml:"tcp_port"`
	// HTTPPort is the HTTP interface's port on 127.0.0.1. Default 18123.
	HTTPPort int `yaml:"http_port"`
	// StartTimeout bounds how long the engine may take to answer after it
	// starts; loading its 566 MB library takes longer than the other
	// services. Default 3m.
	StartTimeout time.Duration `yaml:"start_timeout"`
}

// DefaultConfig returns the stack's fixed contract: the ports, credentials,
// buckets and pinned versions that .state/env and the tests rely on. The
// folders come from the environment as the Config fields say.
func DefaultConfig() Config {
	return Config{
		RepoDir:      ".",
		StateDir:     os.Getenv("TRAILWATCH_STATE_DIR"),
		CacheDir:     defaultCacheDir(),
		StartTimeout: 60 * time.Second,
		StopTimeout:  30 * time.Second,
		// Building MinIO takes 2 to 5 minutes on two busy cores.
		InstallTimeout: 20 * time.Minute,
		Broker: BrokerConfig{
			Addr:        devbroker.DefaultConfig().Addr,
			Partitions:  devbroker.DefaultPartitions,
			TopicPrefix: kafka.DefaultTopicsConfig().Prefix,
		},
		MinIO: MinIOConfig{
			Module:      "github.com/minio/minio",
			Version:     "v0.0.0-20260212201848-7aac2a2c5b7c",
			Addr:        "127.0.0.1:19100",
			ConsoleAddr: "127.0.0.1:19101",
			Region:      "us-east-1",
			Buckets:     []string{"trailwatch-org-trail", "trailwatch-flow-logs"},
			NotifyID:    "trailwatch",
		},
		ClickHouse: ClickHouseConfig{
			TCPPort:      19000,
			HTTPPort:     18123,
			StartTimeout: 3 * time.Minute,
		},
	}
}

func defaultCacheDir() string {
	if d := os.Getenv("TRAILWATCH_CACHE_DIR"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			// Validate names the field; a cache under the state folder
			// would be wiped by `make clean`, so leave it empty.
			return ""
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "trailwatch")
}

// Validate reports the first bad field by its YAML path under devstack.
func (c *Config) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"devstack.repo_dir", c.RepoDir},
		{"devstack.cache_dir", c.CacheDir},
		{"devstack.minio.module", c.MinIO.Module},
		{"devstack.minio.version", c.MinIO.Version},
		{"devstack.minio.region", c.MinIO.Region},
		{"devstack.minio.notify_id", c.MinIO.NotifyID},
	} {
		if f.value == "" {
			return fmt.Errorf("%s: must not be empty", f.name)
		}
	}
	for _, f := range []struct{ name, addr string }{
		{"devstack.broker.addr", c.Broker.Addr},
		{"devstack.minio.addr", c.MinIO.Addr},
		{"devstack.minio.console_addr", c.MinIO.ConsoleAddr},
	} {
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, f := range []struct {
		name string
		port int
	}{
		{"devstack.clickhouse.tcp_port", c.ClickHouse.TCPPort},
		{"devstack.clickhouse.http_port", c.ClickHouse.HTTPPort},
	} {
		if f.port < 1 || f.port > 65535 {
			return fmt.Errorf("%s: %d is not a port", f.name, f.port)
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"devstack.start_timeout", c.StartTimeout},
		{"devstack.stop_timeout", c.StopTimeout},
		{"devstack.install_timeout", c.InstallTimeout},
		{"devstack.clickhouse.start_timeout", c.ClickHouse.StartTimeout},
	} {
		if f.d <= 0 {
			return fmt.Errorf("%s: must be positive, got %s", f.name, f.d)
		}
	}
	if c.Broker.Partitions < 1 {
		return fmt.Errorf("devstack.broker.partitions: must be at least 1, got %d", c.Broker.Partitions)
	}
	if len(c.MinIO.Buckets) == 0 {
		return errors.New("devstack.minio.buckets: at least one bucket is needed")
	}
	return nil
}

// ObjectsTopic returns the topic MinIO announces new objects on.
func (c *Config) ObjectsTopic() string {
	return schemas.TopicNames{Prefix: c.Broker.TopicPrefix}.Name(schemas.TopicObjects)
}

// QueueARN returns the ARN that a bucket notification configuration uses
// to name MinIO's Kafka target.
func (c *Config) QueueARN() string { return "arn:minio:sqs::" + c.MinIO.NotifyID + ":kafka" }

// MinIOBinary returns where the pinned MinIO build lives in the cache.
func (c *Config) MinIOBinary() string {
	return filepath.Join(c.CacheDir, "minio", c.MinIO.Version, "minio")
}

// EnvFile returns the path of the sourceable file `up` writes.
func (c *Config) EnvFile() string { return filepath.Join(c.StateDir, "env") }

// absolute returns c with its folders made absolute, so that pid-file
// checks and child processes do not depend on the working directory.
func (c Config) absolute() (Config, error) {
	if c.StateDir == "" {
		c.StateDir = filepath.Join(c.RepoDir, ".state")
	}
	for _, p := range []*string{&c.RepoDir, &c.StateDir, &c.CacheDir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return c, fmt.Errorf("resolve %s: %w", *p, err)
		}
		*p = abs
	}
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("find the trailwatch executable: %w", err)
		}
		c.Binary = exe
	}
	return c, nil
}
