package devstack

import (
	"bytes"
	"github.com/trailwatch/trailwatch/internal/configtest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default", Mutate: func(*Config) {}, WantErr: ""},
		{Name: "no cache dir", Mutate: func(c *Config) { c.CacheDir = "" }, WantErr: "devstack.cache_dir"},
		{Name: "no minio version", Mutate: func(c *Config) { c.MinIO.Version = "" }, WantErr: "devstack.minio.version"},
		{Name: "bad broker addr", Mutate: func(c *Config) { c.Broker.Addr = "19092" }, WantErr: "devstack.broker.addr"},
		{Name: "bad console addr", Mutate: func(c *Config) { c.MinIO.ConsoleAddr = "localhost" }, WantErr: "devstack.minio.console_addr"},
		{Name: "port out of range", Mutate: func(c *Config) { c.ClickHouse.TCPPort = 70000 }, WantErr: "devstack.clickhouse.tcp_port"},
		{Name: "zero start timeout", Mutate: func(c *Config) { c.StartTimeout = 0 }, WantErr: "devstack.start_timeout"},
		{Name: "zero install timeout", Mutate: func(c *Config) { c.InstallTimeout = 0 }, WantErr: "devstack.install_timeout"},
		{Name: "zero partitions", Mutate: func(c *Config) { c.Broker.Partitions = 0 }, WantErr: "devstack.broker.partitions"},
		{Name: "no buckets", Mutate: func(c *Config) { c.MinIO.Buckets = nil }, WantErr: "devstack.minio.buckets"},
	})
}

// TestContract pins what other parts of the project rely on: ports, topic,
// notification ARN and the variables of the env file.
func TestContract(t *testing.T) {
	c := DefaultConfig()
	for _, tc := range []struct{ name, got, want string }{
		{"broker", c.Broker.Addr, "127.0.0.1:19092"},
		{"minio", c.MinIO.Addr, "127.0.0.1:19100"},
		{"minio console", c.MinIO.ConsoleAddr, "127.0.0.1:19101"},
		{"clickhouse native", c.ClickHouse.tcpAddr(), "127.0.0.1:19000"},
		{"clickhouse http", c.ClickHouse.httpAddr(), "127.0.0.1:18123"},
		{"objects topic", c.ObjectsTopic(), "trailwatch.objects"},
		{"queue arn", c.QueueARN(), "arn:minio:sqs::trailwatch:kafka"},
		{"buckets", strings.Join(c.MinIO.Buckets, ","), "trailwatch-org-trail,trailwatch-flow-logs"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:19092", "127.0.0.1:19092"},
		{"http://127.0.0.1:19100", "http://127.0.0.1:19100"},
		{"/root/.cache/trailwatch/geoip/2.3.2026060513", "/root/.cache/trailwatch/geoip/2.3.2026060513"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"~/x", "'~/x'"},
	} {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestEnvFileSources sources the rendered env file in bash and checks that
// every variable arrives, exported, with its exact value.
func TestEnvFileSources(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	c := DefaultConfig()
	for _, tc := range []struct {
		name       string
		clickhouse bool
		geoIP      string
		wantNames  []string
	}{
		{"whole stack", true, "/cache/geo ip/it's", []string{
			"TRAILWATCH_KAFKA_BROKERS", "TRAILWATCH_S3_ENDPOINT", "TRAILWATCH_S3_ACCESS_KEY_ID",
			"TRAILWATCH_S3_SECRET_ACCESS_KEY", "TRAILWATCH_S3_REGION", "TRAILWATCH_CLICKHOUSE_ADDR",
			"TRAILWATCH_CLICKHOUSE_HTTP_ADDR", "TRAILWATCH_GEOIP_DIR",
		}},
		{"without clickhouse and geoip", false, "", []string{
			"TRAILWATCH_KAFKA_BROKERS", "TRAILWATCH_S3_ENDPOINT", "TRAILWATCH_S3_ACCESS_KEY_ID",
			"TRAILWATCH_S3_SECRET_ACCESS_KEY", "TRAILWATCH_S3_REGION",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := c.Env(tc.clickhouse, tc.geoIP)
			path := filepath.Join(t.TempDir(), "env")
			if err := writeFileAtomic(path, renderEnv(vars), 0o644); err != nil {
				t.Fatal(err)
			}
			// env -i: only what the file exports reaches the child env.
			out, err := exec.Command("env", "-i", bash, "--noprofile", "--norc", "-c", `source "$0" && env -0`, path).Output()
			if err != nil {
				t.Fatalf("source env file: %v", err)
			}
			got := map[string]string{}
			for kv := range bytes.SplitSeq(out, []byte{0}) {
				if k, v, ok := strings.Cut(string(kv), "="); ok && strings.HasPrefix(k, "TRAILWATCH_") {
					got[k] = v
				}
			}
			if len(got) != len(tc.wantNames) {
				t.Errorf("sourced %d TRAILWATCH_ variables, want %d: %v", len(got), len(tc.wantNames), got)
			}
			for _, v := range vars {
				if got[v.Name] != v.Value {
					t.Errorf("%s = %q after source, want %q", v.Name, got[v.Name], v.Value)
				}
			}
			for _, name := range tc.wantNames {
				if _, ok := got[name]; !ok {
					t.Errorf("%s missing", name)
				}
			}
			if got["TRAILWATCH_KAFKA_BROKERS"] != "127.0.0.1:19092" || got["TRAILWATCH_S3_ENDPOINT"] != "http://127.0.0.1:19100" {
				t.Errorf("endpoints = %v, want the contract's", got)
			}
		})
	}
}
