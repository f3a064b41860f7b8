// Package kafka builds trailwatch's franz-go clients from configuration
// (seed brokers, TLS, SASL, client metrics and logs) and creates the
// pipeline's topics. Every stage gets its clients here, so security and
// observability settings are the same everywhere.
package kafka

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Config is how a process reaches the Kafka cluster.
type Config struct {
	// Brokers are the seed brokers, host:port. Default 127.0.0.1:19092,
	// the local development broker.
	Brokers []string `yaml:"brokers"`
	// ClientID names this process to the brokers. Default "trailwatch".
	ClientID string `yaml:"client_id"`
	// DialTimeout bounds one connection attempt. Default 10s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeoutOverhead is added to a request's own timeout before
	// the client gives up on the broker. Default 10s.
	RequestTimeoutOverhead time.Duration `yaml:"request_timeout_overhead"`
	// TLS configures encryption to the brokers.
	TLS TLSConfig `yaml:"tls"`
	// SASL configures authentication to the brokers.
	SASL SASLConfig `yaml:"sasl"`
}

// TLSConfig turns on TLS to the brokers.
type TLSConfig struct {
	// Enabled turns TLS on. Default false.
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of CAs to trust instead of the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key for mTLS.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `yaml:"server_name"`
}

// SASLConfig authenticates to the brokers.
type SASLConfig struct {
	// Mechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. Default ""
	// (no SASL).
	Mechanism string `yaml:"mechanism"`
	// Username is the SASL user.
	Username string `yaml:"username"`
	// PasswordFile is a file holding the password (a mounted secret).
	PasswordFile string `yaml:"password_file"`
	// Password comes only from TRAILWATCH_KAFKA_SASL_PASSWORD; it is never
	// read from the config file or a flag, and never logged.
	Password string `yaml:"-" env:"TRAILWATCH_KAFKA_SASL_PASSWORD"`
}

// DefaultConfig returns the configuration for the local development broker.
func DefaultConfig() Config {
	return Config{
		Brokers:                []string{"127.0.0.1:19092"},
		ClientID:               "trailwatch",
		DialTimeout:            10 * time.Second,
		RequestTimeoutOverhead: 10 * time.Second,
	}
}

// Validate reports the first bad field by its YAML path under kafka.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one seed broker is needed")
	}
	for i, b := range c.Brokers {
		if b == "" {
			return fmt.Errorf("kafka.brokers[%d]: empty address", i)
		}
	}
	if c.ClientID == "" {
		return errors.New("kafka.client_id: must not be empty")
	}
	if c.DialTimeout <= 0 {
		return fmt.Errorf("kafka.dial_timeout: must be positive, got %s", c.DialTimeout)
	}
	if c.RequestTimeoutOverhead <= 0 {
		return fmt.Errorf("kafka.request_timeout_overhead: must be positive, got %s", c.RequestTimeoutOverhead)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("kafka.tls: cert_file and key_file go together")
	}
	for _, f := range []struct{ name, path string }{
		{"kafka.tls.ca_file", c.TLS.CAFile},
		{"kafka.tls.cert_file", c.TLS.CertFile},
		{"kafka.tls.key_file", c.TLS.KeyFile},
		{"kafka.sasl.password_file", c.SASL.PasswordFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	switch c.SASL.Mechanism {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.Username == "" {
			return fmt.Errorf("kafka.sasl.username: required with mechanism %s", c.SASL.Mechanism)
		}
		if c.SASL.Password == "" && c.SASL.PasswordFile == "" {
			return fmt.Errorf("kafka.sasl.password_file: required with mechanism %s unless TRAILWATCH_KAFKA_SASL_PASSWORD is set", c.SASL.Mechanism)
		}
	default:
		return fmt.Errorf("kafka.sasl.mechanism: %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", c.SASL.Mechanism)
	}
	return nil
}
