package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas"
	"github.com/trailwatch/trailwatch/sink"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testDB is a fresh, uniquely named database on the local engine, dropped
// when the test ends.
type testDB struct {
	cfg  sink.ClickHouseConfig
	dial Dialer
}

// newTestDB returns a fresh database reached over protocol ("native" or
// "http"). The database itself is created by the code under test.
func newTestDB(t testing.TB, protocol string) testDB {
	t.Helper()
	cfg := sink.DefaultClickHouseConfig()
	cfg.Protocol = protocol
	if protocol == "http" {
		cfg.Addr = []string{testenv.ClickHouseHTTP(t)}
	} else {
		cfg.Addr = []string{testenv.ClickHouse(t)}
	}
	cfg.Database = fmt.Sprintf("twtest_%d_%08x", time.Now().UnixNano(), rand.Uint32())
	db := testDB{cfg: cfg, dial: func(ctx context.Context, database string) (driver.Conn, error) { return cfg.Open(ctx, database) }}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := db.dial(ctx, "")
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer conn.Close()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+schemas.QuoteIdentifier(cfg.Database)+" SYNC"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return db
}

// conn opens a connection to the test database.
func (db testDB) conn(t testing.TB) driver.Conn {
	t.Helper()
	c, err := db.dial(context.Background(), db.cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (db testDB) migrator(migs []schemas.Migration, worker string) *Migrator {
	return New(db.dial, Options{Database: db.cfg.Database, Migrations: migs, Worker: worker}, discard())
}

func mustMigrations(t testing.TB) []schemas.Migration {
	t.Helper()
	migs, err := schemas.ClickHouseMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

// recorded returns schema_migrations as version -> (distinct checksums, rows).
func recorded(t testing.TB, conn driver.Conn) map[uint32][]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT version, groupUniqArray(checksum) FROM schema_migrations GROUP BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint32][]string{}
	for rows.Next() {
		var v uint32
		var sums []string
		if err := rows.Scan(&v, &sums); err != nil {
			t.Fatal(err)
		}
		out[v] = sums
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkAllRecorded fails unless every migration is recorded once, with its
// checksum, and nothing else is.
func checkAllRecorded(t testing.TB, conn driver.Conn, migs []schemas.Migration) {
	t.Helper()
	got := recorded(t, conn)
	if len(got) != len(migs) {
		t.Errorf("schema_migrations has %d versions, want %d: %v", len(got), len(migs), got)
	}
	for _, m := range migs {
		if sums := got[m.Version]; len(sums) != 1 || sums[0] != m.Checksum {
			t.Errorf("version %d recorded with %v, want [%s]", m.Version, sums, m.Checksum)
		}
	}
	var final uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM schema_migrations FINAL").Scan(&final); err != nil {
		t.Fatal(err)
	}
	if final != uint64(len(migs)) {
		t.Errorf("schema_migrations FINAL has %d rows, want %d", final, len(migs))
	}
}

func TestApplyTwice(t *testing.T) {
	for _, protocol := range []string{"native", "http"} {
		t.Run(protocol, func(t *testing.T) {
			ctx := context.Background()
			db := newTestDB(t, protocol)
			migs := mustMigrations(t)
			m := db.migrator(migs, "test")

			plan, err := m.Plan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan) != len(migs) {
				t.Fatalf("plan on a missing database has %d migrations, want %d", len(plan), len(migs))
			}

			for run, want := range []int{len(migs), 0} {
				applied, err := m.Apply(ctx)
				if err != nil {
					t.Fatalf("run %d: %v", run+1, err)
				}
				if len(applied) != want {
					t.Fatalf("run %d applied %d migrations, want %d", run+1, len(applied), want)
				}
			}
			conn := db.conn(t)
			checkAllRecorded(t, conn, migs)
			for _, table := range []string{schemas.TableEvents, schemas.TableDetections, schemas.TableSourceHeartbeats,
				"cloudtrail", "vpc_flows", "principal_daily", "source_status", "detection_evidence"} {
				var n uint8
				if err := conn.QueryRow(ctx, "EXISTS TABLE "+table).Scan(&n); err != nil || n != 1 {
					t.Errorf("table %s: exists %d, %v", table, n, err)
				}
			}
			if plan, err := m.Plan(ctx); err != nil || len(plan) != 0 {
				t.Errorf("plan after apply: %d pending, %v", len(plan), err)
			}
		})
	}
}

// TestPlanChangesNothing: a dry run must not even create the database.
func TestPlanChangesNothing(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t, "native")
	if _, err := db.migrator(mustMigrations(t), "test").Plan(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := db.dial(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint8
	if err := conn.QueryRow(ctx, "EXISTS DATABASE "+db.cfg.Database).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("Plan created the database")
	}
}

// TestApplyConcurrent runs several migrators at once against one fresh
// database, as several workers starting together would.
func TestApplyConcurrent(t *testing.T) {
	const workers = 6
	ctx := context.Background()
	db := newTestDB(t, "native")
	migs := mustMigrations(t)

	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			_, errs[i] = db.migrator(migs, fmt.Sprintf("worker-%d", i)).Apply(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	conn := db.conn(t)
	checkAllRecorded(t, conn, migs)
	// And the schema is whole: an insert-and-read through a view works.
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM cloudtrail").Scan(&n); err != nil {
		t.Errorf("query a view after concurrent migration: %v", err)
	}
}

func TestApplyRefusesChangedMigration(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t, "native")
	migs := mustMigrations(t)
	if _, err := db.migrator(migs, "old").Apply(ctx); err != nil {
		t.Fatal(err)
	}
	edited := append([]schemas.Migration(nil), migs...)
	edited[1].Checksum = strings.Repeat("0", 64)
	_, err := db.migrator(edited, "new").Apply(ctx)
	if !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("Apply with an edited migration: %v, want ErrChecksumMismatch", err)
	}
	if _, err := db.migrator(edited, "new").Plan(ctx); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("Plan with an edited migration: %v, want ErrChecksumMismatch", err)
	}
}

// TestApplyNewerDatabase: a database migrated by a newer trailwatch is
// left alone by an older one.
func TestApplyNewerDatabase(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t, "native")
	migs := mustMigrations(t)
	if _, err := db.migrator(migs, "new").Apply(ctx); err != nil {
		t.Fatal(err)
	}
	applied, err := db.migrator(migs[:2], "old").Apply(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("older binary: applied %d, %v", len(applied), err)
	}
}

// TestApplyResumesAfterFailure: a run that stops half way (here on a bad
// statement in version 3) leaves versions 1 and 2 recorded and 3 not; the
// next run, with the statement fixed, finishes the job.
func TestApplyResumesAfterFailure(t *testing.T) {
	ctx := context.Background()
	db := newTestDB(t, "native")
	migs := mustMigrations(t)
	broken := append([]schemas.Migration(nil), migs...)
	broken[2].Statements = append(append([]string(nil), migs[2].Statements...), "CREATE TABLE IF NOT EXISTS broken (x NoSuchType) ENGINE = Memory")

	applied, err := db.migrator(broken, "first").Apply(ctx)
	if err == nil || !strings.Contains(err.Error(), "apply migration 0003_detections statement 2 of 2") {
		t.Fatalf("broken run: %v", err)
	}
	if len(applied) != 2 {
		t.Fatalf("broken run applied %d migrations, want 2", len(applied))
	}
	if got := recorded(t, db.conn(t)); len(got) != 2 {
		t.Fatalf("after the broken run %d versions are recorded, want 2", len(got))
	}
	if _, err := db.migrator(migs, "second").Apply(ctx); err != nil {
		t.Fatal(err)
	}
	checkAllRecorded(t, db.conn(t), migs)
}
