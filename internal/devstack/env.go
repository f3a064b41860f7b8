package devstack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar is one variable of the env file.
type EnvVar struct {
	Name  string
	Value string
}

// Env returns the variables that point trailwatch and its tests at the
// running stack, in the order the env file lists them. clickhouse says
// whether the ClickHouse engine is up; geoIPDir is where the GeoIP
// databases are, or "" when they are not installed. A service that is not
// there is left out, so a test that needs it skips (or fails under CI)
// instead of dialling a dead port.
func (c *Config) Env(clickhouse bool, geoIPDir string) []EnvVar {
	vars := []EnvVar{
		{"TRAILWATCH_KAFKA_BROKERS", c.Broker.Addr},
		{"TRAILWATCH_S3_ENDPOINT", "http://" + c.MinIO.Addr},
		{"TRAILWATCH_S3_ACCESS_KEY_ID", DevAccessKey},
		{"TRAILWATCH_S3_SECRET_ACCESS_KEY", DevSecretKey},
		{"TRAILWATCH_S3_REGION", c.MinIO.Region},
	}
	if clickhouse {
		vars = append(vars,
			EnvVar{"TRAILWATCH_CLICKHOUSE_ADDR", c.ClickHouse.tcpAddr()},
			EnvVar{"TRAILWATCH_CLICKHOUSE_HTTP_ADDR", c.ClickHouse.httpAddr()},
		)
	}
	if geoIPDir != "" {
		vars = append(vars, EnvVar{"TRAILWATCH_GEOIP_DIR", geoIPDir})
	}
	return vars
}

// renderEnv renders vars as a file that a POSIX shell can source: one
// NAME=value line each, then one export line. Keeping the assignments
// plain lets tools that read KEY=value files (systemd's EnvironmentFile,
// docker --env-file) read it too.
func renderEnv(vars []EnvVar) []byte {
	var b bytes.Buffer
	b.WriteString("# The local trailwatch stack's endpoints, written by `make up`\n")
	b.WriteString("# (trailwatch devstack up). Use them with: source .state/env\n")
	names := make([]string, len(vars))
	for i, v := range vars {
		fmt.Fprintf(&b, "%s=%s\n", v.Name, shellQuote(v.Value))
		names[i] = v.Name
	}
	fmt.Fprintf(&b, "export %s\n", strings.Join(names, " "))
	return b.Bytes()
}

// shellQuote returns s as one shell word: unchanged when it holds only
// characters that need no quoting, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,:/@%+=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic replaces path with b, so a reader never sees half a file.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
