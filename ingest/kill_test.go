package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/awscfg"
	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas"
)

// Environment of the child worker processes of TestKillWorkers.
const (
	envChild   = "TRAILWATCH_INGEST_KILL_CHILD"
	envBrokers = "TRAILWATCH_INGEST_KILL_BROKERS"
)

// TestIngestChildProcess is not a test: it is the worker process that
// TestKillWorkers starts and kills. It does nothing unless envChild is set.
func TestIngestChildProcess(t *testing.T) {
	if os.Getenv(envChild) == "" {
		return
	}
	m := testenv.MinIO(t)
	s3cfg := awscfg.DefaultConfig()
	s3cfg.Endpoint, s3cfg.AccessKeyID, s3cfg.SecretAccessKey = m.Endpoint, m.AccessKey, m.SecretKey
	s3c, err := s3cfg.S3(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kcfg := kafka.DefaultConfig()
	kcfg.Brokers = strings.Split(os.Getenv(envBrokers), ",")
	cfg := killConfig()
	w, err := New(cfg, kcfg, schemas.TopicNames{Prefix: "trailwatch."}, s3c, testLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Run(context.Background()) // runs until killed
}

func killConfig() Config {
	cfg := testConfig()
	// One id for every incarnation: a new worker fences the killed one and
	// aborts its open transaction at once.
	cfg.TransactionalID = "ingest-kill-test"
	cfg.SessionTimeout = 6 * time.Second // the broker's default minimum
	cfg.RebalanceTimeout = 8 * time.Second
	cfg.MaxObjectsPerTransaction = 8
	cfg.Concurrency = 4
	return cfg
}

// TestKillWorkers kills ingest workers with SIGKILL at random moments while
// they work through many objects, then lets a last one finish, and checks
// that a read_committed consumer sees every event exactly once.
func TestKillWorkers(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("inside a child process")
	}
	s3c, bucket := testS3(t)
	kcfg, topics := testBroker(t, 4)

	const objects, perObject = 48, 150
	var announcements [][]byte
	for o := range objects {
		var b strings.Builder
		b.WriteString(`{"Records":[`)
		for e := range perObject {
			if e > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"eventVersion":"1.08","eventID":"kill-%03d-%04d","eventTime":"2026-03-02T10:%02d:00Z","eventName":"GetObject","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u%d"},"requestParameters":{"bucketName":"b","key":"%s"}}`,
				o, e, e%60, e%7, strings.Repeat("k", 200))
		}
		b.WriteString(`]}`)
		key := fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T1015Z_kill%012d.json.gz", o)
		putObject(t, s3c, bucket, key, gz([]byte(b.String())))
		announcements = append(announcements, objectJSON(bucket, key))
	}
	announce(t, kcfg, topics, announcements...)

	seed := time.Now().UnixNano()
	t.Logf("kill schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIngestChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"=1", envBrokers+"="+strings.Join(kcfg.Brokers, ","))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for i := range 6 {
		cmd := start()
		d := time.Duration(300+rng.IntN(2500)) * time.Millisecond
		if os.Getenv("TRAILWATCH_KILL_AFTER") != "" {
			d, _ = time.ParseDuration(os.Getenv("TRAILWATCH_KILL_AFTER"))
		}
		time.Sleep(d)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		t.Logf("kill %d after %s: %d objects committed so far", i+1, d, countCommitted(t, kcfg, topics.Name(schemas.TopicIngested)))
	}

	last := start()
	defer func() {
		_ = last.Process.Signal(syscall.SIGKILL)
		_ = last.Wait()
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for countCommitted(t, kcfg, topics.Name(schemas.TopicIngested)) < objects {
		if time.Now().After(deadline) {
			t.Fatal("the last worker did not finish in time")
		}
		time.Sleep(500 * time.Millisecond)
	}

	seen := map[string]int{}
	for _, r := range readCommitted(t, kcfg, topics.Name(schemas.TopicEvents)) {
		var ev schemas.Event
		if err := schemas.UnmarshalEvent(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		seen[ev.ID]++
	}
	dups, missing := 0, 0
	for o := range objects {
		for e := range perObject {
			switch n := seen[fmt.Sprintf("kill-%03d-%04d", o, e)]; {
			case n == 0:
				missing++
			case n > 1:
				dups++
			}
		}
	}
	if dups != 0 || missing != 0 || len(seen) != objects*perObject {
		t.Fatalf("after kills: %d distinct events (want %d), %d duplicated, %d missing", len(seen), objects*perObject, dups, missing)
	}
	if n := countCommitted(t, kcfg, topics.Name(schemas.TopicIngested)); n != objects {
		t.Fatalf("ingested topic has %d records, want %d (an object committed twice)", n, objects)
	}
}
