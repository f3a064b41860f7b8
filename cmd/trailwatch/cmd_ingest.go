package main

import (
	"context"
	"os"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/admin"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// runIngest runs one ingest worker until SIGINT or SIGTERM.
func runIngest(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--config FILE]")
	cfgPath := configFlag(fs)
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := lifecycle.NewLogger(cfg.Log, os.Stderr).With("role", "ingest")
	reg := lifecycle.NewRegistry()
	s3c, err := cfg.S3.S3(ctx)
	if err != nil {
		return err
	}
	w, err := ingest.New(cfg.Ingest, cfg.Kafka, cfg.Topics.Names(), s3c, logger, reg)
	if err != nil {
		return err
	}
	return lifecycle.Run(ctx, logger, admin.New(cfg.Admin, logger, reg), w.Run)
}
