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
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv selects what the test binary does when a test starts it as a
// stand-in service (see TestMain).
const helperEnv = "DEVSTACK_TEST_HELPER"

// TestMain lets the test binary stand in for a service: with helperEnv
// set it listens on the address in DEVSTACK_TEST_ADDR and behaves as the
// variable says, instead of running the tests.
func TestMain(m *testing.M) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		os.Exit(m.Run())
	}
	switch mode {
	case "fail":
		fmt.Println("the devthing role is not built yet in this version of trailwatch")
		os.Exit(3)
	case "serve", "ignore-term":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		ln, err := net.Listen("tcp", os.Getenv("DEVSTACK_TEST_ADDR"))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(1)
		}
		fmt.Println("serving on", ln.Addr())
		for {
			<-sigs
			if mode == "serve" {
				fmt.Println("stopping")
				os.Exit(0)
			}
		}
	}
	os.Exit(2)
}

func testStack(t *testing.T) *Stack {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RepoDir = t.TempDir()
	cfg.StateDir = filepath.Join(cfg.RepoDir, ".state")
	cfg.CacheDir = filepath.Join(cfg.RepoDir, "cache")
	cfg.Binary = os.Args[0]
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// helperCommand returns a command that runs the test binary as a stand-in
// service; marker is on its command line like a real service's data folder.
func helperCommand(mode, addr, marker string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], marker)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "DEVSTACK_TEST_ADDR="+addr)
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestProcessLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name        string
		mode        string
		stopTimeout time.Duration
		wantStart   string // substring of the start error; "" for none
		wantStop    string // substring of the stop error; "" for none
	}{
		{"serves and stops on SIGTERM", "serve", 10 * time.Second, "", ""},
		{"exits before ready", "fail", 10 * time.Second, "not built yet", ""},
		{"ignores SIGTERM and is killed", "ignore-term", 300 * time.Millisecond, "", "killed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testStack(t)
			marker := filepath.Join(s.cfg.StateDir, "thing")
			p := s.process("thing", marker)
			addr := freeAddr(t)
			cmd, err := p.start(helperCommand(tc.mode, addr, marker))
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			err = p.waitReady(t.Context(), cmd, 20*time.Second, addr, func(ctx context.Context) error { return dialOK(ctx, addr) })
			if tc.wantStart != "" {
				if !errors.Is(err, errExited) || !strings.Contains(err.Error(), tc.wantStart) || !strings.Contains(err.Error(), p.logFile) {
					t.Fatalf("waitReady = %v, want it to say the process exited, name %s and quote %q", err, p.logFile, tc.wantStart)
				}
				if pid, _ := p.pid(); pid != 0 {
					t.Errorf("pid() = %d after the process exited, want 0", pid)
				}
				return
			}
			if err != nil {
				t.Fatalf("waitReady: %v", err)
			}
			pid, stale := p.pid()
			if pid != cmd.Process.Pid || stale {
				t.Fatalf("pid() = %d, %v; want %d, false", pid, stale, cmd.Process.Pid)
			}
			was, err := p.stop(t.Context(), tc.stopTimeout)
			if !was {
				t.Errorf("stop reported no running process")
			}
			if tc.wantStop == "" && err != nil {
				t.Errorf("stop: %v", err)
			}
			if tc.wantStop != "" && (err == nil || !strings.Contains(err.Error(), tc.wantStop)) {
				t.Errorf("stop = %v, want an error saying %q", err, tc.wantStop)
			}
			if alive(pid) {
				t.Errorf("pid %d still alive after stop", pid)
			}
			if _, err := os.Stat(p.pidFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("pid file still there after stop: %v", err)
			}
			if dialOK(t.Context(), addr) == nil {
				t.Errorf("%s still accepts connections after stop", addr)
			}
		})
	}
}

func TestStalePIDFile(t *testing.T) {
	// A process that has exited and been reaped: its pid is free.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		content string
	}{
		{"process gone", strconv.Itoa(gone.Process.Pid)},
		{"pid reused by another process", strconv.Itoa(os.Getpid())}, // no marker on our command line
		{"garbage", "not a pid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testStack(t)
			p := s.process("thing", filepath.Join(s.cfg.StateDir, "thing-data"))
			if err := os.MkdirAll(filepath.Dir(p.pidFile), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.pidFile, []byte(tc.content+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if pid, stale := p.pid(); pid != 0 || !stale {
				t.Fatalf("pid() = %d, %v; want 0, true", pid, stale)
			}
			was, err := p.stop(t.Context(), time.Second)
			if was || err != nil {
				t.Fatalf("stop = %v, %v; want false, nil", was, err)
			}
			if _, err := os.Stat(p.pidFile); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stale pid file not removed: %v", err)
			}
		})
	}
}

// TestUpRefusesBusyPort checks that up does not start a service over a
// port that something else serves, and says which.
func TestUpRefusesBusyPort(t *testing.T) {
	s := testStack(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	marker := filepath.Join(s.cfg.StateDir, "thing")
	svc := service{
		process: s.process("thing", marker),
		addrs:   []string{ln.Addr().String()},
		timeout: 5 * time.Second,
		command: func() *exec.Cmd { return helperCommand("serve", ln.Addr().String(), marker) },
		ready:   func(ctx context.Context) error { return dialOK(ctx, ln.Addr().String()) },
	}
	err = s.up(t.Context(), svc)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("up = %v, want an error saying %s is already in use", err, ln.Addr())
	}
}

// TestUpIsIdempotent brings a stand-in service up twice: the second up
// finds it running and leaves it be; down stops it.
func TestUpIsIdempotent(t *testing.T) {
	s := testStack(t)
	addr := freeAddr(t)
	marker := filepath.Join(s.cfg.StateDir, "thing")
	setups := 0
	svc := service{
		process: s.process("thing", marker),
		addrs:   []string{addr},
		timeout: 20 * time.Second,
		command: func() *exec.Cmd { return helperCommand("serve", addr, marker) },
		ready:   func(ctx context.Context) error { return dialOK(ctx, addr) },
		setup:   func(context.Context) error { setups++; return nil },
	}
	if err := s.up(t.Context(), svc); err != nil {
		t.Fatalf("first up: %v", err)
	}
	first, _ := svc.pid()
	defer svc.stop(context.Background(), 5*time.Second)
	if err := s.up(t.Context(), svc); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if second, _ := svc.pid(); second != first || first == 0 {
		t.Errorf("pid after second up = %d, want the first's %d", second, first)
	}
	if setups != 2 {
		t.Errorf("setup ran %d times, want on every up (2)", setups)
	}
	if was, err := svc.stop(t.Context(), 5*time.Second); !was || err != nil {
		t.Errorf("stop = %v, %v; want true, nil", was, err)
	}
}
