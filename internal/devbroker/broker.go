// Package devbroker runs the local stack's Kafka-protocol broker: one
// in-process kfake node that speaks the real wire protocol (produce, fetch,
// classic and KIP-848 consumer groups, idempotent and transactional
// producers, compaction), with a data directory so that topics, records
// and committed group offsets survive a restart.
//
// It stands where a Kafka cluster stands in production: every topic between
// the pipeline's stages lives on it. It is for development and tests only;
// it has one node, no replication and no authentication, and it listens on
// the loopback address it is given.
//
// Durability: kfake writes record batches to segment files as they arrive
// and its metadata (topics, groups, producer ids) on a clean shutdown. Close
// (what SIGTERM leads to in `trailwatch devbroker`) flushes everything; a
// SIGKILL can lose the newest batches and group state unless
// Config.SyncWrites is set.
package devbroker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/trailwatch/trailwatch/internal/kafka"
)

// Broker is a running development broker. Its methods are safe for
// concurrent use.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	dataDir string
	logger  *slog.Logger
}

// Start starts a broker as cfg says and returns once it accepts
// connections. It does not create topics; Run does. The caller owns the
// broker and must Close it.
func Start(cfg Config, logger *slog.Logger) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create broker data dir: %w", err)
		}
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		// kfake listens on 127.0.0.1:<port>; listening through our own
		// function honours the configured host too, and the address a
		// broker listens on is the address it advertises.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, cfg.Addr)
		}),
		kfake.WithLogger(slogAdapter{logger}),
		kfake.ClusterID("trailwatch-dev"),
		kfake.BrokerConfigs(map[string]string{
			"group.consumer.heartbeat.interval.ms": strconv.FormatInt(cfg.ConsumerHeartbeatInterval.Milliseconds(), 10),
		}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.SyncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start broker on %s: %w", cfg.Addr, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) != 1 {
		c.Close()
		return nil, fmt.Errorf("start broker on %s: listening on %d addresses, want 1", cfg.Addr, len(addrs))
	}
	return &Broker{cluster: c, addr: addrs[0], dataDir: cfg.DataDir, logger: logger}, nil
}

// Addr returns the host:port the broker listens on, for clients' seed
// brokers.
func (b *Broker) Addr() string { return b.addr }

// Close stops accepting connections, writes the broker's state to its data
// directory and stops the broker. It blocks until the state is on disk and
// is safe to call more than once.
func (b *Broker) Close() { b.cluster.Close() }

// EnsureTopics creates every pipeline topic that does not exist yet, as
// cfg says (see kafka.EnsureTopics), through a client of the broker's own.
func (b *Broker) EnsureTopics(ctx context.Context, cfg kafka.TopicsConfig) ([]kafka.TopicResult, error) {
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = []string{b.addr}
	kcfg.ClientID = "trailwatch-devbroker"
	cl, err := kafka.NewClient(kcfg, "devbroker", b.logger, nil)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return kafka.EnsureTopics(ctx, kadm.NewClient(cl), cfg, b.logger)
}

// Run starts a broker, creates the pipeline topics when cfg.CreateTopics
// is set, and serves until ctx is done; then it closes the broker, which
// flushes its data directory. It returns nil after a clean stop.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	b, err := Start(cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		b.Close()
		logger.Info("broker stopped", "data_dir", cfg.DataDir)
	}()
	if cfg.CreateTopics {
		results, err := b.EnsureTopics(ctx, cfg.Topics)
		if err != nil {
			if ctx.Err() != nil {
				return nil // stopped while starting
			}
			return fmt.Errorf("create pipeline topics: %w", err)
		}
		created := 0
		for _, r := range results {
			if r.Created {
				created++
			}
		}
		logger.Info("pipeline topics ready", "topics", len(results), "created", created)
	}
	logger.Info("broker ready", "addr", b.Addr(), "data_dir", cfg.DataDir)
	<-ctx.Done()
	logger.Info("broker stopping", "reason", context.Cause(ctx))
	return nil
}

// slogAdapter routes kfake's printf-style logs to slog. kfake's info level
// logs every request, so it maps to debug; its warnings and errors keep
// their level.
type slogAdapter struct{ logger *slog.Logger }

func (a slogAdapter) Logf(level kfake.LogLevel, format string, args ...any) {
	var l slog.Level
	switch level {
	case kfake.LogLevelError:
		l = slog.LevelError
	case kfake.LogLevelWarn:
		l = slog.LevelWarn
	case kfake.LogLevelNone:
		return
	default:
		l = slog.LevelDebug
	}
	// Format only what the handler keeps: kfake logs per request.
	if !a.logger.Enabled(context.Background(), l) {
		return
	}
	a.logger.Log(context.Background(), l, "kfake", "msg_detail", fmt.Sprintf(format, args...))
}
