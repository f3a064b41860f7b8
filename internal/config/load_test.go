package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    string
		env     []string
		wantErr string
		check   func(t *testing.T, f *File)
	}{
		{
			name: "good file", path: "testdata/good.yaml",
			env: []string{"TRAILWATCH_KAFKA_SASL_PASSWORD=hunter2"},
			check: func(t *testing.T, f *File) {
				if got := f.Kafka.Brokers; len(got) != 2 || got[1] != "kafka-2:9092" {
					t.Errorf("kafka.brokers = %v", got)
				}
				if f.Kafka.DialTimeout != 5*time.Second {
					t.Errorf("kafka.dial_timeout = %s", f.Kafka.DialTimeout)
				}
				if f.Kafka.SASL.Password != "hunter2" {
					t.Errorf("secret not read from the environment")
				}
				if f.Topics.Spec("events").Partitions != 48 || f.Topics.Spec("events").Retention != 72*time.Hour {
					t.Errorf("events override = %+v", f.Topics.Spec("events"))
				}
				if f.Topics.Spec("dlq").Partitions != 24 {
					t.Errorf("dlq partitions = %d, want the default 24", f.Topics.Spec("dlq").Partitions)
				}
				if f.Kafka.RequestTimeoutOverhead != 10*time.Second {
					t.Errorf("an unset field lost its default: %s", f.Kafka.RequestTimeoutOverhead)
				}
			},
		},
		{
			name: "no file keeps defaults", path: "",
			check: func(t *testing.T, f *File) {
				if f.Kafka.Brokers[0] != "127.0.0.1:19092" || f.Topics.Prefix != "trailwatch." {
					t.Errorf("defaults lost: %+v %+v", f.Kafka, f.Topics)
				}
			},
		},
		{name: "empty file keeps defaults", path: "testdata/empty.yaml"},
		{
			name: "env overrides file", path: "testdata/good.yaml",
			env: []string{
				"TRAILWATCH_KAFKA_BROKERS=a:1, b:2",
				"TRAILWATCH_KAFKA_SASL_PASSWORD=x",
				"TRAILWATCH_ADMIN_CHECK_TIMEOUT=7s",
				"TRAILWATCH_TOPICS_PARTITIONS=6",
				"TRAILWATCH_KAFKA_TLS_ENABLED=true",
				"UNRELATED=1",
			},
			check: func(t *testing.T, f *File) {
				if got := f.Kafka.Brokers; len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
					t.Errorf("kafka.brokers = %q", got)
				}
				if f.Admin.CheckTimeout != 7*time.Second || f.Topics.Partitions != 6 || !f.Kafka.TLS.Enabled {
					t.Errorf("overrides not applied: %+v %+v %+v", f.Admin, f.Topics, f.Kafka.TLS)
				}
			},
		},
		{name: "unknown key", path: "testdata/unknown_key.yaml", wantErr: "brokres"},
		{name: "bad value names the field", path: "testdata/bad_value.yaml", wantErr: "topics.partitions"},
		{name: "bad duration", path: "testdata/bad_duration.yaml", wantErr: "soon"},
		{name: "missing file", path: "testdata/nope.yaml", wantErr: "read config"},
		{name: "missing secret", path: "testdata/good.yaml", wantErr: "kafka.sasl.password_file"},
		{name: "bad env int", env: []string{"TRAILWATCH_TOPICS_PARTITIONS=many"}, wantErr: "TRAILWATCH_TOPICS_PARTITIONS"},
		{name: "bad env duration", env: []string{"TRAILWATCH_KAFKA_DIAL_TIMEOUT=1 hour"}, wantErr: "TRAILWATCH_KAFKA_DIAL_TIMEOUT"},
		{name: "bad env value validated", env: []string{"TRAILWATCH_LOG_FORMAT=xml"}, wantErr: "log.format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Default()
			err := Load(tc.path, &f, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.check != nil {
				tc.check(t, &f)
			}
		})
	}
}

// TestClickHouseEnv checks the ClickHouse variables the local stack and
// compose set, and that the password never comes from the file.
func TestClickHouseEnv(t *testing.T) {
	f := Default()
	environ := []string{
		"TRAILWATCH_CLICKHOUSE_ADDR=ch-1:9000, ch-2:9000",
		"TRAILWATCH_CLICKHOUSE_DATABASE=audit",
		"TRAILWATCH_CLICKHOUSE_PASSWORD=s3cret",
		"TRAILWATCH_CLICKHOUSE_DIAL_TIMEOUT=3s",
		"TRAILWATCH_CLICKHOUSE_TLS=true",
	}
	if err := Load("", &f, environ); err != nil {
		t.Fatal(err)
	}
	c := f.ClickHouse
	if strings.Join(c.Addr, ",") != "ch-1:9000,ch-2:9000" || c.Database != "audit" || c.Password != "s3cret" ||
		c.DialTimeout != 3*time.Second || !c.TLS {
		t.Errorf("config from the environment: %+v", c)
	}
	if err := Decode([]byte("clickhouse:\n  password: nope\n"), &f); err == nil {
		t.Error("a password in the config file was accepted; it must come from the environment or password_file")
	}
}
