package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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

func TestGenUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"bad start", []string{"--start", "soon"}},
		{"unknown scenario", []string{"--scenario", "ddos"}},
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
