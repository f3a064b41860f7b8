package kafka

import (
	"context"
	"github.com/trailwatch/trailwatch/internal/configtest"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trailwatch/trailwatch/schemas"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default", Mutate: func(*Config) {}, WantErr: ""},
		{Name: "no brokers", Mutate: func(c *Config) { c.Brokers = nil }, WantErr: "kafka.brokers"},
		{Name: "empty broker", Mutate: func(c *Config) { c.Brokers = []string{""} }, WantErr: "kafka.brokers[0]"},
		{Name: "zero dial timeout", Mutate: func(c *Config) { c.DialTimeout = 0 }, WantErr: "kafka.dial_timeout"},
		{Name: "cert without key", Mutate: func(c *Config) { c.TLS.CertFile = "x.pem" }, WantErr: "kafka.tls"},
		{Name: "missing ca file", Mutate: func(c *Config) { c.TLS.CAFile = "/nonexistent/ca.pem" }, WantErr: "kafka.tls.ca_file"},
		{Name: "bad mechanism", Mutate: func(c *Config) { c.SASL.Mechanism = "GSSAPI" }, WantErr: "kafka.sasl.mechanism"},
		{Name: "scram without user", Mutate: func(c *Config) { c.SASL.Mechanism = "SCRAM-SHA-256" }, WantErr: "kafka.sasl.username"},
		{Name: "scram without password", Mutate: func(c *Config) {
			c.SASL.Mechanism, c.SASL.Username = "SCRAM-SHA-256", "u"
		}, WantErr: "kafka.sasl.password_file"},
		{Name: "scram with env password", Mutate: func(c *Config) {
			c.SASL.Mechanism, c.SASL.Username, c.SASL.Password = "SCRAM-SHA-512", "u", "p"
		}, WantErr: ""},
	})
}

// TestSCRAM logs in to a real Kafka-protocol broker that requires
// SCRAM-SHA-256, with the right and the wrong password.
func TestSCRAM(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-256", "admin", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"right password", "s3cret", true},
		{"wrong password", "nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Brokers = c.ListenAddrs()
			cfg.SASL = SASLConfig{Mechanism: "SCRAM-SHA-256", Username: "admin", Password: tc.password}
			cl, err := NewClient(cfg, "test", discard(), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			err = cl.Ping(ctx)
			if tc.ok && err != nil {
				t.Fatalf("ping with the right password: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("ping with the wrong password succeeded")
			}
		})
	}
}

func TestEnsureTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kcfg := DefaultConfig()
	kcfg.Brokers = c.ListenAddrs()
	reg := prometheus.NewRegistry()
	cl, err := NewClient(kcfg, "admin", discard(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	tcfg := DefaultTopicsConfig()
	tcfg.Partitions = 3
	tcfg.Overrides = map[string]TopicSpec{schemas.TopicEvents: {Partitions: 5}}
	if err := tcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	first, err := EnsureTopics(ctx, adm, tcfg, discard())
	if err != nil {
		t.Fatalf("first EnsureTopics: %v", err)
	}
	if len(first) != len(schemas.AllTopics) {
		t.Fatalf("got %d topics, want %d", len(first), len(schemas.AllTopics))
	}
	for _, r := range first {
		if !r.Created {
			t.Errorf("%s: not created on the first run", r.Topic)
		}
		want := int32(3)
		if r.Topic == "trailwatch.events" {
			want = 5
		}
		if r.Partitions != want {
			t.Errorf("%s: %d partitions, want %d", r.Topic, r.Partitions, want)
		}
	}

	// A second run (or a second worker) changes nothing and does not fail.
	second, err := EnsureTopics(ctx, adm, tcfg, discard())
	if err != nil {
		t.Fatalf("second EnsureTopics: %v", err)
	}
	for _, r := range second {
		if r.Created {
			t.Errorf("%s: created again", r.Topic)
		}
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, "trailwatch.sources", "trailwatch.dlq")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rc := range rcs {
		for _, cfg := range rc.Configs {
			if cfg.Value != nil && (cfg.Key == "cleanup.policy" || cfg.Key == "retention.ms") {
				got[rc.Name+" "+cfg.Key] = *cfg.Value
			}
		}
	}
	if got["trailwatch.sources cleanup.policy"] != "compact" {
		t.Errorf("sources cleanup.policy = %q, want compact", got["trailwatch.sources cleanup.policy"])
	}
	if got["trailwatch.dlq retention.ms"] != "2592000000" {
		t.Errorf("dlq retention.ms = %q, want 30 days", got["trailwatch.dlq retention.ms"])
	}

	// The client's own metrics land in the injected registry.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "trailwatch_kafka_admin_") {
			found = true
		}
	}
	if !found {
		t.Error("no trailwatch_kafka_admin_* metrics registered")
	}
}

func TestTopicsConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultTopicsConfig, (*TopicsConfig).Validate, []configtest.Case[TopicsConfig]{
		{Name: "default", Mutate: func(*TopicsConfig) {}, WantErr: ""},
		{Name: "zero partitions", Mutate: func(c *TopicsConfig) { c.Partitions = 0 }, WantErr: "topics.partitions"},
		{Name: "zero replication", Mutate: func(c *TopicsConfig) { c.ReplicationFactor = 0 }, WantErr: "topics.replication_factor"},
		{Name: "unknown override", Mutate: func(c *TopicsConfig) { c.Overrides = map[string]TopicSpec{"evnets": {}} }, WantErr: "topics.overrides.evnets"},
	})
}
