package ingest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Config is the ingest section of the configuration file.
type Config struct {
	// Group is the consumer group the ingest workers share. Default
	// "trailwatch-ingest".
	Group string `yaml:"group"`
	// TransactionalID identifies this worker's transactional producer. It
	// must differ between live workers and should stay the same when a
	// worker restarts: the new process then fences the dead one and aborts
	// its open transaction at once, instead of consumers waiting up to
	// TransactionTimeout for the broker to expire it. Default
	// "trailwatch-ingest-" plus the host name (stable for a StatefulSet
	// pod; set it explicitly to run several workers on one host).
	TransactionalID string `yaml:"transactional_id"`
	// Concurrency is how many objects one worker reads at once. Most
	// CloudTrail objects are a few kilobytes, so throughput on small
	// objects depends on it. Default 16.
	Concurrency int `yaml:"concurrency"`
	// MaxObjectsPerTransaction bounds the objects-topic records taken into
	// one transaction. Default 256.
	MaxObjectsPerTransaction int `yaml:"max_objects_per_transaction"`
	// TransactionTimeout is how long the broker lets a transaction stay
	// open before aborting it; it bounds how long the largest object may
	// take to read. Default 5m.
	TransactionTimeout time.Duration `yaml:"transaction_timeout"`
	// SessionTimeout is how long the group waits for a silent worker
	// before handing its partitions to others: the pause after a worker
	// dies. Default 45s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// RebalanceTimeout is how long the group waits for every worker to
	// finish its open transaction and rejoin during a rebalance, and how
	// long a worker that died mid-rebalance keeps its partitions. A batch
	// should end well within it (see MaxObjectsPerTransaction); one that
	// does not is aborted and read again. Default 60s.
	RebalanceTimeout time.Duration `yaml:"rebalance_timeout"`
	// MaxBufferedRecords bounds the records waiting to be produced; a full
	// buffer slows decoding down rather than growing memory. Default 50000.
	MaxBufferedRecords int `yaml:"max_buffered_records"`
	// Linger is how long the producer waits to fill a batch. Default 5ms.
	Linger time.Duration `yaml:"linger"`
	// Compression is the producer's batch compression: none, lz4, zstd,
	// snappy or gzip. Default snappy: on this project's benchmark it cost
	// the least CPU per event of the four codecs (`trailwatch bench
	// ingest` with TRAILWATCH_INGEST_COMPRESSION set compares them).
	Compression string `yaml:"compression"`
	// MaxResumes is how often one object read is resumed with a Range
	// request after its connection fails. Default 5.
	MaxResumes int `yaml:"max_resumes"`
	// RetryBackoff is the first delay after a batch is aborted for a
	// retryable error; it doubles up to MaxRetryBackoff. Defaults 500ms
	// and 30s.
	RetryBackoff    time.Duration `yaml:"retry_backoff"`
	MaxRetryBackoff time.Duration `yaml:"max_retry_backoff"`
	// S3Client picks how objects are fetched: "fast", a plain signed GET
	// without the AWS SDK's per-request middleware (several times less
	// CPU per object, which is what small CloudTrail objects cost), or
	// "sdk", the SDK's client (for access points, S3 Express or FIPS
	// endpoints). Default fast.
	S3Client string `yaml:"s3_client"`
	// DeadLetterPayloadBytes bounds the bad input kept in a dead-letter
	// record. Default 4096.
	DeadLetterPayloadBytes int `yaml:"dead_letter_payload_bytes"`
	// Limits bound the decoding of one object.
	Limits Limits `yaml:"limits"`
	// SQS configures discovery from an SQS queue of S3 event
	// notifications. It is off unless SQS.QueueURL is set; then the
	// ingest process also receives from the queue and publishes the
	// announced objects to the objects topic (see SQSBridge).
	SQS SQSConfig `yaml:"sqs"`
}

// DefaultConfig returns the default ingest settings.
func DefaultConfig() Config {
	return Config{
		Group:                    "trailwatch-ingest",
		Concurrency:              16,
		MaxObjectsPerTransaction: 256,
		TransactionTimeout:       5 * time.Minute,
		SessionTimeout:           45 * time.Second,
		RebalanceTimeout:         60 * time.Second,
		MaxBufferedRecords:       50000,
		Linger:                   5 * time.Millisecond,
		Compression:              "snappy",
		MaxResumes:               5,
		RetryBackoff:             500 * time.Millisecond,
		MaxRetryBackoff:          30 * time.Second,
		DeadLetterPayloadBytes:   4096,
		S3Client:                 "fast",
		Limits:                   DefaultLimits(),
		SQS:                      DefaultSQSConfig(),
	}
}

// Validate reports the first bad field by its YAML path under ingest.
func (c *Config) Validate() error {
	switch {
	case c.Group == "":
		return errors.New("ingest.group: must not be empty")
	case c.Concurrency < 1:
		return fmt.Errorf("ingest.concurrency: must be at least 1, got %d", c.Concurrency)
	case c.MaxObjectsPerTransaction < 1:
		return fmt.Errorf("ingest.max_objects_per_transaction: must be at least 1, got %d", c.MaxObjectsPerTransaction)
	case c.TransactionTimeout < time.Second:
		return fmt.Errorf("ingest.transaction_timeout: must be at least 1s, got %s", c.TransactionTimeout)
	case c.SessionTimeout < time.Second:
		return fmt.Errorf("ingest.session_timeout: must be at least 1s, got %s", c.SessionTimeout)
	case c.RebalanceTimeout < time.Second:
		return fmt.Errorf("ingest.rebalance_timeout: must be at least 1s, got %s", c.RebalanceTimeout)
	case c.MaxBufferedRecords < 100:
		return fmt.Errorf("ingest.max_buffered_records: must be at least 100, got %d", c.MaxBufferedRecords)
	case c.Linger < 0:
		return errors.New("ingest.linger: must not be negative")
	case c.MaxResumes < 0:
		return errors.New("ingest.max_resumes: must not be negative")
	case c.RetryBackoff <= 0 || c.MaxRetryBackoff < c.RetryBackoff:
		return errors.New("ingest.retry_backoff: must be positive and at most max_retry_backoff")
	case c.S3Client != "fast" && c.S3Client != "sdk":
		return fmt.Errorf("ingest.s3_client: %q is not fast or sdk", c.S3Client)
	case c.DeadLetterPayloadBytes < 0:
		return errors.New("ingest.dead_letter_payload_bytes: must not be negative")
	}
	if _, err := compressionCodec(c.Compression); err != nil {
		return fmt.Errorf("ingest.compression: %w", err)
	}
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	// The SQS settings matter only when SQS discovery is on: their
	// defaults stay valid without a queue, and a worker-only process must
	// not fail over them.
	if c.SQS.QueueURL != "" {
		return c.SQS.Validate()
	}
	return nil
}

// transactionalID returns the configured id or a per-process default.
func (c *Config) transactionalID() string {
	if c.TransactionalID != "" {
		return c.TransactionalID
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "pid-" + strconv.Itoa(os.Getpid())
	}
	return "trailwatch-ingest-" + host
}
