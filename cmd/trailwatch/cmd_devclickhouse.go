package main

import (
	"context"

	"github.com/trailwatch/trailwatch/internal/chdb"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// runDevclickhouse runs the local ClickHouse engine (libchdb, loaded into
// this process) with its native and HTTP listeners on 127.0.0.1 until
// SIGINT or SIGTERM, then stops it cleanly. Its data stays in --path.
func runDevclickhouse(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--path DIR] [--tcp-port N] [--http-port N] [--lib PATH] [--config FILE]")
	cfgPath := configFlag(fs)
	cfg := chdb.DefaultConfig()
	fs.StringVar(&cfg.Path, "path", cfg.Path, "keep databases and tables in `dir` (created when missing)")
	fs.IntVar(&cfg.TCPPort, "tcp-port", cfg.TCPPort, "native-protocol `port` on 127.0.0.1")
	fs.IntVar(&cfg.HTTPPort, "http-port", cfg.HTTPPort, "HTTP-interface `port` on 127.0.0.1")
	fs.StringVar(&cfg.Lib, "lib", cfg.Lib, "`path` of libchdb.so, as deploy/local/chdb.sh prints it (default $"+chdb.EnvLib+" or the cache)")
	fs.DurationVar(&cfg.StartTimeout, "start-timeout", cfg.StartTimeout, "give up when the listeners do not answer within `duration`")
	fs.DurationVar(&cfg.StopTimeout, "stop-timeout", cfg.StopTimeout, "give up when the engine has not stopped `duration` after SIGTERM")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + fs.Arg(0)}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	file, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := lifecycle.NewLogger(file.Log, inv.stderr)
	return chdb.Serve(ctx, cfg, logger)
}
