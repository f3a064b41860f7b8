package main

import (
	"context"

	"github.com/trailwatch/trailwatch/internal/devbroker"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// runDevbroker runs the local Kafka-protocol broker until SIGINT or
// SIGTERM, then flushes its data directory and exits. The topic prefix and
// per-topic settings come from the config file and TRAILWATCH_TOPICS_*;
// the partition count from --partitions.
func runDevbroker(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--addr HOST:PORT] [--data-dir DIR] [--topics=false] [--partitions N] [--config FILE]")
	cfgPath := configFlag(fs)
	cfg := devbroker.DefaultConfig()
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen and advertise on `host:port`")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "keep topics, records and group offsets in `dir` across restarts (empty: in memory)")
	fs.BoolVar(&cfg.SyncWrites, "sync-writes", cfg.SyncWrites, "fsync every produced batch (slower; survives SIGKILL)")
	fs.BoolVar(&cfg.CreateTopics, "topics", cfg.CreateTopics, "create every pipeline topic at start (the ones missing)")
	partitions := fs.Int("partitions", int(cfg.Topics.Partitions), "partitions of each pipeline topic `n` that --topics creates")
	fs.DurationVar(&cfg.ConsumerHeartbeatInterval, "consumer-heartbeat-interval", cfg.ConsumerHeartbeatInterval, "heartbeat `interval` for KIP-848 consumer groups")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + fs.Arg(0)}
	}
	file, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	cfg.Topics = file.Topics
	cfg.Topics.Partitions = int32(*partitions)
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	logger := lifecycle.NewLogger(file.Log, inv.stderr)
	return lifecycle.Run(ctx, logger, nil, func(ctx context.Context) error {
		return devbroker.Run(ctx, cfg, logger)
	})
}
