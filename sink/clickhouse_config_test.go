package sink

import (
	"bytes"
	"github.com/trailwatch/trailwatch/internal/configtest"
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
	configtest.Validate(t, DefaultClickHouseConfig, (*ClickHouseConfig).Validate, []configtest.Case[ClickHouseConfig]{
		{Name: "default", Mutate: func(*ClickHouseConfig) {}},
		{Name: "several servers over http", Mutate: func(c *ClickHouseConfig) {
			c.Addr = []string{"ch-1:8123", "ch-2:8123"}
			c.Protocol = "http"
		}},
		{Name: "password file", Mutate: func(c *ClickHouseConfig) { c.PasswordFile = pwFile }},
		{Name: "no addr", Mutate: func(c *ClickHouseConfig) { c.Addr = nil }, WantErr: "clickhouse.addr:"},
		{Name: "addr without port", Mutate: func(c *ClickHouseConfig) { c.Addr = []string{"localhost"} }, WantErr: "clickhouse.addr[0]:"},
		{Name: "addr without host", Mutate: func(c *ClickHouseConfig) { c.Addr = []string{":9000"} }, WantErr: "clickhouse.addr[0]:"},
		{Name: "second addr bad port", Mutate: func(c *ClickHouseConfig) { c.Addr = []string{"a:9000", "b:x"} }, WantErr: "clickhouse.addr[1]:"},
		{Name: "protocol", Mutate: func(c *ClickHouseConfig) { c.Protocol = "grpc" }, WantErr: "clickhouse.protocol:"},
		{Name: "database empty", Mutate: func(c *ClickHouseConfig) { c.Database = "" }, WantErr: "clickhouse.database:"},
		{Name: "database with a dot", Mutate: func(c *ClickHouseConfig) { c.Database = "a.b" }, WantErr: "clickhouse.database:"},
		{Name: "database with a backtick", Mutate: func(c *ClickHouseConfig) { c.Database = "a`b" }, WantErr: "clickhouse.database:"},
		{Name: "username", Mutate: func(c *ClickHouseConfig) { c.Username = "" }, WantErr: "clickhouse.username:"},
		{Name: "password file missing", Mutate: func(c *ClickHouseConfig) { c.PasswordFile = pwFile + ".missing" }, WantErr: "clickhouse.password_file:"},
		{Name: "dial timeout", Mutate: func(c *ClickHouseConfig) { c.DialTimeout = 0 }, WantErr: "clickhouse.dial_timeout:"},
	})
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
