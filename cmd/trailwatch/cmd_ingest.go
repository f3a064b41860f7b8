package main

import (
	"context"
	"fmt"
	"os"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/admin"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// ingestHelp explains the discovery modes after the flags.
const ingestHelp = `
An ingest process runs one ingest worker: a member of the ingest consumer
group that reads the objects announced on the objects topic from S3 into
the events topic.

SQS discovery: when ingest.sqs.queue_url is set (or
TRAILWATCH_INGEST_SQS_QUEUE_URL), the process also receives S3 event
notifications (plain, SNS-wrapped or EventBridge) from that queue and
publishes their objects to the objects topic, where any worker of the group
may take them. A queue message is deleted only once every one of its
objects is committed by a worker (seen on the ingested topic); its
visibility is extended meanwhile. Messages that are not notifications go
to the dead-letter topic and are deleted. The SQS client uses the s3
section's region and credentials, and s3.sqs_endpoint when set.

With --worker=false the process runs SQS discovery only and leaves the
objects to the ingest workers of other processes.

On SIGINT or SIGTERM it stops receiving, waits up to
ingest.sqs.drain_timeout for the messages in flight (the worker keeps
running meanwhile), then stops the worker.
`

// runIngest runs one ingest worker, SQS discovery, or both, until SIGINT
// or SIGTERM.
func runIngest(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--config FILE] [--worker=false]")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprint(inv.stderr, ingestHelp)
	}
	cfgPath := configFlag(fs)
	runWorker := fs.Bool("worker", true, "run an ingest worker; false runs SQS discovery alone (needs ingest.sqs.queue_url)")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	discover := cfg.Ingest.SQS.QueueURL != ""
	if !*runWorker && !discover {
		return usageError{"--worker=false leaves nothing to run without ingest.sqs.queue_url (TRAILWATCH_INGEST_SQS_QUEUE_URL)"}
	}
	logger := lifecycle.NewLogger(cfg.Log, os.Stderr).With("role", "ingest")
	reg := lifecycle.NewRegistry()
	topics := cfg.Topics.Names()

	var w *ingest.Worker
	if *runWorker {
		getter, err := objectGetter(ctx, &cfg)
		if err != nil {
			return err
		}
		if w, err = ingest.New(cfg.Ingest, cfg.Kafka, topics, getter, logger, reg); err != nil {
			return err
		}
	}
	srv := admin.New(cfg.Admin, logger, reg)
	if w != nil {
		srv.AddCheck("ingest", w.Ready)
	}
	if !discover {
		return lifecycle.Run(ctx, logger, srv, w.Run)
	}

	sqsc, err := cfg.S3.SQS(ctx)
	if err != nil {
		return err
	}
	bridge, err := ingest.NewSQSBridge(cfg.Ingest, cfg.Kafka, topics, logger, reg)
	if err != nil {
		return err
	}
	d, err := ingest.NewSQSDiscoverer(cfg.Ingest.SQS, sqsc, bridge, bridge, logger, reg)
	if err != nil {
		return err
	}
	return lifecycle.Run(ctx, logger, srv, func(ctx context.Context) error {
		return ingest.RunWithSQS(ctx, w, d, bridge)
	})
}
