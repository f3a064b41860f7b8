package chdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config configures the local engine.
type Config struct {
	// Path is the data directory (databases, tables, parts). It is created
	// when missing. Default ".state/clickhouse".
	Path string `yaml:"path"`
	// ListenHost is the address both listeners bind. Default "127.0.0.1":
	// the development engine has no users and no passwords, so it must not
	// be reachable from other machines.
	ListenHost string `yaml:"listen_host"`
	// TCPPort is the native-protocol port. Default 19000, not ClickHouse's
	// 9000, which MinIO and other tools like to take.
	TCPPort int `yaml:"tcp_port"`
	// HTTPPort is the HTTP-interface port. Default 18123.
	HTTPPort int `yaml:"http_port"`
	// Lib is the path of libchdb.so. Default DefaultLibPath(os.Getenv).
	Lib string `yaml:"lib"`
	// StartTimeout bounds how long Serve waits for the listeners to
	// answer. Default 2m: a cold start maps a 566 MB library and loads
	// every table's parts.
	StartTimeout time.Duration `yaml:"start_timeout"`
	// StopTimeout bounds how long Serve waits, once asked to stop, for the
	// engine to shut down; after it Serve returns anyway, and the process
	// exits under the engine. That is safe (see Serve) and is what happens
	// whenever a client still holds a connection: the engine then waits for
	// it about 5 s and exits the process itself with status 1, so keep this
	// below that to exit with the caller's status. Default 3s.
	StopTimeout time.Duration `yaml:"stop_timeout"`
}

// DefaultConfig returns the configuration `trailwatch devclickhouse` runs
// with when given no flags.
func DefaultConfig() Config {
	return Config{
		Path:         filepath.Join(".state", "clickhouse"),
		ListenHost:   "127.0.0.1",
		TCPPort:      19000,
		HTTPPort:     18123,
		Lib:          DefaultLibPath(os.Getenv),
		StartTimeout: 2 * time.Minute,
		StopTimeout:  3 * time.Second,
	}
}

// Validate reports the first bad field by its YAML path under
// devclickhouse.
func (c *Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("devclickhouse.path: must not be empty")
	case net.ParseIP(c.ListenHost) == nil:
		return fmt.Errorf("devclickhouse.listen_host: %q is not an IP address", c.ListenHost)
	case c.TCPPort < 1 || c.TCPPort > 65535:
		return fmt.Errorf("devclickhouse.tcp_port: %d is not a port", c.TCPPort)
	case c.HTTPPort < 1 || c.HTTPPort > 65535:
		return fmt.Errorf("devclickhouse.http_port: %d is not a port", c.HTTPPort)
	case c.TCPPort == c.HTTPPort:
		return fmt.Errorf("devclickhouse.http_port: %d is also tcp_port", c.HTTPPort)
	case c.Lib == "":
		return errors.New("devclickhouse.lib: must not be empty")
	case c.StartTimeout <= 0:
		return fmt.Errorf("devclickhouse.start_timeout: must be positive, got %s", c.StartTimeout)
	case c.StopTimeout <= 0:
		return fmt.Errorf("devclickhouse.stop_timeout: must be positive, got %s", c.StopTimeout)
	}
	return nil
}

// servingMarker names the query that keeps the engine serving, so that
// stop can cancel exactly that query.
const servingMarker = "trailwatch_devclickhouse_serving"

// servingQuery is the query the engine runs for its whole life. It opens
// the listeners, then blocks on a sleep that never ends (one row an hour
// from an endless table) and that KILL QUERY can cancel between rows and
// inside a row's sleep. The sleep setting lifts the default 3 s cap.
var servingQuery = "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; " +
	servingPrefix + " FROM system.numbers" +
	" SETTINGS max_block_size = 1, function_sleep_max_microseconds_per_block = 0 FORMAT Null"

// servingPrefix is how the serving query starts, as system.processes shows
// it. The KILL statement matches on it as a prefix, which its own text (it
// starts with KILL) cannot match.
const servingPrefix = "SELECT sleepEachRow(3600) AS " + servingMarker

// args returns clickhouse-local's command line.
func (c Config) args(path string) []string {
	return []string{
		"clickhouse",
		"--path=" + path,
		"--listen_host=" + c.ListenHost,
		"--tcp_port=" + strconv.Itoa(c.TCPPort),
		"--http_port=" + strconv.Itoa(c.HTTPPort),
		"--multiquery",
		"--query=" + servingQuery,
	}
}

// Serve runs the engine until ctx is done, then stops it and returns nil.
// It returns an error when the engine cannot start (missing library, port
// in use; the engine prints its own message to stderr) or stops by itself.
//
// Stopping cancels the serving query, so clickhouse-local returns and shuts
// down as on any normal exit, and waits StopTimeout for that. When clients
// still hold connections the engine waits for them instead; Serve then
// returns without it, and the process exit ends the engine. Both are safe
// for the data: a MergeTree insert becomes visible only once its part is
// complete on disk, and the next start removes half-written parts and
// abandoned merges, so the tables come back with every acknowledged insert
// (TestServeRestartKeepsData stops the engine with SIGTERM and SIGKILL).
//
// The engine keeps process-wide state: run at most one Serve per process,
// and exit the process once Serve returns.
func Serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	path, err := filepath.Abs(cfg.Path)
	if err != nil {
		return fmt.Errorf("resolve data path %s: %w", cfg.Path, err)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("create data path: %w", err)
	}
	lib, err := Open(cfg.Lib)
	if err != nil {
		return err
	}
	// Fail early, with a clear message, when a port is taken: the engine
	// would print its own error and return, but only after loading.
	for _, port := range []int{cfg.TCPPort, cfg.HTTPPort} {
		if err := portFree(cfg.ListenHost, port); err != nil {
			return err
		}
	}

	log.Info("clickhouse starting", "path", path, "lib", lib.Path(),
		"tcp_addr", cfg.tcpAddr(), "http_addr", cfg.httpAddr())
	start := time.Now()
	// The engine goroutine: owned by Serve, which receives from done
	// unless it gives up on the engine (see the package doc).
	done := make(chan error, 1)
	go func() { done <- lib.RunCmdline(cfg.args(path)) }()

	if err := waitReady(ctx, cfg, done); err != nil {
		if ctx.Err() != nil {
			// Asked to stop while starting: as safe as any stop.
			log.Info("clickhouse stopped before it was ready")
			return nil
		}
		return err
	}
	log.Info("clickhouse ready", "tcp_addr", cfg.tcpAddr(), "http_addr", cfg.httpAddr(),
		"startup_ms", time.Since(start).Milliseconds())

	select {
	case err := <-done:
		return engineExit(err)
	case <-ctx.Done():
	}

	log.Info("clickhouse stopping")
	stopBegan := time.Now()
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout)
	defer cancel()
	if err := cancelServing(stopCtx, cfg); err != nil {
		// Not fatal: exiting without the engine's shutdown is safe.
		log.Warn("clickhouse stop request failed; exiting without it", "err", err)
		return nil
	}
	select {
	case <-done:
		// The engine reports the cancelled serving query on stderr
		// (QUERY_WAS_CANCELLED); that is this stop, not a failure.
		log.Info("clickhouse stopped", "stop_ms", time.Since(stopBegan).Milliseconds())
	case <-stopCtx.Done():
		log.Info("clickhouse still waiting for client connections; exiting without it", "stop_timeout", cfg.StopTimeout)
	}
	return nil
}

func (c Config) tcpAddr() string  { return net.JoinHostPort(c.ListenHost, strconv.Itoa(c.TCPPort)) }
func (c Config) httpAddr() string { return net.JoinHostPort(c.ListenHost, strconv.Itoa(c.HTTPPort)) }

// engineExit turns the engine returning on its own into an error.
func engineExit(err error) error {
	if err != nil {
		return fmt.Errorf("run clickhouse: %w", err)
	}
	return errors.New("run clickhouse: engine exited before it was asked to stop (its error is on stderr above)")
}

// portFree reports an error when host:port cannot be bound.
func portFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("check port %d: %w", port, err)
	}
	return l.Close()
}

// readyPollInterval is the period of the readiness probe.
const readyPollInterval = 100 * time.Millisecond

// waitReady polls the HTTP interface's /ping and the native port until both
// answer, the engine exits, ctx is done or StartTimeout passes.
func waitReady(ctx context.Context, cfg Config, done <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	// No keep-alive: an idle connection of ours would hold up the
	// engine's shutdown later.
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	pingURL := "http://" + cfg.httpAddr() + "/ping"
	tick := time.NewTicker(readyPollInterval)
	defer tick.Stop()
	for {
		if ping(ctx, client, pingURL) && dialOK(ctx, cfg.tcpAddr()) {
			return nil
		}
		select {
		case err := <-done:
			return engineExit(err)
		case <-ctx.Done():
			return fmt.Errorf("start clickhouse: not answering on %s and %s: %w", cfg.tcpAddr(), cfg.httpAddr(), ctx.Err())
		case <-tick.C:
		}
	}
}

func ping(ctx context.Context, client *http.Client, u string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

func dialOK(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// cancelServing asks the engine, over its own HTTP interface, to cancel
// the serving query; clickhouse-local then returns and shuts down.
func cancelServing(ctx context.Context, cfg Config) error {
	q := "KILL QUERY WHERE query LIKE '" + servingPrefix + "%' SYNC FORMAT Null"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+cfg.httpAddr()+"/", strings.NewReader(q))
	if err != nil {
		return fmt.Errorf("kill serving query: %w", err)
	}
	req.Close = true // see waitReady
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return fmt.Errorf("kill serving query: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kill serving query: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// Addrs returns the native and HTTP addresses of an engine run with cfg,
// in the form the TRAILWATCH_CLICKHOUSE_ADDR and _HTTP_ADDR variables take.
func (c Config) Addrs() (tcp, http string) { return c.tcpAddr(), c.httpAddr() }
