// Package devstack installs, starts, checks and stops the local
// development stack that `make up`, `make test` and the demo run the
// pipeline against: a Kafka-protocol broker (trailwatch devbroker), MinIO
// as S3 with its buckets announcing new objects on the objects topic, the
// ClickHouse engine (trailwatch devclickhouse) and the GeoIP databases.
//
// Everything listens on 127.0.0.1 and keeps its data, pid file and log
// under the state folder (.state/); installed tools are cached by pinned
// version under the cache folder, so a second start takes seconds. Each
// service runs as a process of its own that outlives the command that
// started it and is stopped by the pid in its pid file. Up is idempotent:
// a service that already runs is checked, not restarted, and the bucket
// setup is repeated. Up ends by writing the state folder's env file, which
// points trailwatch and internal/testenv at the services.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/schemas"
)

// Stack is the local development stack of one state folder.
type Stack struct {
	cfg    Config
	logger *slog.Logger
	out    io.Writer
}

// New returns the stack cfg describes. Progress and endpoints are printed
// to out for a person; logger gets the details.
func New(cfg Config, logger *slog.Logger, out io.Writer) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	abs, err := cfg.absolute()
	if err != nil {
		return nil, err
	}
	return &Stack{cfg: abs, logger: logger, out: out}, nil
}

// Endpoint is one address a service serves, named for a person.
type Endpoint struct {
	Name string
	Addr string
}

// service is one process of the stack and how to install, start, probe and
// set it up.
type service struct {
	process
	endpoints []Endpoint
	// addrs must be free before the service starts.
	addrs []string
	// timeout bounds the wait for ready after a start.
	timeout time.Duration
	// install puts the service's binary in place; nil when there is
	// nothing to install.
	install func(ctx context.Context) error
	// command returns the command that runs the service.
	command func() *exec.Cmd
	// what the ready probe checks, for messages.
	what string
	// ready returns nil once the service serves.
	ready func(ctx context.Context) error
	// setup runs after every up, once the service is ready; it must be
	// idempotent. nil when there is nothing to set up.
	setup func(ctx context.Context) error
	// optional services that are not built into this trailwatch yet are
	// left out with a warning instead of failing up.
	optional bool
}

// services returns the stack's processes in start order: each may need
// the ones before it (MinIO announces to the broker).
func (s *Stack) services() []service {
	return []service{s.brokerService(), s.minioService(), s.clickhouseService()}
}

func (s *Stack) brokerService() service {
	c := &s.cfg
	data := filepath.Join(c.StateDir, "broker")
	return service{
		process:   s.process("broker", data),
		endpoints: []Endpoint{{"kafka", c.Broker.Addr}},
		addrs:     []string{c.Broker.Addr},
		timeout:   c.StartTimeout,
		command: func() *exec.Cmd {
			cmd := exec.Command(c.Binary, "devbroker",
				"--addr", c.Broker.Addr,
				"--data-dir", data,
				"--partitions", strconv.Itoa(int(c.Broker.Partitions)),
			)
			cmd.Env = s.childEnv(
				"TRAILWATCH_TOPICS_PREFIX="+c.Broker.TopicPrefix,
				"TRAILWATCH_LOG_FORMAT=text",
			)
			return cmd
		},
		what:  c.Broker.Addr + " (all pipeline topics)",
		ready: s.brokerReady,
	}
}

// brokerReady returns nil once the broker answers metadata requests and
// has every pipeline topic: the broker creates them right after it starts
// listening, and MinIO cannot announce objects before they exist.
func (s *Stack) brokerReady(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.cfg.Broker.Addr), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return fmt.Errorf("new kafka client: %w", err)
	}
	defer cl.Close()
	names := schemas.TopicNames{Prefix: s.cfg.Broker.TopicPrefix}
	topics := make([]string, len(schemas.AllTopics))
	for i, t := range schemas.AllTopics {
		topics[i] = names.Name(t)
	}
	details, err := kadm.NewClient(cl).ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for _, t := range topics {
		if d, ok := details[t]; !ok || d.Err != nil {
			return fmt.Errorf("topic %s not there yet", t)
		}
	}
	return nil
}

func (s *Stack) clickhouseService() service {
	c := &s.cfg
	data := filepath.Join(c.StateDir, "clickhouse")
	ping := "http://" + c.ClickHouse.httpAddr() + "/ping"
	// lib is the engine library that install finds or fetches.
	var lib string
	return service{
		process: s.process("clickhouse", data),
		endpoints: []Endpoint{
			{"clickhouse native", c.ClickHouse.tcpAddr()},
			{"clickhouse http", "http://" + c.ClickHouse.httpAddr()},
		},
		addrs:   []string{c.ClickHouse.tcpAddr(), c.ClickHouse.httpAddr()},
		timeout: c.ClickHouse.StartTimeout,
		install: func(ctx context.Context) error {
			var err error
			lib, err = s.runScript(ctx, "chdb", "chdb.sh")
			return err
		},
		command: func() *exec.Cmd {
			args := []string{"devclickhouse",
				"--path", data,
				"--tcp-port", strconv.Itoa(c.ClickHouse.TCPPort),
				"--http-port", strconv.Itoa(c.ClickHouse.HTTPPort),
			}
			if lib != "" {
				args = append(args, "--lib", lib)
			}
			cmd := exec.Command(c.Binary, args...)
			cmd.Env = s.childEnv("TRAILWATCH_LOG_FORMAT=text")
			return cmd
		},
		what: c.ClickHouse.tcpAddr() + " and " + ping,
		ready: func(ctx context.Context) error {
			if err := dialOK(ctx, c.ClickHouse.tcpAddr()); err != nil {
				return err
			}
			return httpOK(ctx, ping)
		},
		optional: true,
	}
}

func (c ClickHouseConfig) tcpAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.TCPPort))
}

func (c ClickHouseConfig) httpAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.HTTPPort))
}

// errNotBuilt marks a service whose command says that this trailwatch does
// not have it yet.
var errNotBuilt = errors.New("not built into this trailwatch yet")

// Up installs what is missing, starts every service that is not running,
// waits for each to be ready, sets up the buckets, installs the GeoIP
// databases, writes the env file and prints the endpoints.
func (s *Stack) Up(ctx context.Context) error {
	started := time.Now()
	if err := os.MkdirAll(s.cfg.StateDir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	clickhouse := true
	var shown []Endpoint
	for _, svc := range s.services() {
		err := s.up(ctx, svc)
		if errors.Is(err, errNotBuilt) && svc.optional {
			fmt.Fprintf(s.out, "%-12s WARNING: left out: %v\n", svc.name, err)
			clickhouse = false
			continue
		}
		if err != nil {
			return err
		}
		shown = append(shown, svc.endpoints...)
	}
	geoIPDir, err := s.geoIP(ctx)
	if err != nil {
		return err
	}
	if geoIPDir != "" {
		shown = append(shown, Endpoint{"geoip", geoIPDir})
	}
	env := s.cfg.EnvFile()
	if err := writeFileAtomic(env, renderEnv(s.cfg.Env(clickhouse, geoIPDir)), 0o644); err != nil {
		return err
	}

	fmt.Fprintf(s.out, "\nThe local stack is up (%s):\n", time.Since(started).Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	for _, e := range shown {
		fmt.Fprintf(tw, "  %s\t%s\n", e.Name, e.Addr)
	}
	fmt.Fprintf(tw, "  s3 credentials\t%s / %s, region %s\n", DevAccessKey, DevSecretKey, s.cfg.MinIO.Region)
	fmt.Fprintf(tw, "  s3 buckets\t%s\n", strings.Join(s.cfg.MinIO.Buckets, ", "))
	tw.Flush()
	fmt.Fprintf(s.out, "\nUse them from a shell (trailwatch and the integration tests read these):\n  source %s\n", s.relative(env))
	fmt.Fprintf(s.out, "Stop with `make down` (the data stays under %s); `make status` shows what runs.\n", s.relative(s.cfg.StateDir))
	return nil
}

// up brings one service up: when it already runs it checks that it is
// ready; else it checks that its ports are free, installs it, starts it and
// waits until it is ready. Then it runs the service's setup.
func (s *Stack) up(ctx context.Context, svc service) error {
	begin := time.Now()
	if pid, _ := svc.pid(); pid != 0 {
		if err := svc.waitReady(ctx, nil, svc.timeout, svc.what, svc.ready); err != nil {
			return fmt.Errorf("%w (it was already running as pid %d; `make down` stops it)", err, pid)
		}
		fmt.Fprintf(s.out, "%-12s running, pid %d (already)\n", svc.name, pid)
	} else {
		for _, addr := range svc.addrs {
			if dialOK(ctx, addr) == nil {
				return fmt.Errorf("start %s: %s is already in use by a process this stack did not start (no live pid in %s); stop it, or stop the stack of the other checkout", svc.name, addr, svc.pidFile)
			}
		}
		if svc.install != nil {
			if err := svc.install(ctx); err != nil {
				return err
			}
		}
		cmd, err := svc.start(svc.command())
		if err != nil {
			return err
		}
		err = svc.waitReady(ctx, cmd, svc.timeout, svc.what, svc.ready)
		if errors.Is(err, errExited) && svc.optional && strings.Contains(svc.logTail(5), "not built yet") {
			_ = os.Remove(svc.pidFile)
			return fmt.Errorf("%s: %w", svc.name, errNotBuilt)
		}
		if err != nil {
			// Leave nothing half-started behind.
			if _, serr := svc.stop(context.WithoutCancel(ctx), s.cfg.StopTimeout); serr != nil {
				s.logger.Warn("stop after failed start", "service", svc.name, "err", serr)
			}
			return err
		}
		pid := cmd.Process.Pid
		// The service outlives us; we no longer own it.
		_ = cmd.Process.Release()
		fmt.Fprintf(s.out, "%-12s started, pid %d, ready in %s\n", svc.name, pid, time.Since(begin).Round(10*time.Millisecond))
	}
	if svc.setup != nil {
		if err := svc.setup(ctx); err != nil {
			return err
		}
	}
	return nil
}

// geoIP runs deploy/local/geoip.sh, which installs the GeoIP databases
// (once) and prints their folder on its last line. Without the script it
// returns "" and says so.
func (s *Stack) geoIP(ctx context.Context) (string, error) {
	dir, err := s.runScript(ctx, "geoip", "geoip.sh")
	if err != nil || dir == "" {
		return "", err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("install geoip: deploy/local/geoip.sh printed %q, which is not a folder", dir)
	}
	fmt.Fprintf(s.out, "%-12s %s\n", "geoip", dir)
	return dir, nil
}

// runScript runs the install script deploy/local/<script> for the named
// part of the stack and returns the last line it printed, which by the
// scripts' convention is the path of what they installed. Its output goes
// to .state/logs/<name>.out, its messages to <name>.log. A script that is
// not there yet returns "" with a warning.
func (s *Stack) runScript(ctx context.Context, name, script string) (string, error) {
	path := filepath.Join(s.cfg.RepoDir, "deploy", "local", script)
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(s.out, "%-12s WARNING: left out: %s is not there yet\n", name, s.relative(path))
		return "", nil
	}
	p := s.process(name, "")
	stdout := filepath.Join(filepath.Dir(p.logFile), name+".out")
	if err := os.MkdirAll(filepath.Dir(stdout), 0o755); err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	outFile, err := os.Create(stdout)
	if err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	defer outFile.Close()
	logFile, err := os.Create(p.logFile)
	if err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	defer logFile.Close()
	// A first run downloads and unpacks; later runs find the cache.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.InstallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", path)
	cmd.Dir = s.cfg.RepoDir
	cmd.Env = s.childEnv()
	cmd.Stdout, cmd.Stderr = outFile, logFile
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install %s with %s: %w; see %s%s", name, s.relative(path), err, p.logFile, p.logTail(15))
	}
	lines := tailLines(stdout, 1)
	if len(lines) == 0 {
		return "", fmt.Errorf("install %s: %s printed no path; see %s", name, s.relative(path), p.logFile)
	}
	return strings.TrimSpace(lines[0]), nil
}

// Down stops every running service, the last started first, and removes
// the env file. Data stays in the state folder.
func (s *Stack) Down(ctx context.Context) error {
	svcs := s.services()
	slices.Reverse(svcs)
	var errs []error
	for _, svc := range svcs {
		pid, _ := svc.pid()
		begin := time.Now()
		was, err := svc.stop(ctx, s.cfg.StopTimeout)
		switch {
		case err != nil:
			errs = append(errs, err)
			fmt.Fprintf(s.out, "%-12s %v\n", svc.name, err)
		case was:
			fmt.Fprintf(s.out, "%-12s stopped, pid %d, in %s\n", svc.name, pid, time.Since(begin).Round(10*time.Millisecond))
		default:
			fmt.Fprintf(s.out, "%-12s not running\n", svc.name)
		}
	}
	if err := os.Remove(s.cfg.EnvFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove env file: %w", err))
	}
	return errors.Join(errs...)
}

// ServiceStatus is what Status found out about one service.
type ServiceStatus struct {
	// Name is the service: broker, minio or clickhouse.
	Name string
	// PID is the running process's id, 0 when it does not run.
	PID int
	// Ready is whether the running service answered its ready probe.
	Ready bool
	// StalePID is set when a pid file names a process that is gone.
	StalePID bool
	// Endpoints are the addresses the service serves when it runs.
	Endpoints []Endpoint
	// Log is the service's log file.
	Log string
}

// Status reports each service, probing the running ones briefly, and
// prints a table of them.
func (s *Stack) Status(ctx context.Context) []ServiceStatus {
	var out []ServiceStatus
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tPID\tENDPOINTS\tLOG")
	for _, svc := range s.services() {
		st := ServiceStatus{Name: svc.name, Endpoints: svc.endpoints, Log: svc.logFile}
		st.PID, st.StalePID = svc.pid()
		state, pid := "stopped", "-"
		if st.PID != 0 {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st.Ready = svc.ready(pctx) == nil
			cancel()
			state, pid = "running", strconv.Itoa(st.PID)
			if !st.Ready {
				state = "not answering"
			}
		} else if st.StalePID {
			state = "stopped (stale pid file)"
		}
		eps := make([]string, len(svc.endpoints))
		for i, e := range svc.endpoints {
			eps[i] = e.Name + " " + e.Addr
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", svc.name, state, pid, strings.Join(eps, ", "), s.relative(svc.logFile))
		out = append(out, st)
	}
	tw.Flush()
	if _, err := os.Stat(s.cfg.EnvFile()); err == nil {
		fmt.Fprintf(s.out, "\nsource %s to use them.\n", s.relative(s.cfg.EnvFile()))
	}
	return out
}

// relative shortens path to be relative to the working directory when it
// lies below it, for messages.
func (s *Stack) relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// childEnv returns the environment for a service or script: ours without
// the variables that would change what the stack serves (TRAILWATCH_*
// config overrides, such as a sourced env file, and MINIO_*), plus the
// stack's cache folder, plus extra.
func (s *Stack) childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TRAILWATCH_") && !strings.HasPrefix(name, "MINIO_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TRAILWATCH_CACHE_DIR="+s.cfg.CacheDir)
	return append(env, extra...)
}

// dialOK returns nil when something accepts TCP connections on addr.
func dialOK(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn.Close()
}
