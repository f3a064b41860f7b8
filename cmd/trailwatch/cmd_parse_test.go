package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func TestParseCommand(t *testing.T) {
	dir := t.TempDir()
	delivery, err := os.ReadFile("../../ingest/testdata/cloudtrail/delivery.json")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(delivery)
	_ = zw.Close()
	gzPath := filepath.Join(dir, "111122223333_CloudTrail_eu-west-1_20260302T1015Z_abc.json.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	flow := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 111122223333 eni-1 203.0.113.12 10.0.1.5 44321 443 6 10 5000 1772446500 1772446560 ACCEPT OK\n"
	flowPath := filepath.Join(dir, "flows", "f.log")
	_ = os.MkdirAll(filepath.Dir(flowPath), 0o755)
	if err := os.WriteFile(flowPath, []byte(flow), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		args       []string
		stdin      []byte
		wantLines  int
		wantCode   int
		wantStderr string
	}{
		{"gzip file", []string{gzPath}, nil, 4, 0, ""},
		{"folder and file", []string{dir}, nil, 5, 0, ""},
		{"stdin plain", []string{"-"}, delivery, 4, 0, ""},
		{"stdin gzip", []string{"-"}, gz.Bytes(), 4, 0, ""},
		{"missing file still prints the rest", []string{filepath.Join(dir, "nope.json"), gzPath}, nil, 4, 1, "nope.json"},
		{"bad records named", []string{"../../ingest/testdata/cloudtrail/bad_records.json"}, nil, 2, 1, "record 2: not_cloudtrail"},
		{"no arguments", nil, nil, 0, 2, "name at least one file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if tc.stdin != nil {
				f := filepath.Join(t.TempDir(), "stdin")
				_ = os.WriteFile(f, tc.stdin, 0o644)
				in, _ := os.Open(f)
				old := os.Stdin
				os.Stdin = in
				defer func() { os.Stdin = old; in.Close() }()
			}
			code := run(context.Background(), append([]string{"parse"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q does not name %q", stderr.String(), tc.wantStderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if stdout.Len() == 0 {
				lines = nil
			}
			if len(lines) != tc.wantLines {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), tc.wantLines, stdout.String())
			}
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("line is not JSON: %v: %s", err, l)
				}
				for _, k := range []string{"event_id", "event_time", "source", "event_name", "account_id", "region", "principal", "source_ip"} {
					if _, ok := m[k]; !ok {
						t.Errorf("line lacks %s: %s", k, l)
					}
				}
			}
		})
	}
}
