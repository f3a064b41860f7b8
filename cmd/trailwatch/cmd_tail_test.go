package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/trailwatch/trailwatch/schemas"
)

func TestTailCommand(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "trailwatch.events", "trailwatch.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("TRAILWATCH_KAFKA_BROKERS", strings.Join(c.ListenAddrs(), ","))
	t.Setenv("TRAILWATCH_GEOIP_DIR", "")

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	ev := schemas.Event{ID: "e-1", Source: schemas.SourceCloudTrail, Time: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		AccountID: "111122223333", Region: "eu-west-1", EventName: "StopLogging", Principal: "arn:aws:iam::111122223333:user/a",
		Raw: []byte(`{"eventID":"e-1"}`)}
	recs := []*kgo.Record{
		{Topic: "trailwatch.events", Value: schemas.MarshalEvent(nil, &ev)},
		{Topic: "trailwatch.events", Value: []byte("not a record")},
		{Topic: "trailwatch.dlq", Value: []byte(`{"v":1,"stage":"ingest","reason":"gzip_corrupt"}`)},
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"events decoded", []string{"-n", "0", "--raw", "events"}, 0, []string{`"event_id":"e-1"`, `"raw":{"eventID":"e-1"}`, `"error":`}},
		{"json topic as is", []string{"-n", "0", "dlq"}, 0, []string{`"reason":"gzip_corrupt"`}},
		{"unknown topic", []string{"evnets"}, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(ctx, append([]string{"tail"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %s:\n%s", w, stdout.String())
				}
			}
			for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				if l != "" && !json.Valid([]byte(l)) {
					t.Errorf("line is not JSON: %s", l)
				}
			}
		})
	}
}
