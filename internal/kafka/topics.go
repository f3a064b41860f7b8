package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/trailwatch/trailwatch/schemas"
)

// TopicsConfig says how the pipeline's topics are named and created.
type TopicsConfig struct {
	// Prefix starts every topic name. Default "trailwatch.".
	Prefix string `yaml:"prefix"`
	// Partitions is the default partition count: the most workers a stage
	// can spread over. Default 12.
	Partitions int32 `yaml:"partitions"`
	// ReplicationFactor is the default replication; -1 takes the broker's
	// default. Default -1.
	ReplicationFactor int16 `yaml:"replication_factor"`
	// Overrides holds per-topic settings, keyed by logical name (events,
	// dlq, ...).
	Overrides map[string]TopicSpec `yaml:"overrides"`
}

// TopicSpec is how one topic is created. Zero fields take the defaults.
type TopicSpec struct {
	// Partitions overrides TopicsConfig.Partitions.
	Partitions int32 `yaml:"partitions"`
	// Retention is how long records are kept; 0 takes the topic's default
	// from DefaultTopicSpecs, -1ns keeps them forever.
	Retention time.Duration `yaml:"retention"`
	// Compacted keeps the latest record per key instead of deleting by age.
	Compacted bool `yaml:"compacted"`
}

// DefaultTopicSpecs are the built-in settings per logical topic: short
// retention for the high-volume hand-off topics, longer for what people
// read (detections, dead letters), compaction for state.
func DefaultTopicSpecs() map[string]TopicSpec {
	const day = 24 * time.Hour
	return map[string]TopicSpec{
		schemas.TopicObjects:     {Retention: 7 * day},
		schemas.TopicEvents:      {Retention: 3 * day},
		schemas.TopicEnriched:    {Retention: 3 * day},
		schemas.TopicDetections:  {Retention: 30 * day},
		schemas.TopicDLQ:         {Retention: 30 * day},
		schemas.TopicDigests:     {Retention: 7 * day},
		schemas.TopicSources:     {Compacted: true},
		schemas.TopicDetectState: {Compacted: true},
		schemas.TopicIngested:    {Compacted: true},
	}
}

// DefaultTopicsConfig returns the default topic settings.
func DefaultTopicsConfig() TopicsConfig {
	return TopicsConfig{Prefix: "trailwatch.", Partitions: 12, ReplicationFactor: -1}
}

// Validate reports the first bad field by its YAML path under topics.
func (c *TopicsConfig) Validate() error {
	if c.Partitions < 1 {
		return fmt.Errorf("topics.partitions: must be at least 1, got %d", c.Partitions)
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 {
		return fmt.Errorf("topics.replication_factor: must be -1 (broker default) or at least 1, got %d", c.ReplicationFactor)
	}
	known := DefaultTopicSpecs()
	for name, spec := range c.Overrides {
		if _, ok := known[name]; !ok {
			return fmt.Errorf("topics.overrides.%s: unknown topic (known: %v)", name, schemas.AllTopics)
		}
		if spec.Partitions < 0 {
			return fmt.Errorf("topics.overrides.%s.partitions: must not be negative", name)
		}
	}
	return nil
}

// Names returns the topic namer for c.Prefix.
func (c *TopicsConfig) Names() schemas.TopicNames { return schemas.TopicNames{Prefix: c.Prefix} }

// Spec returns the effective settings of a logical topic.
func (c *TopicsConfig) Spec(topic string) TopicSpec {
	spec := DefaultTopicSpecs()[topic]
	if o, ok := c.Overrides[topic]; ok {
		if o.Partitions != 0 {
			spec.Partitions = o.Partitions
		}
		if o.Retention != 0 {
			spec.Retention = o.Retention
		}
		spec.Compacted = spec.Compacted || o.Compacted
	}
	if spec.Partitions == 0 {
		spec.Partitions = c.Partitions
	}
	return spec
}

// TopicResult is what EnsureTopics did for one topic.
type TopicResult struct {
	Topic      string
	Partitions int32
	Created    bool
}

// EnsureTopics creates every pipeline topic that does not exist yet, with
// its partitions, retention and cleanup policy. Topics that exist are left
// as they are (partition counts are never changed behind an operator's
// back). It is safe to run from several processes at once.
func EnsureTopics(ctx context.Context, adm *kadm.Client, cfg TopicsConfig, logger *slog.Logger) ([]TopicResult, error) {
	names := cfg.Names()
	var out []TopicResult
	for _, logical := range schemas.AllTopics {
		spec := cfg.Spec(logical)
		configs := map[string]*string{}
		if spec.Compacted {
			configs["cleanup.policy"] = kadm.StringPtr("compact")
		} else if spec.Retention != 0 {
			ms := strconv.FormatInt(spec.Retention.Milliseconds(), 10)
			if spec.Retention < 0 {
				ms = "-1"
			}
			configs["retention.ms"] = kadm.StringPtr(ms)
		}
		topic := names.Name(logical)
		resp, err := adm.CreateTopic(ctx, spec.Partitions, cfg.ReplicationFactor, configs, topic)
		switch {
		case err == nil && resp.Err == nil:
			out = append(out, TopicResult{Topic: topic, Partitions: spec.Partitions, Created: true})
			logger.Info("topic created", "topic", topic, "partitions", spec.Partitions)
		case errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists):
			out = append(out, TopicResult{Topic: topic, Partitions: spec.Partitions})
		case err != nil:
			return out, fmt.Errorf("create topic %s: %w", topic, err)
		default:
			return out, fmt.Errorf("create topic %s: %w", topic, resp.Err)
		}
	}
	// Report the real partition counts of topics that already existed.
	details, err := adm.ListTopics(ctx, topicNames(out)...)
	if err != nil {
		return out, fmt.Errorf("list topics: %w", err)
	}
	for i := range out {
		if d, ok := details[out[i].Topic]; ok && d.Err == nil {
			out[i].Partitions = int32(len(d.Partitions))
		}
	}
	return out, nil
}

func topicNames(rs []TopicResult) []string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Topic
	}
	return s
}
