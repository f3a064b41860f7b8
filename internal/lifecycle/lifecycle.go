// Package lifecycle runs a trailwatch process: its logger, its metrics
// registry, its admin server and its stage, with the shutdown order every
// role follows.
//
// Shutdown order: on SIGINT or SIGTERM the stage's context is cancelled; the
// stage stops intake, drains its in-flight work, flushes its producers,
// commits and closes its clients, and returns. Only then is the admin
// server stopped, so /metrics and /healthz answer for the whole drain.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/admin"
)

// LogConfig configures the process's logger.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is json or text. Default json.
	Format string `yaml:"format"`
}

// DefaultLogConfig returns the default logger settings.
func DefaultLogConfig() LogConfig { return LogConfig{Level: "info", Format: "json"} }

// Validate reports the first bad field by its YAML path under log.
func (c *LogConfig) Validate() error {
	if _, err := parseLevel(c.Level); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	if c.Format != "json" && c.Format != "text" {
		return fmt.Errorf("log.format: %q is not json or text", c.Format)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger returns a logger writing to w as cfg says.
func NewLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	level, err := parseLevel(cfg.Level)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// NewRegistry returns a metrics registry with the Go runtime and process
// collectors registered.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Run runs stage and the admin server srv (which may be nil) until stage
// returns or ctx is done. The admin server is stopped after the stage has
// drained. A stage that returns because ctx was cancelled is a clean stop
// and Run returns nil; otherwise it returns the stage's or the server's
// first error.
func Run(ctx context.Context, logger *slog.Logger, srv *admin.Server, stage func(ctx context.Context) error) error {
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAdmin()

	g, gctx := errgroup.WithContext(ctx)
	if srv != nil {
		g.Go(func() error { return srv.Run(adminCtx) })
	}
	g.Go(func() error {
		defer stopAdmin() // the admin server outlives the stage's drain
		err := stage(gctx)
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
	// An admin server that fails to start must stop the stage too.
	err := g.Wait()
	if err == nil && ctx.Err() != nil {
		logger.Info("stopped", "reason", context.Cause(ctx))
	}
	return err
}
