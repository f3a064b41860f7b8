package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStart(t *testing.T) {
	now := time.Date(2026, 11, 23, 22, 8, 53, 0, time.UTC)
	cases := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2026-06-01", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{"2026-06-01T10:05:00Z", time.Date(2026, 6, 1, 10, 5, 0, 0, time.UTC), false},
		{"2026-06-01T12:05:00+02:00", time.Date(2026, 6, 1, 10, 5, 0, 0, time.UTC), false},
		{"today", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), false},
		{"yesterday", time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), false},
		{"last week", time.Time{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseStart(tc.in, now)
			if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
				t.Fatalf("parseStart(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestGenToFolder runs the command into a folder and checks the summary
// line and the ground truth beside the data.
func TestGenToFolder(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"gen", "--out", dir, "--events", "3000", "--flow-records", "500", "--scenario", "all", "--seed", "7"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "gen: ") || !strings.Contains(stdout.String(), "3000 events") {
		t.Fatalf("summary line %q", stdout.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt struct {
		Seed      uint64 `json:"seed"`
		Scenarios []struct {
			Name string `json:"name"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(b, &gt); err != nil || gt.Seed != 7 || len(gt.Scenarios) != 6 {
		t.Fatalf("ground truth %+v, %v", gt, err)
	}
	for _, bucket := range []string{"trailwatch-org-trail", "trailwatch-flow-logs"} {
		if _, err := os.Stat(filepath.Join(dir, bucket, "AWSLogs")); err != nil {
			t.Errorf("no %s/AWSLogs: %v", bucket, err)
		}
	}
}

// TestGenParquetThroughParse generates Parquet flow logs into a folder
// and reads them back with `trailwatch parse`: every record the summary
// counts comes out as an event, and nothing is refused.
func TestGenParquetThroughParse(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"gen", "--out", dir, "--events", "0", "--flow-records", "400", "--flow-format", "parquet",
		"--accounts", "2", "--duration", "30m", "--scenario", "port-scan", "--seed", "7"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr.String())
	}
	m := regexp.MustCompile(`(\d+) flow of which (\d+) parquet\), 0 events, (\d+) flow records`).FindStringSubmatch(stdout.String())
	if m == nil || m[1] != m[2] {
		t.Fatalf("summary line %q: want every flow object Parquet", stdout.String())
	}
	parquets, err := filepath.Glob(filepath.Join(dir, "trailwatch-flow-logs", "AWSLogs", "*", "vpcflowlogs", "*", "*", "*", "*", "*.log.parquet"))
	if err != nil || strconv.Itoa(len(parquets)) != m[1] {
		t.Fatalf("%d .log.parquet files (%v), the summary says %s", len(parquets), err, m[1])
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"parse", filepath.Join(dir, "trailwatch-flow-logs")}, &stdout, &stderr); code != 0 {
		t.Fatalf("parse: exit %d: %s", code, stderr.String())
	}
	if got := strconv.Itoa(strings.Count(stdout.String(), "\n")); got != m[3] {
		t.Fatalf("parse printed %s events, gen wrote %s flow records", got, m[3])
	}
	if !strings.Contains(stdout.String(), `"source":"vpcflow"`) || stderr.Len() > 0 {
		t.Fatalf("parse: stderr %q, first event %.300s", stderr.String(), stdout.String())
	}
}

func TestGenUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"bad start", []string{"--start", "soon"}},
		{"unknown scenario", []string{"--scenario", "ddos"}},
		{"unknown flow format", []string{"--flow-format", "csv"}},
		{"nothing to generate", []string{"--events", "0", "--flow-records", "0"}},
		{"stray argument", []string{"extra"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), append([]string{"gen", "--out", t.TempDir()}, tc.args...), &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2 (usage): %s", code, stderr.String())
			}
		})
	}
}
