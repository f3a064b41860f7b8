package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouseConfig is how a process reaches ClickHouse: the sink writing
// events and detections, and `trailwatch migrate` creating the schema.
//
// From the environment (see internal/config): TRAILWATCH_CLICKHOUSE_ADDR
// (comma-separated), TRAILWATCH_CLICKHOUSE_DATABASE and so on, and the
// password only from TRAILWATCH_CLICKHOUSE_PASSWORD or password_file.
type ClickHouseConfig struct {
	// Addr lists the servers, host:port. The port is the native-protocol
	// port (9000, or 9440 with TLS) or, with Protocol http, the HTTP one
	// (8123, or 8443). Default 127.0.0.1:19000, the local stack's engine.
	Addr []string `yaml:"addr"`
	// Protocol is native or http. Default native, the faster one for
	// batch inserts.
	Protocol string `yaml:"protocol"`
	// Database holds trailwatch's tables. `trailwatch migrate` creates it.
	// Default "trailwatch".
	Database string `yaml:"database"`
	// Username is the ClickHouse user. Default "default".
	Username string `yaml:"username"`
	// PasswordFile is a file holding the password (a mounted secret); its
	// content, less a trailing newline, is used when Password is empty.
	PasswordFile string `yaml:"password_file"`
	// Password comes only from TRAILWATCH_CLICKHOUSE_PASSWORD: never from
	// the config file or a flag, and never logged.
	Password string `yaml:"-" env:"TRAILWATCH_CLICKHOUSE_PASSWORD"`
	// TLS turns on TLS with the system's CAs. Default false.
	TLS bool `yaml:"tls"`
	// DialTimeout bounds one connection attempt. Default 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
}

// DefaultClickHouseConfig returns the configuration for the local stack's
// engine (`trailwatch devclickhouse`).
func DefaultClickHouseConfig() ClickHouseConfig {
	return ClickHouseConfig{
		Addr:        []string{"127.0.0.1:19000"},
		Protocol:    "native",
		Database:    "trailwatch",
		Username:    "default",
		DialTimeout: 10 * time.Second,
	}
}

// databaseName is what the schema accepts as a database name: plain
// identifiers only, so that no statement ever needs to escape one.
var databaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports the first bad field by its YAML path under clickhouse.
func (c *ClickHouseConfig) Validate() error {
	if len(c.Addr) == 0 {
		return errors.New("clickhouse.addr: at least one server is needed")
	}
	for i, a := range c.Addr {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return fmt.Errorf("clickhouse.addr[%d]: %w", i, err)
		}
		if host == "" {
			return fmt.Errorf("clickhouse.addr[%d]: %q has no host", i, a)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("clickhouse.addr[%d]: %q has no valid port", i, a)
		}
	}
	if c.Protocol != "native" && c.Protocol != "http" {
		return fmt.Errorf("clickhouse.protocol: %q is not native or http", c.Protocol)
	}
	if !databaseName.MatchString(c.Database) {
		return fmt.Errorf("clickhouse.database: %q is not a plain identifier (letters, digits, underscores)", c.Database)
	}
	if c.Username == "" {
		return errors.New("clickhouse.username: must not be empty")
	}
	if c.PasswordFile != "" {
		if _, err := os.Stat(c.PasswordFile); err != nil {
			return fmt.Errorf("clickhouse.password_file: %w", err)
		}
	}
	if c.DialTimeout <= 0 {
		return fmt.Errorf("clickhouse.dial_timeout: must be positive, got %s", c.DialTimeout)
	}
	return nil
}

// LogValue logs the configuration without its password.
func (c ClickHouseConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", strings.Join(c.Addr, ",")),
		slog.String("protocol", c.Protocol),
		slog.String("database", c.Database),
		slog.String("username", c.Username),
		slog.Bool("tls", c.TLS),
	)
}

// Options returns clickhouse-go options for a connection whose current
// database is database ("" for the server's default, which is what a
// connection needs before the trailwatch database exists).
func (c ClickHouseConfig) Options(database string) (*clickhouse.Options, error) {
	password := c.Password
	if password == "" && c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read clickhouse.password_file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	opts := &clickhouse.Options{
		Addr:        c.Addr,
		Protocol:    clickhouse.Native,
		Auth:        clickhouse.Auth{Database: database, Username: c.Username, Password: password},
		DialTimeout: c.DialTimeout,
		ClientInfo: clickhouse.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "trailwatch", Version: ""}},
		},
	}
	if c.Protocol == "http" {
		opts.Protocol = clickhouse.HTTP
	}
	if c.TLS {
		opts.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return opts, nil
}

// Open connects to ClickHouse with database as the current database (""
// for the server's default) and pings it, so that a wrong address or
// password fails here rather than at the first write.
func (c ClickHouseConfig) Open(ctx context.Context, database string) (driver.Conn, error) {
	opts, err := c.Options(database)
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %s: %w", strings.Join(c.Addr, ","), err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ping clickhouse %s: %w", strings.Join(c.Addr, ","), err)
	}
	return conn, nil
}
