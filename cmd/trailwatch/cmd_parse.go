package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/trailwatch/trailwatch/ingest"
)

// runParse decodes local log files and prints normalised events as NDJSON.
func runParse(_ context.Context, inv *invocation) error {
	fs := inv.flags("[--raw] FILE|DIR|- ...")
	raw := fs.Bool("raw", false, "include each event's original record")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"name at least one file, folder, or - for standard input"}
	}
	failed, err := ingest.ParseFiles(fs.Args(), os.Stdin, inv.stdout, inv.stderr,
		ingest.ParseOptions{Limits: ingest.DefaultLimits(), Raw: *raw, Now: time.Now().UTC()})
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d files or records could not be read (named above); the rest were printed", failed)
	}
	return nil
}
