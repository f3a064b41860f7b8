package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// command is one subcommand of trailwatch.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, inv *invocation) error
}

// commands is the one explicit list of subcommands, in the order --help
// shows them: the pipeline roles in flow order, then tools, then the local
// development stack.
var commands = []command{
	{"ingest", "read S3 log objects announced on the objects topic into the events topic", runIngest},
	{"backfill", "list S3 log objects over a prefix and date range onto the objects topic", runBackfill},
	{"enrich", "add identity, account and geo/ASN context to events", runEnrich},
	{"detect", "run stateful detection rules over enriched events", runDetect},
	{"sink", "write events and detections into ClickHouse", runSink},
	{"notify", "route detections to PagerDuty, Opsgenie, Slack and webhooks", runNotify},
	{"scan", "scan the organisation for audit-log coverage gaps and exposed log stores", runScan},
	{"gen", "generate a realistic AWS organisation's CloudTrail and VPC flow logs", runGen},
	{"parse", "decode local log files and print normalised events as NDJSON", runParse},
	{"migrate", "apply the ClickHouse schema migrations", runMigrate},
	{"topics", "create every Kafka topic with its partitions, retention and compaction", runTopics},
	{"tail", "print a topic's records as NDJSON (events decoded, dead letters, heartbeats, ...)", runTail},
	{"bench", "measure stage throughput against the same run's floor", runBench},
	{"devbroker", "run a local Kafka-protocol broker with a data directory (development)", runDevbroker},
	{"devclickhouse", "run the local ClickHouse engine on native and HTTP ports (development)", runDevclickhouse},
	{"devstack", "local development stack helpers: up, down and status of broker, MinIO, ClickHouse", runDevstack},
	{"geoip", "build and inspect GeoIP databases (asn-mmdb, lookup)", runGeoIP},
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// invocation is what a command runs with.
type invocation struct {
	name   string
	args   []string
	stdout io.Writer
	stderr io.Writer
}

// flags returns a flag set for the command that prints its usage to stderr.
func (inv *invocation) flags(synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("trailwatch "+inv.name, flag.ContinueOnError)
	fs.SetOutput(inv.stderr)
	fs.Usage = func() {
		fmt.Fprintf(inv.stderr, "Usage: trailwatch %s %s\n\nFlags:\n", inv.name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// usageError marks an error in how the command was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// notBuilt is what a role that does not exist yet returns: it says so and
// exits non-zero rather than pretending to run.
func notBuilt(name string) error {
	return fmt.Errorf("the %s role is not built yet in this version of trailwatch", name)
}
