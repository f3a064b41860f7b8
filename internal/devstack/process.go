package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A process is one long-running service of the stack as the state folder
// knows it: its pid file, its log and the marker that tells our process
// apart from an unrelated one that reused the pid.
//
// Processes are started in a session of their own (so a Ctrl-C on `make
// up` does not reach them) with their output appended to their log, and
// they outlive the command that started them. They are stopped by the pid
// in their pid file, never by name: other checkouts on the same machine run
// the same binaries.
type process struct {
	name    string
	pidFile string
	logFile string
	// marker is a string the process's command line must contain for the
	// pid to count as ours: its data folder, which is unique to this
	// state folder.
	marker string
}

func (s *Stack) process(name, marker string) process {
	return process{
		name:    name,
		pidFile: filepath.Join(s.cfg.StateDir, "pids", name+".pid"),
		logFile: filepath.Join(s.cfg.StateDir, "logs", name+".log"),
		marker:  marker,
	}
}

// pid returns the pid of the running process, or 0 when none runs. A pid
// file whose process is gone, or belongs to something else now, counts as
// none; stale reports that such a file was found.
func (p process) pid() (pid int, stale bool) {
	b, err := os.ReadFile(p.pidFile)
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, true
	}
	if !alive(pid) {
		return 0, true
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(p.marker)) {
		return 0, true
	}
	return pid, false
}

// alive reports whether pid names a process that has not finished
// exiting. A zombie (exited, not yet reaped by its parent) counts as exited
// once all its threads are gone: where pid 1 does not reap, a stopped
// service would otherwise look alive forever. Until then the leader can be
// a zombie while other threads still hold the process's files, its
// listening sockets included.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	var state string
	threads := 1
	for line := range strings.SplitSeq(string(status), "\n") {
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch name {
		case "State":
			state = value
		case "Threads":
			if n, err := strconv.Atoi(value); err == nil {
				threads = n
			}
		}
	}
	zombie := strings.HasPrefix(state, "Z") || strings.HasPrefix(state, "X")
	return !zombie || threads > 1
}

// start starts cmd as this process: it keeps the previous log as
// <log>.1, appends the command's output to a fresh log, starts it in its own
// session and records its pid. The caller owns the child until it has
// either seen it become ready and called release, or stopped it.
func (p process) start(cmd *exec.Cmd) (*exec.Cmd, error) {
	for _, dir := range []string{filepath.Dir(p.pidFile), filepath.Dir(p.logFile)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("start %s: %w", p.name, err)
		}
	}
	if err := os.Rename(p.logFile, p.logFile+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("start %s: keep previous log: %w", p.name, err)
	}
	log, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open log: %w", p.name, err)
	}
	// The child holds its own copy of the descriptor.
	defer log.Close()
	fmt.Fprintf(log, "# %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	if err := writeFileAtomic(p.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	return cmd, nil
}

// exited reports, without blocking, whether our child cmd has exited, and
// its status if so. It reaps the child.
func exited(cmd *exec.Cmd) (bool, syscall.WaitStatus) {
	var ws syscall.WaitStatus
	pid, err := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil)
	if err != nil {
		// ECHILD: already reaped; nothing runs under that pid for us.
		return true, ws
	}
	return pid == cmd.Process.Pid, ws
}

// errExited is returned by waitReady when the process exits before it is
// ready.
var errExited = errors.New("exited")

// waitReady polls probe until it succeeds, ctx is done or timeout passes.
// When cmd is our child (not nil), a child that exits ends the wait at
// once. The error names the service's log and quotes its end.
func (p process) waitReady(ctx context.Context, cmd *exec.Cmd, timeout time.Duration, what string, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		err := probe(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		if cmd != nil {
			if done, ws := exited(cmd); done {
				return fmt.Errorf("%s %w (status %d) before it was ready on %s; see %s%s",
					p.name, errExited, ws.ExitStatus(), what, p.logFile, p.logTail(15))
			}
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("%s not ready on %s within %s (last: %v); see %s%s",
					p.name, what, timeout, err, p.logFile, p.logTail(15))
			}
			return fmt.Errorf("wait for %s: %w", p.name, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM to the running process and waits up to timeout for it
// to exit, then kills it. It removes the pid file. It reports whether a
// process was running.
func (p process) stop(ctx context.Context, timeout time.Duration) (bool, error) {
	pid, stale := p.pid()
	if pid == 0 {
		if stale {
			_ = os.Remove(p.pidFile)
		}
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
	}
	if err := waitGone(ctx, pid, timeout); err != nil {
		// It did not finish its shutdown in time: kill it, so that `down`
		// always leaves the ports free.
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if err := waitGone(ctx, pid, 5*time.Second); err != nil {
			return true, fmt.Errorf("stop %s (pid %d): still running after SIGKILL: %w", p.name, pid, err)
		}
		_ = os.Remove(p.pidFile)
		return true, fmt.Errorf("stop %s (pid %d): not gone %s after SIGTERM, killed; see %s", p.name, pid, timeout, p.logFile)
	}
	if err := os.Remove(p.pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, fmt.Errorf("stop %s: %w", p.name, err)
	}
	return true, nil
}

// waitGone waits until pid has exited.
func waitGone(ctx context.Context, pid int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for alive(pid) {
		// Our own child (stopped by the `up` that started it) is reaped
		// here; anyone else's is reaped by its parent.
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// logTail returns the last n lines of the log, indented, for an error
// message, or "" when there is no log.
func (p process) logTail(n int) string {
	lines := tailLines(p.logFile, n)
	if len(lines) == 0 {
		return ""
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

// tailLines returns the last n non-empty lines of the file at path, reading
// no more than its last 8 KiB; none when it cannot be read.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const maxTail = 8 << 10
	if st, err := f.Stat(); err == nil && st.Size() > maxTail {
		if _, err := f.Seek(-maxTail, io.SeekEnd); err != nil {
			return nil
		}
	}
	buf, _ := io.ReadAll(io.LimitReader(f, maxTail))
	var lines []string
	for l := range strings.SplitSeq(string(buf), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
