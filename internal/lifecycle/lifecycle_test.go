package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/admin"
)

func TestRunOrder(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := admin.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	srv := admin.New(cfg, logger, NewRegistry())

	ctx, cancel := context.WithCancel(context.Background())
	drained := make(chan struct{})
	var adminUpDuringDrain bool
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, logger, srv, func(ctx context.Context) error {
			<-ctx.Done()
			// Draining: the admin server must still answer.
			time.Sleep(50 * time.Millisecond)
			adminUpDuringDrain = srv.Addr() != nil
			close(drained)
			return ctx.Err()
		})
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run after a clean stop = %v, want nil", err)
	}
	<-drained
	if !adminUpDuringDrain {
		t.Error("admin server was not up while the stage drained")
	}
}

func TestRunStageError(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	boom := errors.New("boom")
	err := Run(context.Background(), logger, nil, func(context.Context) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the stage's error", err)
	}
}

func TestRunAdminListenError(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := admin.DefaultConfig()
	cfg.Addr = "256.0.0.1:1" // cannot listen
	srv := admin.New(cfg, logger, NewRegistry())
	err := Run(context.Background(), logger, srv, func(ctx context.Context) error {
		<-ctx.Done() // stopped by the admin server's failure
		return ctx.Err()
	})
	if err == nil || !strings.Contains(err.Error(), "admin listen") {
		t.Fatalf("Run = %v, want the listen error", err)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	cfg := LogConfig{Level: "warn", Format: "json"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	l := NewLogger(cfg, &buf)
	l.Info("hidden")
	l.Warn("shown", "object_key", "k")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), `"object_key":"k"`) {
		t.Fatalf("log output = %q", buf.String())
	}
	for _, bad := range []LogConfig{{Level: "loud", Format: "json"}, {Level: "info", Format: "xml"}} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}
