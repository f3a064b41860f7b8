package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
)

// runTopics creates every pipeline topic that is missing and prints them.
func runTopics(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[--config FILE]")
	cfgPath := configFlag(fs)
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	logger := lifecycle.NewLogger(cfg.Log, os.Stderr)
	cl, err := kafka.NewClient(cfg.Kafka, "topics", logger, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	results, err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), cfg.Topics, logger)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tSTATUS")
	for _, r := range results {
		status := "exists"
		if r.Created {
			status = "created"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", r.Topic, r.Partitions, status)
	}
	return tw.Flush()
}
