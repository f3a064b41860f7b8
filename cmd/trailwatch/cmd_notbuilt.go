package main

import "context"

// Roles that later work fills in. Each moves to its own cmd_<name>.go when
// it is built.

func runIngest(context.Context, *invocation) error    { return notBuilt("ingest") }
func runBackfill(context.Context, *invocation) error  { return notBuilt("backfill") }
func runEnrich(context.Context, *invocation) error    { return notBuilt("enrich") }
func runDetect(context.Context, *invocation) error    { return notBuilt("detect") }
func runSink(context.Context, *invocation) error      { return notBuilt("sink") }
func runNotify(context.Context, *invocation) error    { return notBuilt("notify") }
func runScan(context.Context, *invocation) error      { return notBuilt("scan") }
func runParse(context.Context, *invocation) error     { return notBuilt("parse") }
func runBench(context.Context, *invocation) error     { return notBuilt("bench") }
func runGen(context.Context, *invocation) error       { return notBuilt("gen") }
func runMigrate(context.Context, *invocation) error   { return notBuilt("migrate") }
func runTopics(context.Context, *invocation) error    { return notBuilt("topics") }
func runDevbroker(context.Context, *invocation) error { return notBuilt("devbroker") }
func runDevclickhouse(context.Context, *invocation) error {
	return notBuilt("devclickhouse")
}
func runGeoIP(context.Context, *invocation) error { return notBuilt("geoip") }
