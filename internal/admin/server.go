// Package admin serves a process's operational HTTP endpoints:
// /metrics (Prometheus), /healthz (liveness: the process is serving) and
// /readyz (readiness: every registered check passes, e.g. the broker is
// reachable and data is arriving).
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures the admin server.
type Config struct {
	// Addr is the listen address. Default 127.0.0.1:9464; "" disables the
	// server. In a pod, set it to :9464 so Prometheus can scrape it.
	Addr string `yaml:"addr"`
	// CheckTimeout bounds each readiness check. Default 2s.
	CheckTimeout time.Duration `yaml:"check_timeout"`
	// ShutdownTimeout bounds the drain of in-flight requests. Default 5s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DefaultConfig returns the default admin server settings.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:9464", CheckTimeout: 2 * time.Second, ShutdownTimeout: 5 * time.Second}
}

// Validate reports the first bad field by its YAML path under admin.
func (c *Config) Validate() error {
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("admin.addr: %w", err)
		}
	}
	if c.CheckTimeout <= 0 {
		return fmt.Errorf("admin.check_timeout: must be positive, got %s", c.CheckTimeout)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("admin.shutdown_timeout: must be positive, got %s", c.ShutdownTimeout)
	}
	return nil
}

// Check is one readiness condition. It is called concurrently from HTTP
// handlers and must honour ctx; a nil error means ready.
type Check func(ctx context.Context) error

// Server is the admin HTTP server of one process.
type Server struct {
	cfg    Config
	logger *slog.Logger
	mux    *http.ServeMux

	mu     sync.Mutex
	checks map[string]Check
	addr   net.Addr
}

// New returns a server exposing gatherer's metrics. Register checks with
// AddCheck before or while it runs.
func New(cfg Config, logger *slog.Logger, gatherer prometheus.Gatherer) *Server {
	s := &Server{cfg: cfg, logger: logger, mux: http.NewServeMux(), checks: map[string]Check{}}
	s.mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("/readyz", s.ready)
	return s
}

// AddCheck registers a readiness check under name, replacing any check of
// that name.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	s.checks[name] = c
	s.mu.Unlock()
}

// Handle adds a handler for pattern (for stage-specific status pages).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Addr returns the address the server listens on, once Run has started
// listening; nil before.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// readyResult is one check's outcome in the /readyz body.
type readyResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make([]Check, len(names))
	sort.Strings(names)
	for i, n := range names {
		checks[i] = s.checks[n]
	}
	s.mu.Unlock()

	results := make([]readyResult, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
			defer cancel()
			results[i] = readyResult{Name: names[i], OK: true}
			if err := checks[i](ctx); err != nil {
				results[i] = readyResult{Name: names[i], Error: err.Error()}
			}
		})
	}
	wg.Wait()
	status := http.StatusOK
	for _, res := range results {
		if !res.OK {
			status = http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ready": status == http.StatusOK, "checks": results})
}

// Run listens and serves until ctx is done, then drains in-flight requests
// for at most ShutdownTimeout. With an empty Addr it waits for ctx and
// returns nil.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.Addr == "" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", s.cfg.Addr, err)
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	s.logger.Info("admin server listening", "addr", ln.Addr().String())

	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("admin shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin serve: %w", err)
	}
	return nil
}
