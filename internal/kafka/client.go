package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kprom"
	"github.com/twmb/franz-go/plugin/kslog"
)

// NewClient builds a franz-go client from cfg. name labels the client's
// metrics (trailwatch_kafka_<name>_*) and logs, so a process with several
// clients (a consumer and a transactional producer) keeps them apart; reg
// may be nil to skip metrics. opts are the caller's own options (consumer
// group, transactional id, ...), applied last.
func NewClient(cfg Config, name string, logger *slog.Logger, reg prometheus.Registerer, opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := observedOpts(cfg, name, logger, reg)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new kafka client %s: %w", name, err)
	}
	return cl, nil
}

// NewGroupTransactSession builds a franz-go transactional consume-process-
// produce session from cfg, labelled like NewClient. opts must name the
// group, the topics to consume and the transactional id.
func NewGroupTransactSession(cfg Config, name string, logger *slog.Logger, reg prometheus.Registerer, opts ...kgo.Opt) (*kgo.GroupTransactSession, error) {
	base, err := observedOpts(cfg, name, logger, reg)
	if err != nil {
		return nil, err
	}
	s, err := kgo.NewGroupTransactSession(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new kafka transact session %s: %w", name, err)
	}
	return s, nil
}

// observedOpts is ClientOpts plus the client's logger and metrics.
func observedOpts(cfg Config, name string, logger *slog.Logger, reg prometheus.Registerer) ([]kgo.Opt, error) {
	base, err := ClientOpts(cfg)
	if err != nil {
		return nil, err
	}
	if logger != nil {
		base = append(base, kgo.WithLogger(kslog.New(logger.With("kafka_client", name))))
	}
	if reg != nil {
		m := kprom.NewMetrics("trailwatch",
			kprom.Subsystem("kafka_"+strings.ReplaceAll(name, "-", "_")),
			kprom.Registerer(reg),
		)
		base = append(base, kgo.WithHooks(m))
	}
	return base, nil
}

// ClientOpts returns the connection options of cfg: seeds, client id,
// timeouts, TLS and SASL. NewClient uses it; tools that build clients of
// their own can too.
func ClientOpts(cfg Config) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.RequestTimeoutOverhead(cfg.RequestTimeoutOverhead),
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout}
	if cfg.TLS.Enabled {
		tc, err := tlsConfig(cfg.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.Dialer((&tls.Dialer{NetDialer: dialer, Config: tc}).DialContext))
	} else {
		opts = append(opts, kgo.Dialer(dialer.DialContext))
	}
	if cfg.SASL.Mechanism != "" {
		m, err := saslMechanism(cfg.SASL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func tlsConfig(c TLSConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read kafka.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file %s: no PEM certificates found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load kafka.tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func saslMechanism(c SASLConfig) (sasl.Mechanism, error) {
	password := c.Password
	if password == "" && c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read kafka.sasl.password_file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	switch c.Mechanism {
	case "PLAIN":
		return plain.Auth{User: c.Username, Pass: password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: c.Username, Pass: password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: c.Username, Pass: password}.AsSha512Mechanism(), nil
	default:
		return nil, fmt.Errorf("kafka.sasl.mechanism: unsupported %q", c.Mechanism)
	}
}
