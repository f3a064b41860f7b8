package schemas

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ClickHouse tables and views, created by the migrations in
// schemas/migrations/. Statements in the migrations name them without a
// database: `trailwatch migrate` runs them on a connection whose current
// database is the configured one.
const (
	// TableEvents holds one row per event (Event with its Enrichment).
	TableEvents = "events"
	// TableDetections holds one row per detection id.
	TableDetections = "detections"
	// TableSourceHeartbeats holds the last delivery per (account, region, kind).
	TableSourceHeartbeats = "source_heartbeats"
	// TableSchemaMigrations records the applied migration versions.
	TableSchemaMigrations = "schema_migrations"
)

// ClickHouseInsertSettings are the query settings a writer sends with each
// batch insert into the ReplacingMergeTree tables (events, detections,
// source_heartbeats).
//
// optimize_on_insert=0 skips the deduplicating merge ClickHouse otherwise
// runs over every inserted block: measured on the events table it is about
// two thirds of the engine's insert cost (300k enriched CloudTrail rows:
// 3.4 CPU-seconds with it, 1.2 without). Correctness does not depend on it:
// duplicates within a block are folded by the background merges like
// duplicates across blocks, and FINAL hides both until then.
var ClickHouseInsertSettings = map[string]any{
	"optimize_on_insert": 0,
}

// Migration is one versioned step of the ClickHouse schema: the file
// schemas/migrations/NNNN_name.sql.
//
// Rules for writing one, which is what makes `trailwatch migrate` safe to
// run from several workers at once without transactions or locks:
//   - Every statement is idempotent: CREATE ... IF NOT EXISTS, ALTER ...
//     ADD COLUMN IF NOT EXISTS, ADD INDEX IF NOT EXISTS. Running a whole
//     migration twice, or two copies of it at once, ends in the same
//     schema as running it once.
//   - A statement never undoes a later migration: objects are first created
//     IF NOT EXISTS, and only a later migration redefines them (CREATE OR
//     REPLACE VIEW, MODIFY ...). A slow worker re-running an old migration
//     is then harmless.
//   - No data rewrites that are not idempotent. An INSERT ... SELECT must
//     land in a ReplacingMergeTree keyed so that running it twice adds no
//     rows.
//   - Never edit a migration once released: its checksum is recorded, and
//     migrate refuses a database whose recorded checksum differs. Add a new
//     version instead.
type Migration struct {
	// Version is the number in the file name, from 1, without gaps.
	Version uint32
	// Name is the rest of the file name (events for 0002_events.sql).
	Name string
	// Statements are the SQL statements of the file, in order, without
	// their terminating semicolons.
	Statements []string
	// Checksum is the hex sha256 of the file's bytes.
	Checksum string
}

// String returns the migration's file stem, such as "0002_events".
func (m Migration) String() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ClickHouseMigrations returns the ClickHouse schema migrations compiled
// into trailwatch, by version. It fails only if the embedded files are
// malformed, which a unit test rules out.
func ClickHouseMigrations() ([]Migration, error) {
	return ParseMigrations(migrationFiles, "migrations")
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// ParseMigrations reads the migrations in directory dir of fsys. Every file
// there must be named NNNN_name.sql; versions must run 1, 2, 3, ...
func ParseMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("read migrations: %s: name is not NNNN_name.sql", e.Name())
		}
		v, _ := strconv.ParseUint(m[1], 10, 32) // four digits always parse
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		stmts, err := SplitStatements(string(b))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		if len(stmts) == 0 {
			return nil, fmt.Errorf("read migration %s: no statements", e.Name())
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{
			Version:    uint32(v),
			Name:       m[2],
			Statements: stmts,
			Checksum:   hex.EncodeToString(sum[:]),
		})
	}
	slices.SortFunc(out, func(a, b Migration) int { return int(a.Version) - int(b.Version) })
	for i, m := range out {
		if m.Version != uint32(i+1) {
			return nil, fmt.Errorf("read migrations: %s: want version %d (versions start at 1, without gaps or repeats)", m, i+1)
		}
	}
	return out, nil
}

// ErrUnterminated is returned by SplitStatements for SQL that ends inside
// a quoted string, a quoted identifier or a block comment.
var ErrUnterminated = errors.New("unterminated quote or comment")

// sqlSpace is the white space SplitStatements trims: ASCII only, as
// ClickHouse's lexer sees it.
const sqlSpace = " \t\n\v\f\r"

// SplitStatements splits SQL text into statements at semicolons that are
// outside quotes ('...', "...", `...`) and comments (-- to end of line,
// /* ... */). Statements keep their comments; pieces that hold nothing but
// comments and white space are dropped.
func SplitStatements(sql string) ([]string, error) {
	var (
		out   []string
		start int
		code  bool // the current piece has something besides comments
	)
	flush := func(end int) {
		if s := strings.Trim(sql[start:end], sqlSpace); code && s != "" {
			out = append(out, s)
		}
		start, code = end+1, false
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == ';':
			flush(i)
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("split sql at byte %d: %w", i, ErrUnterminated)
			}
			i += j + 3
		case c == '\'' || c == '"' || c == '`':
			// A backslash escapes the next byte; a doubled quote is a
			// closing quote followed by an opening one, which this loop
			// handles without a special case.
			j := i + 1
			for ; j < len(sql) && sql[j] != c; j++ {
				if sql[j] == '\\' {
					j++
				}
			}
			if j >= len(sql) {
				return nil, fmt.Errorf("split sql at byte %d: %w", i, ErrUnterminated)
			}
			i, code = j, true
		case strings.IndexByte(sqlSpace, c) < 0:
			code = true
		}
	}
	flush(len(sql))
	return out, nil
}

// QuoteIdentifier quotes a ClickHouse identifier (a database or table
// name) with backticks.
func QuoteIdentifier(name string) string {
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`")
	return "`" + r.Replace(name) + "`"
}

// CreateDatabaseStatement returns the statement that creates database
// name when it is missing, with ClickHouse's default (Atomic) engine. It
// runs before the migrations, which name no database.
func CreateDatabaseStatement(name string) string {
	return "CREATE DATABASE IF NOT EXISTS " + QuoteIdentifier(name)
}
