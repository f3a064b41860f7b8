package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/ingest"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/lifecycle"
	"github.com/trailwatch/trailwatch/schemas"
)

// runTail prints the records of a pipeline topic as NDJSON: events decoded
// from the wire codec, detections likewise, JSON topics as they are. It
// reads committed records only, from the start (or the last N per
// partition), and with --follow keeps reading.
func runTail(ctx context.Context, inv *invocation) error {
	fs := inv.flags("[-n N] [--follow] [--raw] TOPIC   (TOPIC: objects, events, enriched, detections, dlq, digests, sources, ingested)")
	cfgPath := configFlag(fs)
	last := fs.Int64("n", 10, "start `N` offsets before the end of each partition (0: from the start); transaction markers take offsets too, so on transactional topics fewer records print")
	follow := fs.Bool("follow", false, "keep printing new records until interrupted")
	raw := fs.Bool("raw", false, "include each event's original record")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"name one topic"}
	}
	logical := fs.Arg(0)
	if !slices.Contains(schemas.AllTopics, logical) {
		return usageError{fmt.Sprintf("unknown topic %q (one of %v)", logical, schemas.AllTopics)}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	// An interactive tool: only the client's warnings belong on the screen.
	logCfg := cfg.Log
	logCfg.Level, logCfg.Format = "warn", "text"
	logger := lifecycle.NewLogger(logCfg, inv.stderr)
	start := kgo.NewOffset().AtStart()
	if *last > 0 {
		start = kgo.NewOffset().AtEnd().Relative(-*last)
	}
	topic := cfg.Topics.Names().Name(logical)
	cl, err := kafka.NewClient(cfg.Kafka, "tail", logger, nil,
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()

	out := bufio.NewWriter(inv.stdout)
	defer out.Flush()
	var (
		ev   schemas.Event
		det  schemas.Detection
		line []byte
	)
	idle := 0
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err := fetches.Err0(); err != nil && err != context.DeadlineExceeded {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		n := 0
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			line = line[:0]
			switch logical {
			case schemas.TopicEvents, schemas.TopicEnriched:
				if err := schemas.UnmarshalEvent(r.Value, &ev); err != nil {
					line = fmt.Appendf(line, `{"partition":%d,"offset":%d,"error":%q}`, r.Partition, r.Offset, err.Error())
					break
				}
				line = ingest.AppendEventJSON(line, &ev, *raw)
			case schemas.TopicDetections:
				if err := schemas.UnmarshalDetection(r.Value, &det); err != nil {
					line = fmt.Appendf(line, `{"partition":%d,"offset":%d,"error":%q}`, r.Partition, r.Offset, err.Error())
					break
				}
				b, _ := json.Marshal(&det)
				line = append(line, b...)
			default:
				if json.Valid(r.Value) {
					line = append(line, r.Value...)
				} else {
					b, _ := json.Marshal(map[string]any{"key": string(r.Key), "value": string(r.Value)})
					line = append(line, b...)
				}
			}
			line = append(line, '\n')
			if _, err := out.Write(line); err != nil && werr == nil {
				werr = err
			}
		})
		if werr != nil {
			return werr
		}
		if n == 0 {
			idle++
			if !*follow && idle >= 2 {
				return nil
			}
			continue
		}
		idle = 0
		if err := out.Flush(); err != nil {
			return err
		}
	}
}
