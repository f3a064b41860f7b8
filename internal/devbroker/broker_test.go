package devbroker

import (
	"context"
	"fmt"
	"github.com/trailwatch/trailwatch/internal/configtest"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/schemas"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default", Mutate: func(*Config) {}, WantErr: ""},
		{Name: "free port", Mutate: func(c *Config) { c.Addr = "127.0.0.1:0" }, WantErr: ""},
		{Name: "no port", Mutate: func(c *Config) { c.Addr = "127.0.0.1" }, WantErr: "devbroker.addr"},
		{Name: "no host", Mutate: func(c *Config) { c.Addr = ":19092" }, WantErr: "devbroker.addr"},
		{Name: "bad port", Mutate: func(c *Config) { c.Addr = "127.0.0.1:http" }, WantErr: "devbroker.addr"},
		{Name: "zero heartbeat", Mutate: func(c *Config) { c.ConsumerHeartbeatInterval = 0 }, WantErr: "devbroker.consumer_heartbeat_interval"},
		{Name: "zero partitions", Mutate: func(c *Config) { c.Topics.Partitions = 0 }, WantErr: "devbroker.topics.partitions"},
		{Name: "zero partitions without topics", Mutate: func(c *Config) { c.Topics.Partitions, c.CreateTopics = 0, false }, WantErr: ""},
	})
}

// TestRestartKeepsData starts a broker on a data directory, produces,
// consumes with a group and commits part of the way, stops the broker,
// starts a new one on the same directory and checks that the records and
// the group's committed offsets are still there.
func TestRestartKeepsData(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group []kgo.Opt // how the consumer joins its group
	}{
		{"classic group", nil},
		{"kip-848 group", []kgo.Opt{kgo.ServerSideBalancer()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cfg := testConfig(t.TempDir())
			const (
				topic     = "restart-test"
				group     = "restart-test-group"
				total     = 100
				committed = 60 // the group commits after this many records
			)

			b := startBroker(t, cfg)
			adm := kadm.NewClient(newClient(t, b.Addr()))
			if _, err := adm.CreateTopic(ctx, 3, -1, nil, topic); err != nil {
				t.Fatalf("create topic: %v", err)
			}
			produce(ctx, t, b.Addr(), topic, total)
			got := consumeAndCommit(ctx, t, b.Addr(), topic, group, committed, tc.group)
			if got != committed {
				t.Fatalf("consumed %d records before committing, want %d", got, committed)
			}
			before := fetchOffsets(ctx, t, adm, group)
			b.Close()

			b = startBroker(t, cfg)
			defer b.Close()
			adm = kadm.NewClient(newClient(t, b.Addr()))
			after := fetchOffsets(ctx, t, adm, group)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("committed offsets after restart = %v, want %v", after, before)
			}
			var sum int64
			for _, o := range after {
				sum += o
			}
			if sum != committed {
				t.Errorf("committed offsets after restart sum to %d, want %d", sum, committed)
			}

			// The group resumes where it committed: exactly the rest.
			rest := consumeAndCommit(ctx, t, b.Addr(), topic, group, total-committed, tc.group)
			if rest != total-committed {
				t.Errorf("group resumed with %d records, want %d", rest, total-committed)
			}
			// And every record is still in the log.
			if n := countFromStart(ctx, t, b.Addr(), topic); n != total {
				t.Errorf("log holds %d records after restart, want %d", n, total)
			}
		})
	}
}

// TestRunCreatesTopics runs the broker as the stack does and checks that
// every pipeline topic exists with its partitions and cleanup policy, and
// that a restart on the same directory keeps them without error.
func TestRunCreatesTopics(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.CreateTopics = true
	for run := range 2 {
		b := startBroker(t, cfg)
		results, err := b.EnsureTopics(t.Context(), cfg.Topics)
		if err != nil {
			t.Fatalf("run %d: EnsureTopics: %v", run, err)
		}
		if len(results) != len(schemas.AllTopics) {
			t.Fatalf("run %d: %d topics, want %d", run, len(results), len(schemas.AllTopics))
		}
		for _, r := range results {
			if r.Created != (run == 0) {
				t.Errorf("run %d: topic %s created = %v", run, r.Topic, r.Created)
			}
			if r.Partitions != DefaultPartitions {
				t.Errorf("run %d: topic %s has %d partitions, want %d", run, r.Topic, r.Partitions, DefaultPartitions)
			}
		}
		adm := kadm.NewClient(newClient(t, b.Addr()))
		compacted := cfg.Topics.Names().Name(schemas.TopicDetectState)
		rcs, err := adm.DescribeTopicConfigs(t.Context(), compacted)
		if err != nil {
			t.Fatalf("describe %s: %v", compacted, err)
		}
		rc, err := rcs.On(compacted, nil)
		if err != nil {
			t.Fatalf("describe %s: %v", compacted, err)
		}
		policy := ""
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" {
				policy = c.MaybeValue()
			}
		}
		if policy != "compact" {
			t.Errorf("run %d: %s cleanup.policy = %q, want compact", run, compacted, policy)
		}
		b.Close()
	}
}

// TestRunStopsOnCancel runs the broker as `trailwatch devbroker` does,
// waits for the pipeline topics, cancels, and checks that Run returns nil
// and leaves a data directory that a new broker loads.
func TestRunStopsOnCancel(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Addr = freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, discard()) }()

	objects := cfg.Topics.Names().Name(schemas.TopicObjects)
	// kgo caches metadata for MetadataMinAge (5s): poll with a short one.
	adm := kadm.NewClient(newClient(t, cfg.Addr, kgo.MetadataMinAge(50*time.Millisecond)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		topics, err := adm.ListTopics(ctx)
		if err == nil && topics.Has(objects) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s not created within 30s (last error: %v)", objects, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of cancel")
	}

	cfg.Addr = "127.0.0.1:0"
	b := startBroker(t, cfg)
	defer b.Close()
	topics, err := kadm.NewClient(newClient(t, b.Addr())).ListTopics(t.Context())
	if err != nil {
		t.Fatalf("list topics after restart: %v", err)
	}
	if !topics.Has(objects) {
		t.Errorf("topics after restart = %v, want the pipeline topics Run created", topics.Names())
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for a test that must know the address before the broker starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.CreateTopics = true
	return cfg
}

func startBroker(t *testing.T, cfg Config) *Broker {
	t.Helper()
	b, err := Start(cfg, discard())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return b
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produce(ctx context.Context, t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic))
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%7), Value: fmt.Appendf(nil, "v%d", i)}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consumeAndCommit reads exactly want records as a member of group,
// commits their offsets and leaves the group. It returns how many records
// it saw before it stopped (want, unless the context ran out).
func consumeAndCommit(ctx context.Context, t *testing.T, addr, topic, group string, want int, groupOpts []kgo.Opt) int {
	t.Helper()
	opts := append([]kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(group),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, groupOpts...)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	defer cl.Close()
	seen := 0
	for seen < want {
		// Ask for no more than we still want, so the commit covers
		// exactly want records.
		fs := cl.PollRecords(ctx, want-seen)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: %d of %d records: %v", topic, seen, want, err)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s[%d]: %v", topic, p, err)
		})
		recs := fs.Records()
		seen += len(recs)
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	return seen
}

func fetchOffsets(ctx context.Context, t *testing.T, adm *kadm.Client, group string) map[int32]int64 {
	t.Helper()
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	if err := resp.Error(); err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) { out[o.Partition] = o.At })
	return out
}

func countFromStart(ctx context.Context, t *testing.T, addr, topic string) int {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	n := 0
	for int64(n) < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s from start: %d of %d records: %v", topic, n, want, err)
		}
		n += len(fs.Records())
	}
	return n
}
