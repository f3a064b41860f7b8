package devbroker

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// Config is how the development broker listens, where it keeps its data and
// which topics it creates at start.
type Config struct {
	// Addr is the host:port the broker listens on and advertises to
	// clients. Port 0 picks a free port (tests). Default 127.0.0.1:19092.
	Addr string `yaml:"addr"`
	// DataDir holds topics, records, committed group offsets and producer
	// state, so that they survive a restart. Empty keeps everything in
	// memory. Default "" (the stack passes .state/broker).
	DataDir string `yaml:"data_dir"`
	// SyncWrites fsyncs every produced batch before acknowledging it.
	// Without it, data reaches the disk on segment roll and on a clean
	// shutdown (SIGTERM), like Kafka's own default; a SIGKILL or a machine
	// crash can lose the newest batches. Default false.
	SyncWrites bool `yaml:"sync_writes"`
	// ConsumerHeartbeatInterval is the heartbeat interval the broker hands
	// to KIP-848 group members (group.consumer.heartbeat.interval.ms).
	// Kafka's 5s default makes a joining member wait up to 5s for
	// partitions; a development broker wants rebalances fast. Default 500ms.
	ConsumerHeartbeatInterval time.Duration `yaml:"consumer_heartbeat_interval"`
	// CreateTopics creates every pipeline topic (schemas.AllTopics under
	// Topics.Prefix) once the broker listens. kfake creates a topic on
	// first use only when a client asks it to, so the stack creates them up
	// front. Default true.
	CreateTopics bool `yaml:"create_topics"`
	// Topics says how the pipeline topics are named and created.
	// Default: kafka.DefaultTopicsConfig with 6 partitions, which is
	// enough to run two or three workers per stage on one machine.
	Topics kafka.TopicsConfig `yaml:"topics"`
}

// DefaultPartitions is the partition count of the pipeline topics on the
// development broker.
const DefaultPartitions = 6

// DefaultConfig returns the settings of the local stack's broker.
func DefaultConfig() Config {
	topics := kafka.DefaultTopicsConfig()
	topics.Partitions = DefaultPartitions
	return Config{
		Addr:                      "127.0.0.1:19092",
		ConsumerHeartbeatInterval: 500 * time.Millisecond,
		CreateTopics:              true,
		Topics:                    topics,
	}
}

// Validate reports the first bad field by its YAML path under devbroker.
func (c *Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("devbroker.addr: %w", err)
	}
	if host == "" {
		// An empty host would listen on every interface; the stack serves
		// 127.0.0.1 only, and clients need a host they can dial.
		return fmt.Errorf("devbroker.addr: %q has no host; give one, such as 127.0.0.1", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("devbroker.addr: %q has no valid port", c.Addr)
	}
	if c.ConsumerHeartbeatInterval < time.Millisecond {
		return fmt.Errorf("devbroker.consumer_heartbeat_interval: must be at least 1ms, got %s", c.ConsumerHeartbeatInterval)
	}
	if c.CreateTopics {
		if err := c.Topics.Validate(); err != nil {
			return fmt.Errorf("devbroker.%w", err)
		}
	}
	return nil
}
