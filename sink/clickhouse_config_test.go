package sink

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func TestClickHouseConfigValidate(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(c *ClickHouseConfig)
		wantErr string // empty: valid
	}{
		{name: "default", edit: func(*ClickHouseConfig) {}},
		{name: "several servers over http", edit: func(c *ClickHouseConfig) {
			c.Addr = []string{"ch-1:8123", "ch-2:8123"}
			c.Protocol = "http"
		}},
		{name: "password file", edit: func(c *ClickHouseConfig) { c.PasswordFile = pwFile }},
		{name: "no addr", edit: func(c *ClickHouseConfig) { c.Addr = nil }, wantErr: "clickhouse.addr:"},
		{name: "addr without port", edit: func(c *ClickHouseConfig) { c.Addr = []string{"localhost"} }, wantErr: "clickhouse.addr[0]:"},
		{name: "addr without host", edit: func(c *ClickHouseConfig) { c.Addr = []string{":9000"} }, wantErr: "clickhouse.addr[0]:"},
		{name: "second addr bad port", edit: func(c *ClickHouseConfig) { c.Addr = []string{"a:9000", "b:x"} }, wantErr: "clickhouse.addr[1]:"},
		{name: "protocol", edit: func(c *ClickHouseConfig) { c.Protocol = "grpc" }, wantErr: "clickhouse.protocol:"},
		{name: "database empty", edit: func(c *ClickHouseConfig) { c.Database = "" }, wantErr: "clickhouse.database:"},
		{name: "database with a dot", edit: func(c *ClickHouseConfig) { c.Database = "a.b" }, wantErr: "clickhouse.database:"},
		{name: "database with a backtick", edit: func(c *ClickHouseConfig) { c.Database = "a`b" }, wantErr: "clickhouse.database:"},
		{name: "username", edit: func(c *ClickHouseConfig) { c.Username = "" }, wantErr: "clickhouse.username:"},
		{name: "password file missing", edit: func(c *ClickHouseConfig) { c.PasswordFile = pwFile + ".missing" }, wantErr: "clickhouse.password_file:"},
		{name: "dial timeout", edit: func(c *ClickHouseConfig) { c.DialTimeout = 0 }, wantErr: "clickhouse.dial_timeout:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultClickHouseConfig()
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one starting %q", err, tc.wantErr)
			}
		})
	}
}

func TestClickHouseConfigOptions(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		edit         func(c *ClickHouseConfig)
		database     string
		wantProtocol clickhouse.Protocol
		wantPassword string
		wantTLS      bool
	}{
		{name: "native", wantProtocol: clickhouse.Native, edit: func(*ClickHouseConfig) {}},
		{name: "http with tls", wantProtocol: clickhouse.HTTP, wantTLS: true, database: "trailwatch",
			edit: func(c *ClickHouseConfig) { c.Protocol, c.TLS = "http", true }},
		{name: "password file", wantProtocol: clickhouse.Native, wantPassword: "from-file",
			edit: func(c *ClickHouseConfig) { c.PasswordFile = pwFile }},
		{name: "environment password wins over file", wantProtocol: clickhouse.Native, wantPassword: "from-env",
			edit: func(c *ClickHouseConfig) { c.PasswordFile, c.Password = pwFile, "from-env" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultClickHouseConfig()
			tc.edit(&c)
			o, err := c.Options(tc.database)
			if err != nil {
				t.Fatal(err)
			}
			if o.Protocol != tc.wantProtocol || o.Auth.Password != tc.wantPassword || (o.TLS != nil) != tc.wantTLS || o.Auth.Database != tc.database {
				t.Errorf("options: protocol %v password %q tls %v database %q", o.Protocol, o.Auth.Password, o.TLS != nil, o.Auth.Database)
			}
		})
	}
}

func TestClickHouseConfigLogHidesPassword(t *testing.T) {
	c := DefaultClickHouseConfig()
	c.Password = "s3cret-value"
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "clickhouse", c)
	if strings.Contains(buf.String(), "s3cret-value") {
		t.Fatalf("password logged: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"database":"trailwatch"`) {
		t.Errorf("config not logged: %s", buf.String())
	}
}
