package chdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/trailwatch/trailwatch/internal/configtest"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// envServe makes the test binary run Serve instead of the tests: the
// engine keeps process-wide state, so every engine a test starts (and
// restarts) is a child process, which is also how `trailwatch
// devclickhouse` runs it. The value is the JSON Config.
const envServe = "TRAILWATCH_CHDB_TEST_SERVE"

func TestMain(m *testing.M) {
	if v := os.Getenv(envServe); v != "" {
		os.Exit(serveMain(v))
	}
	os.Exit(m.Run())
}

// serveMain is the child process: Serve until SIGTERM, exit 0 on a clean stop.
func serveMain(cfgJSON string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := Serve(ctx, cfg, logger); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

func TestConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default", Mutate: func(*Config) {}},
		{Name: "path", Mutate: func(c *Config) { c.Path = "" }, WantErr: "devclickhouse.path:"},
		{Name: "listen host name", Mutate: func(c *Config) { c.ListenHost = "localhost" }, WantErr: "devclickhouse.listen_host:"},
		{Name: "tcp port", Mutate: func(c *Config) { c.TCPPort = 0 }, WantErr: "devclickhouse.tcp_port:"},
		{Name: "http port", Mutate: func(c *Config) { c.HTTPPort = 70000 }, WantErr: "devclickhouse.http_port:"},
		{Name: "same ports", Mutate: func(c *Config) { c.HTTPPort = c.TCPPort }, WantErr: "devclickhouse.http_port:"},
		{Name: "lib", Mutate: func(c *Config) { c.Lib = "" }, WantErr: "devclickhouse.lib:"},
		{Name: "start timeout", Mutate: func(c *Config) { c.StartTimeout = 0 }, WantErr: "devclickhouse.start_timeout:"},
		{Name: "stop timeout", Mutate: func(c *Config) { c.StopTimeout = -time.Second }, WantErr: "devclickhouse.stop_timeout:"},
	})
}

func TestDefaultLibPath(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "explicit", env: map[string]string{EnvLib: "/opt/libchdb.so", "HOME": "/home/u"}, want: "/opt/libchdb.so"},
		{name: "cache dir", env: map[string]string{"TRAILWATCH_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/home/u"},
			want: "/c/chdb/" + LibVersion + "/libchdb.so"},
		{name: "xdg", env: map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/home/u"},
			want: "/x/trailwatch/chdb/" + LibVersion + "/libchdb.so"},
		{name: "home", env: map[string]string{"HOME": "/home/u"},
			want: "/home/u/.cache/trailwatch/chdb/" + LibVersion + "/libchdb.so"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DefaultLibPath(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestInstallScriptPinsLibVersion keeps deploy/local/chdb.sh, which
// installs the library, and LibVersion, which finds it, in step.
func TestInstallScriptPinsLibVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "local", "chdb.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^readonly version="([^"]+)"$`).FindSubmatch(b)
	if m == nil || string(m[1]) != LibVersion {
		t.Fatalf("deploy/local/chdb.sh pins version %q, LibVersion is %q", m, LibVersion)
	}
}

func TestOpenMissingLibrary(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "libchdb.so"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "deploy/local/chdb.sh") {
		t.Fatalf("Open of a missing file: %v", err)
	}
}

// libPath returns the installed library, or skips the test (fails it
// under CI, where `make test` installs the library first).
func libPath(t *testing.T) string {
	t.Helper()
	p := DefaultLibPath(os.Getenv)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("libchdb.so not at %s: run `bash deploy/local/chdb.sh` (make test does)", p)
	}
	t.Skipf("libchdb.so not at %s: run `bash deploy/local/chdb.sh` or set %s", p, EnvLib)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// engine is a child process running Serve.
type engine struct {
	cmd    *exec.Cmd
	cfg    Config
	stderr *strings.Builder
	exited chan error
}

func startEngine(t *testing.T, cfg Config) *engine {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServe+"="+string(b))
	e := &engine{cmd: cmd, cfg: cfg, stderr: &strings.Builder{}, exited: make(chan error, 1)}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { e.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-e.exited
		}
	})
	// Ready when both protocols answer a query.
	deadline := time.Now().Add(cfg.StartTimeout)
	for {
		if e.query(context.Background(), "native") == nil {
			return e
		}
		select {
		case err := <-e.exited:
			t.Fatalf("engine exited during start: %v\n%s", err, e.stderr)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not ready after %s\n%s", cfg.StartTimeout, e.stderr)
		}
	}
}

func (e *engine) conn(protocol string) (driver.Conn, error) {
	tcp, http := e.cfg.Addrs()
	opts := &clickhouse.Options{Addr: []string{tcp}, DialTimeout: 2 * time.Second}
	if protocol == "http" {
		opts.Addr, opts.Protocol = []string{http}, clickhouse.HTTP
	}
	return clickhouse.Open(opts)
}

func (e *engine) query(ctx context.Context, protocol string) error {
	c, err := e.conn(protocol)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Ping(ctx)
}

// stop sends sig and waits for the exit; it returns the exit error.
func (e *engine) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := e.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-e.exited:
		return err
	case <-time.After(e.cfg.StopTimeout + 10*time.Second):
		t.Fatalf("engine did not exit after %s\n%s", sig, e.stderr)
		return nil
	}
}

func testConfig(t *testing.T, dir string) Config {
	cfg := DefaultConfig()
	cfg.Path = dir
	cfg.Lib = libPath(t)
	cfg.TCPPort, cfg.HTTPPort = freePort(t), freePort(t)
	return cfg
}

// TestServeRestartKeepsData writes through both protocols, stops the
// engine with SIGTERM and then with SIGKILL, and expects every committed
// row back after each restart.
func TestServeRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, t.TempDir())
	e := startEngine(t, cfg)

	run := func(e *engine, protocol string, stmts ...string) {
		t.Helper()
		c, err := e.conn(protocol)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, s := range stmts {
			if err := c.Exec(ctx, s); err != nil {
				t.Fatalf("%s over %s: %v\n%s", s, protocol, err, e.stderr)
			}
		}
	}
	insert := func(e *engine, protocol string, from, n int) {
		t.Helper()
		c, err := e.conn(protocol)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		b, err := c.PrepareBatch(ctx, "INSERT INTO keep.t (id, note)")
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+n; i++ {
			if err := b.Append(uint64(i), "row "+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatalf("insert over %s: %v", protocol, err)
		}
	}
	count := func(e *engine, protocol string) uint64 {
		t.Helper()
		c, err := e.conn(protocol)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var n uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM keep.t").Scan(&n); err != nil {
			t.Fatalf("count over %s: %v\n%s", protocol, err, e.stderr)
		}
		return n
	}

	run(e, "native",
		"CREATE DATABASE IF NOT EXISTS keep",
		"CREATE TABLE IF NOT EXISTS keep.t (id UInt64, note String) ENGINE = ReplacingMergeTree ORDER BY id")
	insert(e, "native", 0, 1000)
	insert(e, "http", 1000, 1000)
	if n := count(e, "http"); n != 2000 {
		t.Fatalf("before restart: %d rows, want 2000", n)
	}

	// A client that keeps its connection open (a sink, an analyst's
	// shell) must not turn the stop into a failure or a hang.
	tcpAddr, _ := cfg.Addrs()
	idle, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	began := time.Now()
	if err := e.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM with a client connected: exit %v, want status 0\n%s", err, e.stderr)
	}
	if took := time.Since(began); took > cfg.StopTimeout+5*time.Second {
		t.Errorf("SIGTERM with a client connected took %s", took)
	}
	idle.Close()

	e = startEngine(t, cfg)
	if n := count(e, "native"); n != 2000 {
		t.Fatalf("after SIGTERM and restart: %d rows, want 2000", n)
	}
	insert(e, "native", 2000, 500)

	// A crash: committed inserts survive, the engine restarts on its own.
	if err := e.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL: clean exit")
	}
	e = startEngine(t, cfg)
	if n := count(e, "http"); n != 2500 {
		t.Fatalf("after SIGKILL and restart: %d rows, want 2500", n)
	}
	if err := e.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("final SIGTERM: %v\n%s", err, e.stderr)
	}
	if !strings.Contains(e.stderr.String(), "clickhouse stopped") {
		t.Errorf("no clients connected, yet no clean-stop log line:\n%s", e.stderr)
	}
}

// TestServePortInUse: a taken port is an error before the engine starts.
func TestServePortInUse(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.ListenHost, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = Serve(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("check port %d", cfg.HTTPPort)) {
		t.Fatalf("Serve with a taken port: %v", err)
	}
}
