package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(3)

	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	var brokerDown error = errors.New("broker unreachable")
	s.AddCheck("kafka", func(context.Context) error { return brokerDown })
	s.AddCheck("always", func(context.Context) error { return nil })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Addr() == nil {
		if time.Now().After(deadline) {
			t.Fatal("server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	base := "http://" + s.Addr().String()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, path string
		code       int
		contains   string
	}{
		{"metrics", "/metrics", 200, "trailwatch_test_things_total 3"},
		{"healthz", "/healthz", 200, "ok"},
		{"readyz failing", "/readyz", 503, "broker unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(tc.path)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Fatalf("GET %s = %d %q, want %d containing %q", tc.path, code, body, tc.code, tc.contains)
			}
		})
	}
	brokerDown = nil
	s.AddCheck("kafka", func(context.Context) error { return nil })
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("readyz after recovery = %d %s", code, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"default", DefaultConfig(), ""},
		{"disabled", Config{Addr: "", CheckTimeout: time.Second, ShutdownTimeout: time.Second}, ""},
		{"bad addr", Config{Addr: "localhost", CheckTimeout: time.Second, ShutdownTimeout: time.Second}, "admin.addr"},
		{"zero check timeout", Config{Addr: ":1", ShutdownTimeout: time.Second}, "admin.check_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
