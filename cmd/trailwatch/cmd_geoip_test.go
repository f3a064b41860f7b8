package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGeoIPCommand(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "asn-ipv4.csv")
	if err := os.WriteFile(csv, []byte("8.8.8.0,8.8.8.255,15169,Google LLC\n1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "asn.mmdb")
	t.Setenv("TRAILWATCH_GEOIP_DIR", "")
	// The steps run in order: lookup reads what asn-mmdb wrote.
	steps := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring of stdout
		stderr     string // substring of stderr
		wantOutput string // exact stdout, when set
	}{
		{name: "no subcommand", args: []string{"geoip"}, code: 2, stderr: "missing subcommand"},
		{name: "unknown subcommand", args: []string{"geoip", "whois"}, code: 2, stderr: `unknown subcommand "whois"`},
		{name: "help", args: []string{"geoip", "-h"}, code: 0, stderr: "asn-mmdb --out FILE CSV..."},
		{name: "asn-mmdb without out", args: []string{"geoip", "asn-mmdb", csv}, code: 2, stderr: "need --out"},
		{name: "asn-mmdb missing csv", args: []string{"geoip", "asn-mmdb", "--out", asn, filepath.Join(dir, "nope.csv")}, code: 1, stderr: "open asn csv"},
		{name: "asn-mmdb", args: []string{"geoip", "asn-mmdb", "--out", asn, csv}, code: 0, stdout: "2 rows, 2 networks, 0 skipped"},
		{name: "lookup without databases", args: []string{"geoip", "lookup", "8.8.8.8"}, code: 2, stderr: "no databases"},
		{name: "lookup without addresses", args: []string{"geoip", "lookup", "--asn", asn}, code: 2, stderr: "need at least one address"},
		{name: "lookup city file that is an asn file", args: []string{"geoip", "lookup", "--city", asn, "8.8.8.8"}, code: 1, stderr: "city_files[0]"},
		{
			name: "lookup", args: []string{"geoip", "lookup", "-v", "--asn", asn, "8.8.8.8", "1.0.0.1", "s3.amazonaws.com"}, code: 0,
			stderr: "layout geolite2-asn",
			wantOutput: `{"ip":"8.8.8.8","country_code":"","city":"","latitude":0,"longitude":0,"asn":15169,"as_org":"Google LLC"}
{"ip":"1.0.0.1","country_code":"","city":"","latitude":0,"longitude":0,"asn":13335,"as_org":"Cloudflare, Inc."}
{"ip":"s3.amazonaws.com","country_code":"","city":"","latitude":0,"longitude":0,"asn":0,"as_org":""}
`,
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), st.args, &stdout, &stderr)
			if code != st.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, st.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), st.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), st.stdout)
			}
			if !strings.Contains(stderr.String(), st.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), st.stderr)
			}
			if st.wantOutput != "" && stdout.String() != st.wantOutput {
				t.Errorf("stdout =\n%s\nwant\n%s", stdout.String(), st.wantOutput)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%s holds %d files, want the csv and asn.mmdb (no temporary left over)", dir, len(entries))
	}
}
