package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/internal/devstack"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// runDevstack starts, stops or shows the local development stack (the
// broker, MinIO, ClickHouse and the GeoIP data). deploy/local/stack.sh,
// behind `make up`, `make down` and `make status`, calls it from the
// project root.
func runDevstack(ctx context.Context, inv *invocation) error {
	fs := inv.flags("up|down|status [--repo DIR] [--state-dir DIR] [--cache-dir DIR]")
	cfg := devstack.DefaultConfig()
	fs.StringVar(&cfg.RepoDir, "repo", cfg.RepoDir, "the project's root `dir` (where deploy/local/ is)")
	fs.StringVar(&cfg.StateDir, "state-dir", cfg.StateDir, "`dir` for the services' data, pids and logs (default $TRAILWATCH_STATE_DIR, else <repo>/.state)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", cfg.CacheDir, "`dir` for installed tools (default $TRAILWATCH_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch)")
	fs.StringVar(&cfg.Binary, "binary", cfg.Binary, "trailwatch `executable` that runs devbroker and devclickhouse (default: this one)")
	fs.DurationVar(&cfg.StartTimeout, "start-timeout", cfg.StartTimeout, "how long the broker and MinIO may take to become ready")
	// The action may come first (devstack up --repo .) or after the
	// flags (devstack --repo . up).
	args, action := inv.args, ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if action == "" && fs.NArg() == 1 {
		action = fs.Arg(0)
	} else if action == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{"want one action: up, down or status"}
	}
	logger := lifecycle.NewLogger(lifecycle.LogConfig{Level: "info", Format: "text"}, inv.stderr)
	stack, err := devstack.New(cfg, logger, inv.stdout)
	if err != nil {
		return usageError{err.Error()}
	}
	switch action {
	case "up":
		return stack.Up(ctx)
	case "down":
		return stack.Down(ctx)
	case "status":
		stack.Status(ctx)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown action %q: want up, down or status", action)}
	}
}
