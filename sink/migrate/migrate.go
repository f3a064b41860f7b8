package migrate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trailwatch/trailwatch/schemas"
)

// Dialer opens a ClickHouse connection whose current database is
// database; "" means the server's default database. The Migrator closes
// every connection it opens. sink.ClickHouseConfig.Open is one.
type Dialer func(ctx context.Context, database string) (driver.Conn, error)

// Options configures a Migrator.
type Options struct {
	// Database is the database to migrate. It is created when missing.
	Database string
	// Migrations are the migrations to apply, by version:
	// schemas.ClickHouseMigrations() outside tests.
	Migrations []schemas.Migration
	// Worker names this process in schema_migrations.applied_by.
	// Default "<hostname>:<pid>".
	Worker string
}

// Migrator applies migrations to one database. Its methods may be called
// from one goroutine at a time; separate Migrators (in one process or many)
// may run against the same database at once.
type Migrator struct {
	dial   Dialer
	opts   Options
	logger *slog.Logger
	now    func() time.Time
}

// New returns a Migrator that connects with dial.
func New(dial Dialer, opts Options, logger *slog.Logger) *Migrator {
	if opts.Worker == "" {
		host, _ := os.Hostname()
		opts.Worker = host + ":" + strconv.Itoa(os.Getpid())
	}
	return &Migrator{dial: dial, opts: opts, logger: logger, now: time.Now}
}

// Plan returns the migrations Apply would apply now, without changing
// anything (not even creating the database). It fails like Apply when the
// recorded checksums do not match.
func (m *Migrator) Plan(ctx context.Context) ([]schemas.Migration, error) {
	exists, err := m.databaseExists(ctx)
	if err != nil {
		return nil, err
	}
	if !exists {
		return m.opts.Migrations, nil
	}
	conn, err := m.dial(ctx, m.opts.Database)
	if err != nil {
		return nil, fmt.Errorf("plan migrations: %w", err)
	}
	defer conn.Close()
	applied, err := m.applied(ctx, conn)
	if err != nil {
		return nil, err
	}
	return m.pending(applied), nil
}

// Apply creates the database when missing and applies every pending
// migration in order, recording each. It returns the migrations this call
// applied (a concurrent worker may have applied others).
func (m *Migrator) Apply(ctx context.Context) ([]schemas.Migration, error) {
	if err := m.createDatabase(ctx); err != nil {
		return nil, err
	}
	conn, err := m.dial(ctx, m.opts.Database)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	defer conn.Close()

	applied, err := m.applied(ctx, conn)
	if err != nil {
		return nil, err
	}
	var done []schemas.Migration
	for _, mig := range m.pending(applied) {
		start := m.now()
		for i, stmt := range mig.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return done, fmt.Errorf("apply migration %s statement %d of %d: %w", mig, i+1, len(mig.Statements), err)
			}
		}
		if err := m.record(ctx, conn, mig); err != nil {
			return done, err
		}
		done = append(done, mig)
		m.logger.Info("migration applied", "database", m.opts.Database, "version", mig.Version,
			"name", mig.Name, "statements", len(mig.Statements), "duration_ms", m.now().Sub(start).Milliseconds())
	}

	// Check after: every version this binary knows must now be recorded
	// with this binary's checksum, whoever recorded it.
	applied, err = m.applied(ctx, conn)
	if err != nil {
		return done, err
	}
	for _, mig := range m.opts.Migrations {
		if _, ok := applied[mig.Version]; !ok {
			return done, fmt.Errorf("check migrations: %s is not recorded in %s after applying it", mig, schemas.TableSchemaMigrations)
		}
	}
	return done, nil
}

func (m *Migrator) databaseExists(ctx context.Context) (bool, error) {
	conn, err := m.dial(ctx, "")
	if err != nil {
		return false, fmt.Errorf("check database %s: %w", m.opts.Database, err)
	}
	defer conn.Close()
	var exists uint8
	if err := conn.QueryRow(ctx, "EXISTS DATABASE "+schemas.QuoteIdentifier(m.opts.Database)).Scan(&exists); err != nil {
		return false, fmt.Errorf("check database %s: %w", m.opts.Database, err)
	}
	return exists == 1, nil
}

func (m *Migrator) createDatabase(ctx context.Context) error {
	conn, err := m.dial(ctx, "")
	if err != nil {
		return fmt.Errorf("create database %s: %w", m.opts.Database, err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, schemas.CreateDatabaseStatement(m.opts.Database)); err != nil {
		return fmt.Errorf("create database %s: %w", m.opts.Database, err)
	}
	return nil
}

// applied reads the recorded versions and their checksums, and checks them
// against the migrations this binary carries.
func (m *Migrator) applied(ctx context.Context, conn driver.Conn) (map[uint32]string, error) {
	var exists uint8
	if err := conn.QueryRow(ctx, "EXISTS TABLE "+schemas.TableSchemaMigrations).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	if exists == 0 {
		return map[uint32]string{}, nil
	}
	// GROUP BY rather than FINAL: every row of a version must carry the
	// same checksum, and only the whole group shows a disagreement.
	rows, err := conn.Query(ctx, "SELECT version, groupUniqArray(checksum) FROM "+
		schemas.TableSchemaMigrations+" GROUP BY version ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	recorded := map[uint32][]string{}
	for rows.Next() {
		var (
			v    uint32
			sums []string
		)
		if err := rows.Scan(&v, &sums); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		recorded[v] = sums
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}

	known := make(map[uint32]schemas.Migration, len(m.opts.Migrations))
	for _, mig := range m.opts.Migrations {
		known[mig.Version] = mig
	}
	out := make(map[uint32]string, len(recorded))
	var unknown []uint32
	for _, v := range slices.Sorted(maps.Keys(recorded)) {
		sums := recorded[v]
		mig, ok := known[v]
		switch {
		case !ok:
			unknown = append(unknown, v)
		case len(sums) != 1:
			return nil, fmt.Errorf("migration %s was recorded with %d different checksums %v: %w", mig, len(sums), sums, ErrChecksumMismatch)
		case sums[0] != mig.Checksum:
			return nil, fmt.Errorf("migration %s was applied with checksum %s, this binary has %s: %w", mig, sums[0], mig.Checksum, ErrChecksumMismatch)
		}
		out[v] = sums[0]
	}
	if len(unknown) > 0 {
		m.logger.Warn("database has migrations this binary does not know; a newer trailwatch applied them",
			"database", m.opts.Database, "versions", unknown)
	}
	return out, nil
}

// pending returns the known migrations not in applied, in version order.
func (m *Migrator) pending(applied map[uint32]string) []schemas.Migration {
	var out []schemas.Migration
	for _, mig := range m.opts.Migrations {
		if _, ok := applied[mig.Version]; !ok {
			out = append(out, mig)
		}
	}
	return out
}

// record inserts the row that marks mig as applied.
func (m *Migrator) record(ctx context.Context, conn driver.Conn, mig schemas.Migration) error {
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+schemas.TableSchemaMigrations+
		" (version, name, checksum, applied_at, applied_by)")
	if err != nil {
		return fmt.Errorf("record migration %s: %w", mig, err)
	}
	if err := batch.Append(mig.Version, mig.Name, mig.Checksum, m.now().UTC(), m.opts.Worker); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("record migration %s: %w", mig, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record migration %s: %w", mig, err)
	}
	return nil
}
