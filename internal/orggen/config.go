package orggen

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultStart is the first instant of the default window: Monday
// 2026-06-01 00:00 UTC. The default is a fixed day rather than "yesterday"
// so that the same flags give the same bytes on any day; ask for a recent
// day explicitly (the command accepts --start yesterday).
var DefaultStart = time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)

// Scenario names, as --scenario takes them.
const (
	ScenarioBruteForce       = "brute-force"
	ScenarioImpossibleTravel = "impossible-travel"
	ScenarioAuditTampering   = "audit-tampering"
	ScenarioPublicLogBucket  = "public-log-bucket"
	ScenarioFirstSeen        = "first-seen"
	ScenarioPortScan         = "port-scan"
)

// Scenarios lists every scenario name in the order they are injected.
var Scenarios = []string{
	ScenarioBruteForce, ScenarioImpossibleTravel, ScenarioAuditTampering,
	ScenarioPublicLogBucket, ScenarioFirstSeen, ScenarioPortScan,
}

// Flow log file formats, as --flow-format takes them.
const (
	// FlowFormatText delivers every flow log as gzip-compressed text
	// (.log.gz): a header line of field names, then one record per line.
	FlowFormatText = "text"
	// FlowFormatParquet delivers every flow log as Apache Parquet
	// (.log.parquet), as a flow log created with the parquet file format
	// does.
	FlowFormatParquet = "parquet"
	// FlowFormatMixed delivers some flow logs as Parquet and the rest as
	// text, as an organisation whose flow logs were created at different
	// times does. Any two flow logs include one of each kind.
	FlowFormatMixed = "mixed"
)

// FlowFormats lists every flow log file format.
var FlowFormats = []string{FlowFormatText, FlowFormatParquet, FlowFormatMixed}

// Config configures one generator run. The output is a function of the
// Config alone (Concurrency aside): same Config, same bytes.
type Config struct {
	// Seed selects the organisation and everything drawn in it.
	Seed uint64 `yaml:"seed"`
	// Accounts is the number of member accounts, management included.
	// Default 8.
	Accounts int `yaml:"accounts"`
	// Start is the first instant of the window, in UTC, on a
	// DeliveryInterval boundary. Default DefaultStart.
	Start time.Time `yaml:"start"`
	// Duration is the length of the window. Default 24h, at most 31 days.
	Duration time.Duration `yaml:"duration"`
	// Events is the total number of CloudTrail events, scenarios and
	// session set-up included; exact unless those planned events alone
	// are more. Default 100,000; 0 writes no CloudTrail.
	Events int `yaml:"events"`
	// FlowRecords is the number of background VPC flow log records (port
	// scans come on top). Default 100,000; 0 writes no flow logs.
	FlowRecords int `yaml:"flow_records"`
	// FlowFormat is the file format the flow logs deliver in (see
	// FlowFormats). The format does not change the records: the same
	// seed gives the same records, in the same files and order, whether
	// they are written as text or Parquet. Default FlowFormatText.
	FlowFormat string `yaml:"flow_format"`
	// Scenarios names the attacks to inject (see Scenarios), or "all".
	Scenarios []string `yaml:"scenarios"`
	// Digests also writes hourly CloudTrail digest files. Default false.
	Digests bool `yaml:"digests"`
	// TrailBucket receives the organisation trail. Default
	// "trailwatch-org-trail".
	TrailBucket string `yaml:"trail_bucket"`
	// FlowBucket receives the VPC flow logs. Default "trailwatch-flow-logs".
	FlowBucket string `yaml:"flow_bucket"`
	// KeyPrefix is the trails' and flow logs' S3 key prefix, joined to
	// AWSLogs/ with a slash. Default none.
	KeyPrefix string `yaml:"key_prefix"`
	// DeliveryInterval is how often each account and region delivers a
	// log file. Default 5m.
	DeliveryInterval time.Duration `yaml:"delivery_interval"`
	// MaxEventsPerObject splits a delivery with more events into several
	// objects, as CloudTrail does. Default 2,000.
	MaxEventsPerObject int `yaml:"max_events_per_object"`
	// Concurrency is how many objects are generated and written at once.
	// Default 0: the number of CPUs for a local folder, 16 for S3 (the
	// sink's DefaultConcurrency).
	Concurrency int `yaml:"concurrency"`
	// GzipLevel is the compression level, 1 (fastest) to 9, of the gzip
	// objects and of the gzip-compressed pages of Parquet ones. Default 1.
	GzipLevel int `yaml:"gzip_level"`
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Seed:               1,
		Accounts:           8,
		Start:              DefaultStart,
		Duration:           24 * time.Hour,
		Events:             100_000,
		FlowRecords:        100_000,
		FlowFormat:         FlowFormatText,
		TrailBucket:        "trailwatch-org-trail",
		FlowBucket:         "trailwatch-flow-logs",
		DeliveryInterval:   5 * time.Minute,
		MaxEventsPerObject: 2_000,
		GzipLevel:          1,
	}
}

// Validate reports the first bad field by its YAML name.
func (c *Config) Validate() error {
	switch {
	case c.Accounts < 1 || c.Accounts > 500:
		return fmt.Errorf("accounts: %d is not between 1 and 500", c.Accounts)
	case c.Start.IsZero():
		return errors.New("start: not set")
	case c.DeliveryInterval < time.Minute || c.DeliveryInterval > time.Hour || c.DeliveryInterval%time.Minute != 0:
		return fmt.Errorf("delivery_interval: %s is not a whole number of minutes between 1m and 1h", c.DeliveryInterval)
	case c.Start.Unix()%int64(c.DeliveryInterval/time.Second) != 0:
		return fmt.Errorf("start: %s is not on a %s boundary", c.Start.UTC().Format(time.RFC3339), c.DeliveryInterval)
	case c.Duration < c.DeliveryInterval || c.Duration > 31*24*time.Hour:
		return fmt.Errorf("duration: %s is not between delivery_interval and 744h", c.Duration)
	case c.Events < 0:
		return fmt.Errorf("events: %d is negative", c.Events)
	case c.FlowRecords < 0:
		return fmt.Errorf("flow_records: %d is negative", c.FlowRecords)
	case !containsString(FlowFormats, c.FlowFormat):
		return fmt.Errorf("flow_format: %q is not one of %s", c.FlowFormat, strings.Join(FlowFormats, ", "))
	case c.Events == 0 && c.FlowRecords == 0:
		return errors.New("events, flow_records: both are 0, nothing to generate")
	case c.MaxEventsPerObject < 1:
		return fmt.Errorf("max_events_per_object: %d is not positive", c.MaxEventsPerObject)
	case c.Concurrency < 0:
		return fmt.Errorf("concurrency: %d is negative", c.Concurrency)
	case c.GzipLevel < 1 || c.GzipLevel > 9:
		return fmt.Errorf("gzip_level: %d is not between 1 and 9", c.GzipLevel)
	}
	if err := validBucket(c.TrailBucket); err != nil {
		return fmt.Errorf("trail_bucket: %w", err)
	}
	if err := validBucket(c.FlowBucket); err != nil {
		return fmt.Errorf("flow_bucket: %w", err)
	}
	if err := validPrefix(c.KeyPrefix); err != nil {
		return fmt.Errorf("key_prefix: %w", err)
	}
	if _, err := c.scenarios(); err != nil {
		return fmt.Errorf("scenarios: %w", err)
	}
	return nil
}

// scenarios expands Scenarios: "all" is every scenario whose data is
// generated (port-scan needs flow records, the others CloudTrail events).
func (c *Config) scenarios() ([]string, error) {
	var out []string
	for _, s := range c.Scenarios {
		switch {
		case s == "all":
			for _, n := range Scenarios {
				if n == ScenarioPortScan && c.FlowRecords > 0 || n != ScenarioPortScan && c.Events > 0 {
					out = appendUnique(out, n)
				}
			}
		case !containsString(Scenarios, s):
			return nil, fmt.Errorf("unknown scenario %q (known: %s, all)", s, strings.Join(Scenarios, ", "))
		case s == ScenarioPortScan && c.FlowRecords == 0:
			return nil, fmt.Errorf("%s needs flow records (flow_records is 0)", s)
		case s != ScenarioPortScan && c.Events == 0:
			return nil, fmt.Errorf("%s needs CloudTrail events (events is 0)", s)
		default:
			out = appendUnique(out, s)
		}
	}
	// Inject in the documented order whatever order they were named in.
	var ordered []string
	for _, n := range Scenarios {
		if containsString(out, n) {
			ordered = append(ordered, n)
		}
	}
	return ordered, nil
}

func appendUnique(s []string, v string) []string {
	if containsString(s, v) {
		return s
	}
	return append(s, v)
}

// validPrefix accepts the characters S3 calls safe in keys (the prefix
// is written into JSON and paths unescaped) and no way out of a folder.
func validPrefix(p string) error {
	if strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
		return fmt.Errorf("%q starts with a slash or contains \"..\"", p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!-_.*'()/", c) >= 0) {
			return fmt.Errorf("%q has a character outside a-z, A-Z, 0-9 and !-_.*'()/", p)
		}
	}
	return nil
}

// validBucket checks the S3 bucket naming rules that matter here.
func validBucket(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("%q is not 3 to 63 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("%q has a character other than a-z, 0-9, '-' and '.'", name)
		}
	}
	return nil
}
