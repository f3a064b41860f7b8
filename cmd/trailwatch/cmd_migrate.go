package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trailwatch/trailwatch/internal/lifecycle"
	"github.com/trailwatch/trailwatch/schemas"
	"github.com/trailwatch/trailwatch/sink/migrate"
)

// runMigrate applies the pending ClickHouse schema migrations, or with
// --dry-run prints them. It is safe to run from several workers at once
// (see package migrate).
func runMigrate(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--addr HOST:PORT[,...]] [--database NAME] [--dry-run] [--config FILE]")
	cfgPath := configFlag(fs)
	addr := fs.String("addr", "", "ClickHouse `host:port` list, comma-separated (default: clickhouse.addr of the config, $TRAILWATCH_CLICKHOUSE_ADDR, or the local stack)")
	database := fs.String("database", "", "database `name` to create and migrate (default: clickhouse.database)")
	protocol := fs.String("protocol", "", "native or http (default: clickhouse.protocol)")
	dryRun := fs.Bool("dry-run", false, "print the pending migrations and change nothing")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after `duration`")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + fs.Arg(0)}
	}
	// The config file and TRAILWATCH_CLICKHOUSE_* give the settings (the
	// password only from the environment or a file); flags override.
	file, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	cfg := file.ClickHouse
	if *addr != "" {
		cfg.Addr = strings.Split(*addr, ",")
	}
	if *database != "" {
		cfg.Database = *database
	}
	if *protocol != "" {
		cfg.Protocol = *protocol
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	logger := lifecycle.NewLogger(file.Log, inv.stderr)

	migrations, err := schemas.ClickHouseMigrations()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	dial := func(ctx context.Context, database string) (driver.Conn, error) { return cfg.Open(ctx, database) }
	m := migrate.New(dial, migrate.Options{Database: cfg.Database, Migrations: migrations}, logger)

	if *dryRun {
		pending, err := m.Plan(ctx)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			fmt.Fprintf(inv.stdout, "-- database %s is up to date at version %d\n", cfg.Database, len(migrations))
			return nil
		}
		fmt.Fprintf(inv.stdout, "-- %d pending migration(s) for database %s\n", len(pending), cfg.Database)
		for _, mig := range pending {
			fmt.Fprintf(inv.stdout, "\n-- %s (%d statements, sha256 %s)\n", mig, len(mig.Statements), mig.Checksum)
			for _, s := range mig.Statements {
				fmt.Fprintf(inv.stdout, "%s;\n", s)
			}
		}
		return nil
	}

	logger.Info("migrating", "clickhouse", cfg, "known_versions", len(migrations))
	applied, err := m.Apply(ctx)
	if err != nil {
		return err
	}
	for _, mig := range applied {
		fmt.Fprintf(inv.stdout, "applied %s\n", mig)
	}
	fmt.Fprintf(inv.stdout, "database %s is at version %d\n", cfg.Database, len(migrations))
	return nil
}
