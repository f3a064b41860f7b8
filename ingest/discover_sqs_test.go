package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/trailwatch/trailwatch/internal/sqsfake"
	"github.com/trailwatch/trailwatch/schemas"
)

// handoff is one HandleObjects call, completed by the test through done.
type handoff struct {
	msgID string
	objs  []schemas.Object
	done  chan error
}

// chanHandler passes every call to the test on calls.
type chanHandler struct{ calls chan handoff }

func newChanHandler() *chanHandler { return &chanHandler{calls: make(chan handoff, 16)} }

func (h *chanHandler) HandleObjects(ctx context.Context, msgID string, objs []schemas.Object) <-chan error {
	done := make(chan error, 1)
	select {
	case h.calls <- handoff{msgID: msgID, objs: objs, done: done}:
	case <-ctx.Done():
		done <- ctx.Err()
	}
	return done
}

// next waits for the next call.
func (h *chanHandler) next(t *testing.T, timeout time.Duration) handoff {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(timeout):
		t.Fatalf("no objects handed over within %v", timeout)
		return handoff{}
	}
}

// none checks that no call comes within d.
func (h *chanHandler) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case c := <-h.calls:
		t.Fatalf("unexpected hand-over of message %s", c.msgID)
	case <-time.After(d):
	}
}

// deadLetters records dead-lettered messages; the first failures calls
// fail.
type deadLetters struct {
	mu       sync.Mutex
	failures int
	got      []deadLetter
}

type deadLetter struct {
	msgID, reason string
	body          []byte
}

func (d *deadLetters) DeadLetterMessage(_ context.Context, msgID string, body []byte, reason string, err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failures > 0 {
		d.failures--
		return errors.New("dead-letter topic unavailable")
	}
	if err == nil {
		return errors.New("dead-lettered without an error")
	}
	d.got = append(d.got, deadLetter{msgID: msgID, reason: reason, body: body})
	return nil
}

func (d *deadLetters) all() []deadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]deadLetter(nil), d.got...)
}

// sqsTest is a fake SQS queue with a real SDK client.
type sqsTest struct {
	srv    *sqsfake.Server
	client *sqs.Client
	url    string
}

func newSQSTest(t *testing.T, visibility time.Duration) *sqsTest {
	t.Helper()
	srv := sqsfake.New()
	t.Cleanup(srv.Close)
	client := srv.Client()
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{
		QueueName:  aws.String("trailwatch-objects"),
		Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(int(visibility / time.Second))},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &sqsTest{srv: srv, client: client, url: aws.ToString(out.QueueUrl)}
}

func (q *sqsTest) send(t *testing.T, body string) string {
	t.Helper()
	out, err := q.client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

func (q *sqsTest) counts(t *testing.T) sqsfake.Counts {
	t.Helper()
	c, ok := q.srv.Counts(q.url)
	if !ok {
		t.Fatal("queue gone")
	}
	return c
}

// waitEmpty waits until the queue holds no message at all.
func (q *sqsTest) waitEmpty(t *testing.T, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "queue empty", func() bool { return q.counts(t) == sqsfake.Counts{} })
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testSQSConfig is a configuration for second-scale tests.
func testSQSConfig(url string) SQSConfig {
	cfg := DefaultSQSConfig()
	cfg.QueueURL = url
	cfg.WaitTime = time.Second
	cfg.VisibilityTimeout = time.Second
	cfg.ExtendInterval = 300 * time.Millisecond
	cfg.RetryDelay = 0
	cfg.DrainTimeout = 2 * time.Second
	cfg.MaxErrorDelay = 200 * time.Millisecond
	return cfg
}

// running is a discoverer running in the background.
type running struct {
	d    *SQSDiscoverer
	stop context.CancelFunc
	errc chan error
}

func startDiscoverer(t *testing.T, cfg SQSConfig, q *sqsTest, h ObjectHandler, dl SQSDeadLetterer) *running {
	t.Helper()
	d, err := NewSQSDiscoverer(cfg, q.client, h, dl, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &running{d: d, stop: stop, errc: make(chan error, 1)}
	go func() { r.errc <- d.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// shutdown stops the discoverer and waits for Run, once.
func (r *running) shutdown(t *testing.T) {
	t.Helper()
	if r.errc == nil {
		return
	}
	r.stop()
	select {
	case err := <-r.errc:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after stop")
	}
	r.errc = nil
}

func (r *running) count(result string) float64 {
	return metricValue(r.d.metrics.messages.WithLabelValues(result))
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}

func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(notificationDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSQSDiscovererHandsOverObjects sends each notification shape and
// checks the objects handed over and that the message is deleted only
// after the handler reports them done.
func TestSQSDiscovererHandsOverObjects(t *testing.T) {
	tests := []struct {
		name     string
		sample   string
		wantKeys []string
	}{
		{"S3 event", "s3_put_org_trail.json", []string{"audit logs/AWSLogs/o-exampleorgid1/111122223333/CloudTrail/us-east-2/2024/03/05/111122223333_CloudTrail_us-east-2_20240305T1405Z_3G5oQqRk1xCvN0bD.json.gz"}},
		{"SNS envelope", "sns_s3_put.json", []string{"AWSLogs/342082656213/CloudTrail/ap-southeast-2/2021/07/29/342082656213_CloudTrail_ap-southeast-2_20210729T2355Z_d8K4eSPV0RAy0jfj.json.gz"}},
		{"EventBridge", "eventbridge_object_created.json", []string{"audit logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2024/03/05/111122223333_CloudTrail-Digest_us-east-2_management-events_us-east-1_20240305T150131Z.json.gz"}},
		{"several records", "s3_multiple_records.json", []string{"flow/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz", "exports/résumé 2018.csv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := newSQSTest(t, 30*time.Second)
			h := newChanHandler()
			r := startDiscoverer(t, testSQSConfig(q.url), q, h, &deadLetters{})
			id := q.send(t, readSample(t, tc.sample))

			c := h.next(t, 5*time.Second)
			if c.msgID != id {
				t.Errorf("message id %s, want %s", c.msgID, id)
			}
			if len(c.objs) != len(tc.wantKeys) {
				t.Fatalf("%d objects, want %d", len(c.objs), len(tc.wantKeys))
			}
			for i, o := range c.objs {
				if o.Key != tc.wantKeys[i] || o.Via != "sqs" || o.V != schemas.ObjectVersion {
					t.Errorf("object %d: %+v", i, o)
				}
			}
			// Not done yet: the message must still be there.
			time.Sleep(100 * time.Millisecond)
			if got := q.counts(t); got != (sqsfake.Counts{InFlight: 1}) {
				t.Fatalf("before done: %+v, want the message in flight", got)
			}
			c.done <- nil
			q.waitEmpty(t, 5*time.Second)
			eventually(t, time.Second, "counted done", func() bool { return r.count(sqsDone) == 1 })
			if got := metricValue(r.d.metrics.objects); got != float64(len(tc.wantKeys)) {
				t.Errorf("objects metric %v", got)
			}
		})
	}
}

// TestSQSDiscovererIgnores checks that notifications without objects are
// deleted without reaching the handler.
func TestSQSDiscovererIgnores(t *testing.T) {
	q := newSQSTest(t, 30*time.Second)
	h := newChanHandler()
	r := startDiscoverer(t, testSQSConfig(q.url), q, h, &deadLetters{})
	for _, s := range []string{"s3_test_event.json", "sns_s3_test_event.json", "s3_removed.json", "eventbridge_object_deleted.json"} {
		q.send(t, readSample(t, s))
	}
	q.waitEmpty(t, 5*time.Second)
	h.none(t, 100*time.Millisecond)
	if got := r.count(sqsIgnored); got != 4 {
		t.Errorf("ignored %v, want 4", got)
	}
}

// TestSQSDiscovererExtendsVisibility holds a message's objects for three
// visibility timeouts while a second receiver polls the queue: the
// message must not reach it.
func TestSQSDiscovererExtendsVisibility(t *testing.T) {
	q := newSQSTest(t, time.Second)
	h := newChanHandler()
	r := startDiscoverer(t, testSQSConfig(q.url), q, h, &deadLetters{})
	q.send(t, readSample(t, "s3_put_org_trail.json"))
	c := h.next(t, 5*time.Second)

	peer := q.srv.Client()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		out, err := peer.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), WaitTimeSeconds: 1, VisibilityTimeout: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			t.Fatalf("a peer received the message while its objects were being ingested")
		}
	}
	if got := metricValue(r.d.metrics.extensions.WithLabelValues("ok")); got < 5 {
		t.Errorf("%v visibility extensions in 3s, want about 10", got)
	}
	c.done <- nil
	q.waitEmpty(t, 5*time.Second)
	if lost := metricValue(r.d.metrics.extensions.WithLabelValues("lost")); lost != 0 {
		t.Errorf("%v extensions lost", lost)
	}
}

// TestSQSDiscovererRedeliversAfterCrash stops a discoverer whose handler
// never finishes: the message is not deleted, and a new discoverer gets
// it once its visibility runs out.
func TestSQSDiscovererRedeliversAfterCrash(t *testing.T) {
	q := newSQSTest(t, time.Second)
	cfg := testSQSConfig(q.url)
	cfg.DrainTimeout = 50 * time.Millisecond

	stuck := newChanHandler()
	first := startDiscoverer(t, cfg, q, stuck, &deadLetters{})
	id := q.send(t, readSample(t, "sns_s3_put.json"))
	if c := stuck.next(t, 5*time.Second); c.msgID != id {
		t.Fatalf("message %s, want %s", c.msgID, id)
	}
	first.shutdown(t)
	if got := first.count(sqsAbandoned); got != 1 {
		t.Errorf("abandoned %v, want 1", got)
	}
	if got := q.counts(t); got != (sqsfake.Counts{InFlight: 1}) {
		t.Fatalf("after the crash: %+v, want the message in flight, not deleted", got)
	}

	h := newChanHandler()
	second := startDiscoverer(t, cfg, q, h, &deadLetters{})
	start := time.Now()
	c := h.next(t, 5*time.Second)
	if c.msgID != id {
		t.Fatalf("redelivered %s, want %s", c.msgID, id)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("redelivered after %v, want about the 1s visibility timeout", waited)
	}
	c.done <- nil
	q.waitEmpty(t, 5*time.Second)
	eventually(t, time.Second, "counted done", func() bool { return second.count(sqsDone) == 1 })
}

// TestSQSDiscovererHandlerFailure checks that a failed hand-over leaves
// the message to come back (RetryDelay 0: at once), and a closed channel
// counts as failure.
func TestSQSDiscovererHandlerFailure(t *testing.T) {
	q := newSQSTest(t, 30*time.Second)
	h := newChanHandler()
	r := startDiscoverer(t, testSQSConfig(q.url), q, h, &deadLetters{})
	id := q.send(t, readSample(t, "s3_put_org_trail.json"))

	c := h.next(t, 5*time.Second)
	c.done <- errors.New("objects topic unavailable")
	c = h.next(t, 5*time.Second)
	if c.msgID != id {
		t.Fatalf("second delivery of %s, want %s", c.msgID, id)
	}
	close(c.done)
	c = h.next(t, 5*time.Second)
	c.done <- nil
	q.waitEmpty(t, 5*time.Second)
	eventually(t, time.Second, "counted", func() bool { return r.count(sqsDone) == 1 })
	if got := r.count(sqsHandlerFailed); got != 2 {
		t.Errorf("handler failures %v, want 2", got)
	}
}

// TestSQSDiscovererDeadLetters checks that a message that cannot be parsed
// goes to the dead-letterer and is deleted, and stays on the queue while
// dead-lettering fails.
func TestSQSDiscovererDeadLetters(t *testing.T) {
	q := newSQSTest(t, 30*time.Second)
	h := newChanHandler()
	dl := &deadLetters{failures: 1}
	r := startDiscoverer(t, testSQSConfig(q.url), q, h, dl)
	body := readSample(t, "bad_eventbridge_other_source.json")
	id := q.send(t, body)

	q.waitEmpty(t, 5*time.Second)
	got := dl.all()
	if len(got) != 1 || got[0].msgID != id || got[0].reason != ReasonBadAnnouncement || string(got[0].body) != body {
		t.Fatalf("dead letters %+v", got)
	}
	h.none(t, 50*time.Millisecond)
	eventually(t, time.Second, "counted", func() bool { return r.count(sqsDeadLettered) == 1 })
	if got := r.count(sqsDeadLetterFailed); got != 1 {
		t.Errorf("dead-letter failures %v, want 1", got)
	}
}

// TestSQSDiscovererMaxInFlight checks that no more than MaxInFlight
// messages are received while the handler holds them.
func TestSQSDiscovererMaxInFlight(t *testing.T) {
	q := newSQSTest(t, 30*time.Second)
	cfg := testSQSConfig(q.url)
	cfg.MaxInFlight = 2
	h := newChanHandler()
	r := startDiscoverer(t, cfg, q, h, &deadLetters{})
	for range 5 {
		q.send(t, readSample(t, "s3_put_org_trail.json"))
	}
	held := []handoff{h.next(t, 5*time.Second), h.next(t, 5*time.Second)}
	h.none(t, 300*time.Millisecond)
	if got := q.counts(t); got != (sqsfake.Counts{Visible: 3, InFlight: 2}) {
		t.Fatalf("counts %+v, want 2 in flight and 3 waiting", got)
	}
	if got := metricValue(r.d.metrics.inFlight); got != 2 {
		t.Errorf("in-flight gauge %v", got)
	}
	held[0].done <- nil
	held = append(held[1:], h.next(t, 5*time.Second))
	h.none(t, 100*time.Millisecond)
	for handed := 3; len(held) > 0; {
		held[0].done <- nil
		held = held[1:]
		if handed < 5 {
			held = append(held, h.next(t, 5*time.Second))
			handed++
		}
	}
	q.waitEmpty(t, 5*time.Second)
	eventually(t, time.Second, "counted", func() bool { return r.count(sqsDone) == 5 })
}

// TestSQSDiscovererDrains checks that a message finishing during the drain
// after a stop is still deleted.
func TestSQSDiscovererDrains(t *testing.T) {
	q := newSQSTest(t, 30*time.Second)
	h := newChanHandler()
	r := startDiscoverer(t, testSQSConfig(q.url), q, h, &deadLetters{})
	q.send(t, readSample(t, "s3_put_org_trail.json"))
	c := h.next(t, 5*time.Second)
	r.stop()
	time.Sleep(100 * time.Millisecond)
	c.done <- nil
	select {
	case err := <-r.errc:
		r.errc = nil
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if got := q.counts(t); got != (sqsfake.Counts{}) {
		t.Fatalf("counts %+v after drain, want the message deleted", got)
	}
}

// TestSQSDiscovererMissingQueue checks that Run fails fast when the queue
// does not exist.
func TestSQSDiscovererMissingQueue(t *testing.T) {
	q := newSQSTest(t, 30*time.Second)
	cfg := testSQSConfig(q.url + "-missing")
	d, err := NewSQSDiscoverer(cfg, q.client, newChanHandler(), &deadLetters{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = d.Run(ctx)
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Fatalf("Run = %v, want QueueDoesNotExist", err)
	}
	if err := d.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestSQSConfigValidate(t *testing.T) {
	good := DefaultSQSConfig()
	good.QueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/objects"
	if err := good.Validate(); err != nil {
		t.Fatalf("default config with a queue: %v", err)
	}
	tests := []struct {
		name      string
		change    func(*SQSConfig)
		wantField string
	}{
		{"no queue", func(c *SQSConfig) { c.QueueURL = "" }, "ingest.sqs.queue_url"},
		{"wait too long", func(c *SQSConfig) { c.WaitTime = 21 * time.Second }, "ingest.sqs.wait_time"},
		{"wait not whole seconds", func(c *SQSConfig) { c.WaitTime = 1500 * time.Millisecond }, "ingest.sqs.wait_time"},
		{"eleven messages", func(c *SQSConfig) { c.MaxMessages = 11 }, "ingest.sqs.max_messages"},
		{"nothing in flight", func(c *SQSConfig) { c.MaxInFlight = 0 }, "ingest.sqs.max_in_flight"},
		{"visibility past 12h", func(c *SQSConfig) { c.VisibilityTimeout = 13 * time.Hour }, "ingest.sqs.visibility_timeout"},
		{"extend too late", func(c *SQSConfig) { c.ExtendInterval = 3 * time.Minute }, "ingest.sqs.extend_interval"},
		{"negative retry delay", func(c *SQSConfig) { c.RetryDelay = -time.Second }, "ingest.sqs.retry_delay"},
		{"negative drain", func(c *SQSConfig) { c.DrainTimeout = -time.Second }, "ingest.sqs.drain_timeout"},
		{"tiny error delay", func(c *SQSConfig) { c.MaxErrorDelay = time.Millisecond }, "ingest.sqs.max_error_delay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantField+":") {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.wantField)
			}
		})
	}
}
