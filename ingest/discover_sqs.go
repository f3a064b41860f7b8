package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/schemas"
)

// viaSQS is the Object.Via of objects discovered through SQS.
const viaSQS = "sqs"

// SQSConfig configures the discovery of objects from an SQS queue that
// receives S3 event notifications (directly, through SNS, or from an
// EventBridge rule).
type SQSConfig struct {
	// QueueURL is the queue's URL. Required.
	QueueURL string `yaml:"queue_url"`
	// WaitTime is how long one ReceiveMessage long-polls for messages,
	// whole seconds from 1s to 20s. Default 20s.
	WaitTime time.Duration `yaml:"wait_time"`
	// MaxMessages is the most messages one ReceiveMessage asks for, 1 to
	// 10. Default 10.
	MaxMessages int `yaml:"max_messages"`
	// MaxInFlight is the most messages received and not yet finished
	// (deleted, dead-lettered or given back). No message is received
	// beyond it, so it bounds the work and memory waiting on the
	// handler. Default 100.
	MaxInFlight int `yaml:"max_in_flight"`
	// VisibilityTimeout is how long a received message stays hidden from
	// other receivers; the discoverer extends it every ExtendInterval
	// while the message's objects are being ingested, so it only matters
	// when a process dies: that is how soon a peer gets the message.
	// Whole seconds from 1s to 12h. Default 5m.
	VisibilityTimeout time.Duration `yaml:"visibility_timeout"`
	// ExtendInterval is how often the visibility of unfinished messages
	// is extended (to VisibilityTimeout from then). At most half of
	// VisibilityTimeout, so that a late or failed extension is retried
	// before the message reappears. Default 1m.
	ExtendInterval time.Duration `yaml:"extend_interval"`
	// RetryDelay is how long a message whose handler failed (or whose
	// dead-lettering failed) stays hidden before SQS delivers it again,
	// whole seconds up to 12h. Default 30s.
	RetryDelay time.Duration `yaml:"retry_delay"`
	// DrainTimeout is how long Run waits at shutdown for messages in
	// flight to finish; messages still unfinished then are left to
	// reappear on the queue. Default 30s.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// MaxErrorDelay is the longest wait before ReceiveMessage is retried
	// after a failure; the wait starts at 100ms and doubles. Default 30s.
	MaxErrorDelay time.Duration `yaml:"max_error_delay"`
	// DoneTimeout is how long SQSBridge waits, after publishing a
	// message's objects, for the ingest workers to finish them. After
	// it the message fails and is delivered again after RetryDelay (its
	// objects are then published again). It is a safety net for an
	// announcement that can never finish, such as one that expired from
	// the objects topic before a worker read it; set it well above the
	// longest backlog the workers are expected to catch up on. 0 waits
	// as long as it takes. Default 1h.
	DoneTimeout time.Duration `yaml:"done_timeout"`
}

// DefaultSQSConfig returns the default SQS discovery settings; QueueURL is
// left for the user.
func DefaultSQSConfig() SQSConfig {
	return SQSConfig{
		WaitTime:          20 * time.Second,
		MaxMessages:       10,
		MaxInFlight:       100,
		VisibilityTimeout: 5 * time.Minute,
		ExtendInterval:    time.Minute,
		RetryDelay:        30 * time.Second,
		DrainTimeout:      30 * time.Second,
		MaxErrorDelay:     30 * time.Second,
		DoneTimeout:       time.Hour,
	}
}

// Validate reports the first bad field by its YAML path under ingest.sqs.
func (c *SQSConfig) Validate() error {
	const maxVisibility = 12 * time.Hour
	wholeSeconds := func(d time.Duration) bool { return d%time.Second == 0 }
	switch {
	case c.QueueURL == "":
		return errors.New("ingest.sqs.queue_url: required")
	case c.WaitTime < time.Second || c.WaitTime > 20*time.Second || !wholeSeconds(c.WaitTime):
		return fmt.Errorf("ingest.sqs.wait_time: must be whole seconds from 1s to 20s, got %s", c.WaitTime)
	case c.MaxMessages < 1 || c.MaxMessages > 10:
		return fmt.Errorf("ingest.sqs.max_messages: must be 1 to 10, got %d", c.MaxMessages)
	case c.MaxInFlight < 1:
		return fmt.Errorf("ingest.sqs.max_in_flight: must be at least 1, got %d", c.MaxInFlight)
	case c.VisibilityTimeout < time.Second || c.VisibilityTimeout > maxVisibility || !wholeSeconds(c.VisibilityTimeout):
		return fmt.Errorf("ingest.sqs.visibility_timeout: must be whole seconds from 1s to 12h, got %s", c.VisibilityTimeout)
	case c.ExtendInterval <= 0 || c.ExtendInterval > c.VisibilityTimeout/2:
		return fmt.Errorf("ingest.sqs.extend_interval: must be positive and at most half of visibility_timeout (%s), got %s", c.VisibilityTimeout/2, c.ExtendInterval)
	case c.RetryDelay < 0 || c.RetryDelay > maxVisibility || !wholeSeconds(c.RetryDelay):
		return fmt.Errorf("ingest.sqs.retry_delay: must be whole seconds from 0s to 12h, got %s", c.RetryDelay)
	case c.DrainTimeout < 0:
		return fmt.Errorf("ingest.sqs.drain_timeout: must not be negative, got %s", c.DrainTimeout)
	case c.MaxErrorDelay < 100*time.Millisecond:
		return fmt.Errorf("ingest.sqs.max_error_delay: must be at least 100ms, got %s", c.MaxErrorDelay)
	case c.DoneTimeout < 0:
		return fmt.Errorf("ingest.sqs.done_timeout: must not be negative, got %s", c.DoneTimeout)
	}
	return nil
}

// SQSClient is the part of *sqs.Client the discoverer uses.
type SQSClient interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

var _ SQSClient = (*sqs.Client)(nil)

// ObjectHandler takes the objects that one queue message announces and
// reports when they are done. It is the discoverer's only way to hand
// objects on; the queue message is deleted when, and only when, the
// handler reports them done.
type ObjectHandler interface {
	// HandleObjects takes ownership of objs (at least one, Via set),
	// announced by the queue message msgID. It is called from one
	// goroutine per message, concurrently for up to MaxInFlight
	// messages. It may block to apply backpressure (the message's
	// visibility is extended meanwhile) and must return promptly once
	// ctx is done.
	//
	// The returned channel, never nil, delivers exactly one value:
	// nil once every event of every object is committed downstream (the
	// message is then deleted), or an error (the message is left on the
	// queue and delivered again after RetryDelay, to this or another
	// process). A channel closed without a value counts as an error.
	// Until the value arrives the message stays hidden from other
	// receivers, however long that takes; if the process dies first,
	// SQS delivers it again after VisibilityTimeout. The same objects may
	// therefore be handed over more than once, and downstream writes
	// must be idempotent (they are: events carry stable ids).
	HandleObjects(ctx context.Context, msgID string, objs []schemas.Object) (done <-chan error)
}

// SQSDeadLetterer receives the queue messages that can never yield
// objects, so that they are kept and seen rather than dropped.
type SQSDeadLetterer interface {
	// DeadLetterMessage records message msgID, whose body (the raw
	// message, owned by the callee) failed to parse with err; reason is
	// ReasonOf(err), one of the Reason* constants. It is called
	// concurrently like ObjectHandler.HandleObjects. The message is
	// deleted only after it returns nil; an error leaves the message on
	// the queue, to be delivered and dead-lettered again after RetryDelay.
	DeadLetterMessage(ctx context.Context, msgID string, body []byte, reason string, err error) error
}

// Message results, the values of the result label of
// trailwatch_ingest_sqs_messages_total.
const (
	// sqsDone: the handler reported the objects done; message deleted.
	sqsDone = "done"
	// sqsIgnored: nothing to ingest (test event, removal, ...); deleted.
	sqsIgnored = "ignored"
	// sqsDeadLettered: unparseable, dead-lettered, deleted.
	sqsDeadLettered = "dead_lettered"
	// sqsHandlerFailed: the handler failed; left for redelivery.
	sqsHandlerFailed = "handler_failed"
	// sqsDeadLetterFailed: dead-lettering failed; left for redelivery.
	sqsDeadLetterFailed = "dead_letter_failed"
	// sqsDeleteFailed: finished, but the delete failed: it will be
	// delivered again.
	sqsDeleteFailed = "delete_failed"
	// sqsAbandoned: unfinished when the drain timed out; left for
	// redelivery.
	sqsAbandoned = "abandoned"
)

// sqsMetrics are the discoverer's metrics.
type sqsMetrics struct {
	messages   *prometheus.CounterVec
	objects    prometheus.Counter
	inFlight   prometheus.Gauge
	extensions *prometheus.CounterVec
	apiErrors  *prometheus.CounterVec
}

func newSQSMetrics(reg prometheus.Registerer) (*sqsMetrics, error) {
	m := &sqsMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_sqs_messages_total",
			Help: "SQS messages finished, by result: done, ignored, dead_lettered, handler_failed, dead_letter_failed, delete_failed, abandoned.",
		}, []string{"result"}),
		objects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_ingest_sqs_objects_total",
			Help: "Objects announced by SQS messages and reported done by the handler.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trailwatch_ingest_sqs_messages_in_flight",
			Help: "SQS messages received and not yet finished.",
		}),
		extensions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_sqs_visibility_extensions_total",
			Help: "Visibility extensions of unfinished SQS messages, by result: ok, error (retried), lost (the receipt handle is no longer valid; another receiver may get the message).",
		}, []string{"result"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_sqs_request_errors_total",
			Help: "Failed SQS requests, by operation.",
		}, []string{"op"}),
	}
	for _, r := range []string{sqsDone, sqsIgnored, sqsDeadLettered, sqsHandlerFailed, sqsDeadLetterFailed, sqsDeleteFailed, sqsAbandoned} {
		m.messages.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "error", "lost"} {
		m.extensions.WithLabelValues(r)
	}
	for _, op := range []string{"ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"} {
		m.apiErrors.WithLabelValues(op)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.messages, m.objects, m.inFlight, m.extensions, m.apiErrors} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register sqs discovery metrics: %w", err)
			}
		}
	}
	return m, nil
}

// SQSDiscoverer long-polls an SQS queue of S3 object notifications, hands
// the announced objects to an ObjectHandler, and deletes each message once
// its objects are done.
//
// Goroutines: Run's own (receiving), one per message in flight (parse,
// hand over, wait, delete), and one extender that renews the visibility
// of every unfinished message in batches. Run owns and waits for all of
// them.
type SQSDiscoverer struct {
	cfg     SQSConfig
	client  SQSClient
	handler ObjectHandler
	dead    SQSDeadLetterer
	logger  *slog.Logger
	metrics *sqsMetrics

	// slots holds one token per message in flight: MaxInFlight bounds it.
	slots   chan struct{}
	started atomic.Bool

	// extendMu is held while visibility extensions are in progress, so
	// that a message is not extended after it was given back or deleted.
	extendMu sync.Mutex
	// mu guards leases.
	mu     sync.Mutex
	leases map[*sqsLease]struct{}
}

// sqsLease is one received, unfinished message.
type sqsLease struct {
	msgID  string
	handle string
	// extendAt is when the visibility is next extended; lost is set once
	// the handle is no longer valid. Both are guarded by SQSDiscoverer.mu.
	extendAt time.Time
	lost     bool
}

// NewSQSDiscoverer returns a discoverer for cfg, which it validates.
// client is an SQS client (an *sqs.Client), handler takes the objects,
// dead takes the messages that cannot be parsed. logger may be nil to
// discard logs and reg nil to skip metrics.
func NewSQSDiscoverer(cfg SQSConfig, client SQSClient, handler ObjectHandler, dead SQSDeadLetterer, logger *slog.Logger, reg prometheus.Registerer) (*SQSDiscoverer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil || handler == nil || dead == nil {
		return nil, errors.New("new sqs discoverer: client, handler and dead-letterer are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newSQSMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &SQSDiscoverer{
		cfg:     cfg,
		client:  client,
		handler: handler,
		dead:    dead,
		logger:  logger.With("queue_url", cfg.QueueURL),
		metrics: m,
		slots:   make(chan struct{}, cfg.MaxInFlight),
		leases:  make(map[*sqsLease]struct{}),
	}, nil
}

// Run receives messages until ctx is done, then stops receiving, waits up
// to DrainTimeout for the messages in flight to finish (extending their
// visibility meanwhile), and returns. Messages unfinished by then are not
// deleted: SQS delivers them again once their visibility runs out.
//
// Run returns nil after a stop through ctx, and an error when the queue
// cannot be read at all (it does not exist, or access is denied); other
// failures are logged, counted and retried. Run may be called once.
func (d *SQSDiscoverer) Run(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("sqs discoverer: Run called twice")
	}
	// Work on messages outlives ctx by up to DrainTimeout, so that
	// messages finishing during the drain are still deleted.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()

	var extender, messages sync.WaitGroup
	extender.Go(func() { d.extendLoop(work) })
	err := d.receiveLoop(ctx, work, &messages)

	d.logger.Info("sqs discovery draining", "in_flight", len(d.slots))
	drained := make(chan struct{})
	go func() { // ends when the messages do; waited for below
		messages.Wait()
		close(drained)
	}()
	timer := time.NewTimer(d.cfg.DrainTimeout)
	select {
	case <-drained:
	case <-timer.C:
		stopWork()
		<-drained
	}
	timer.Stop()
	stopWork()
	extender.Wait()
	return err
}

// receiveLoop receives messages until ctx is done and starts one
// goroutine per message, counted in messages, working under work.
func (d *SQSDiscoverer) receiveLoop(ctx, work context.Context, messages *sync.WaitGroup) error {
	var delay time.Duration
	for {
		n, ok := d.acquire(ctx)
		if !ok {
			return nil
		}
		received := time.Now()
		out, err := d.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(d.cfg.QueueURL),
			MaxNumberOfMessages:         int32(n),
			WaitTimeSeconds:             int32(d.cfg.WaitTime / time.Second),
			VisibilityTimeout:           int32(d.cfg.VisibilityTimeout / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			d.releaseSlots(n)
			if ctx.Err() != nil {
				return nil
			}
			d.metrics.apiErrors.WithLabelValues("ReceiveMessage").Inc()
			if isPermanentSQSError(err) {
				return fmt.Errorf("receive sqs messages from %s: %w", d.cfg.QueueURL, err)
			}
			delay = min(max(2*delay, 100*time.Millisecond), d.cfg.MaxErrorDelay)
			d.logger.Warn("sqs receive failed", "retry_in", delay, "err", err)
			if !sqsSleep(ctx, delay) {
				return nil
			}
			continue
		}
		delay = 0
		msgs := out.Messages
		if len(msgs) > n {
			// More than asked for: leave the rest to reappear rather
			// than exceed MaxInFlight.
			d.logger.Warn("sqs returned more messages than asked", "asked", n, "got", len(msgs))
			msgs = msgs[:n]
		}
		d.releaseSlots(n - len(msgs))
		for _, m := range msgs {
			d.start(work, messages, m, received)
		}
	}
}

// acquire waits for a free in-flight slot, then takes as many more as are
// free, up to MaxMessages. It returns false when ctx is done first.
func (d *SQSDiscoverer) acquire(ctx context.Context) (int, bool) {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, false
	}
	n := 1
	for n < d.cfg.MaxMessages {
		select {
		case d.slots <- struct{}{}:
			n++
		default:
			return n, true
		}
	}
	return n, true
}

func (d *SQSDiscoverer) releaseSlots(n int) {
	for range n {
		<-d.slots
	}
}

// start tracks a received message and starts its goroutine. received is
// when the receive was sent: the visibility timeout started after it.
func (d *SQSDiscoverer) start(work context.Context, messages *sync.WaitGroup, m types.Message, received time.Time) {
	l := &sqsLease{msgID: aws.ToString(m.MessageId), handle: aws.ToString(m.ReceiptHandle), extendAt: received.Add(d.cfg.ExtendInterval)}
	d.mu.Lock()
	d.leases[l] = struct{}{}
	d.mu.Unlock()
	d.metrics.inFlight.Inc()
	messages.Go(func() {
		defer func() {
			d.release(l)
			d.metrics.inFlight.Dec()
			d.releaseSlots(1)
		}()
		d.process(work, m, l)
	})
}

// errHandlerNoResult is what a done channel closed without a value counts as.
var errHandlerNoResult = errors.New("object handler closed its done channel without a result")

// process takes one message from parsing to deletion.
func (d *SQSDiscoverer) process(ctx context.Context, m types.Message, l *sqsLease) {
	log := d.logger.With("msg_id", l.msgID, "receive_count", m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	body := []byte(aws.ToString(m.Body))
	objs, err := ParseNotification(body)
	if err != nil {
		reason := ReasonOf(err)
		if derr := d.dead.DeadLetterMessage(ctx, l.msgID, body, reason, err); derr != nil {
			log.Warn("sqs message dead letter failed", "reason", reason, "err", derr)
			d.giveBack(ctx, l, log, sqsDeadLetterFailed)
			return
		}
		log.Warn("sqs message dead-lettered", "reason", reason, "err", err)
		d.delete(ctx, l, log, sqsDeadLettered)
		return
	}
	if len(objs) == 0 {
		d.delete(ctx, l, log, sqsIgnored)
		return
	}
	for i := range objs {
		objs[i].Via = viaSQS
	}
	n := len(objs)
	done := d.handler.HandleObjects(ctx, l.msgID, objs)
	select {
	case err, ok := <-done:
		if !ok {
			err = errHandlerNoResult
		}
		if err != nil {
			log.Warn("sqs message objects failed", "objects", n, "err", err)
			d.giveBack(ctx, l, log, sqsHandlerFailed)
			return
		}
		d.metrics.objects.Add(float64(n))
		d.delete(ctx, l, log, sqsDone)
	case <-ctx.Done():
		log.Warn("sqs message abandoned unfinished at shutdown", "objects", n)
		d.metrics.messages.WithLabelValues(sqsAbandoned).Inc()
	}
}

// delete stops extending a finished message and deletes it.
func (d *SQSDiscoverer) delete(ctx context.Context, l *sqsLease, log *slog.Logger, result string) {
	d.release(l)
	_, err := d.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(d.cfg.QueueURL), ReceiptHandle: aws.String(l.handle)})
	if err != nil {
		d.metrics.apiErrors.WithLabelValues("DeleteMessage").Inc()
		d.metrics.messages.WithLabelValues(sqsDeleteFailed).Inc()
		log.Warn("sqs message delete failed; it will be delivered again", "result", result, "err", err)
		return
	}
	d.metrics.messages.WithLabelValues(result).Inc()
	log.Debug("sqs message finished", "result", result)
}

// giveBack stops extending a failed message and makes it visible again
// after RetryDelay.
func (d *SQSDiscoverer) giveBack(ctx context.Context, l *sqsLease, log *slog.Logger, result string) {
	d.release(l)
	d.metrics.messages.WithLabelValues(result).Inc()
	_, err := d.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(d.cfg.QueueURL),
		ReceiptHandle:     aws.String(l.handle),
		VisibilityTimeout: int32(d.cfg.RetryDelay / time.Second),
	})
	if err != nil {
		// The message reappears when its current visibility runs out.
		d.metrics.apiErrors.WithLabelValues("ChangeMessageVisibility").Inc()
		log.Warn("sqs message give back failed", "err", err)
	}
}

// release stops extending l. It waits for an extension in progress, which
// could otherwise hide the message again after it was given back.
func (d *SQSDiscoverer) release(l *sqsLease) {
	d.extendMu.Lock()
	d.mu.Lock()
	delete(d.leases, l)
	d.mu.Unlock()
	d.extendMu.Unlock()
}

// extendLoop extends the visibility of unfinished messages until ctx is
// done. It looks four times per ExtendInterval, so that an extension is
// at most a quarter interval late.
func (d *SQSDiscoverer) extendLoop(ctx context.Context) {
	t := time.NewTicker(max(d.cfg.ExtendInterval/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.extendDue(ctx)
		}
	}
}

// extendDue extends every lease whose time has come, ten per request.
func (d *SQSDiscoverer) extendDue(ctx context.Context) {
	d.extendMu.Lock()
	defer d.extendMu.Unlock()
	now := time.Now()
	var due []*sqsLease
	d.mu.Lock()
	for l := range d.leases {
		if !l.lost && !l.extendAt.After(now) {
			due = append(due, l)
		}
	}
	d.mu.Unlock()
	for len(due) > 0 && ctx.Err() == nil {
		batch := due[:min(len(due), 10)]
		due = due[len(batch):]
		d.extendBatch(ctx, batch, now)
	}
}

// extendBatch extends up to ten leases in one request.
func (d *SQSDiscoverer) extendBatch(ctx context.Context, batch []*sqsLease, now time.Time) {
	entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(batch))
	for i, l := range batch {
		entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id:                aws.String(strconv.Itoa(i)),
			ReceiptHandle:     aws.String(l.handle),
			VisibilityTimeout: int32(d.cfg.VisibilityTimeout / time.Second),
		}
	}
	out, err := d.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(d.cfg.QueueURL), Entries: entries})
	if err != nil {
		if ctx.Err() == nil {
			d.metrics.apiErrors.WithLabelValues("ChangeMessageVisibilityBatch").Inc()
			d.metrics.extensions.WithLabelValues("error").Add(float64(len(batch)))
			d.logger.Warn("sqs visibility extension failed; retrying", "messages", len(batch), "err", err)
		}
		return
	}
	next := now.Add(d.cfg.ExtendInterval)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range out.Successful {
		if l := sqsLeaseOf(batch, s.Id); l != nil {
			l.extendAt = next
			d.metrics.extensions.WithLabelValues("ok").Inc()
		}
	}
	for _, f := range out.Failed {
		l := sqsLeaseOf(batch, f.Id)
		if l == nil {
			continue
		}
		code := aws.ToString(f.Code)
		if receiptHandleGone(code) {
			// Someone else may receive the message now; finishing it
			// here still works downstream, which is idempotent.
			l.lost = true
			d.metrics.extensions.WithLabelValues("lost").Inc()
			d.logger.Warn("sqs message visibility lost; it may be delivered again", "msg_id", l.msgID, "code", code, "err", aws.ToString(f.Message))
			continue
		}
		d.metrics.extensions.WithLabelValues("error").Inc()
		d.logger.Warn("sqs visibility extension failed; retrying", "msg_id", l.msgID, "code", code, "err", aws.ToString(f.Message))
	}
}

// sqsLeaseOf returns the lease a batch entry id names.
func sqsLeaseOf(batch []*sqsLease, id *string) *sqsLease {
	i, err := strconv.Atoi(aws.ToString(id))
	if err != nil || i < 0 || i >= len(batch) {
		return nil
	}
	return batch[i]
}

// receiptHandleGone reports whether a visibility change failed because
// the receipt handle no longer holds the message (it expired and was
// received again, or the message is gone): retrying cannot help.
func receiptHandleGone(code string) bool {
	return code == "InvalidParameterValue" || code == "ReceiptHandleIsInvalid" ||
		strings.HasSuffix(code, "MessageNotInflight")
}

// isPermanentSQSError decides which failures of ReceiveMessage no retry
// can fix: the queue is missing or unreachable by configuration, or
// access is denied. Everything else (throttling, network, server errors)
// is retried.
func isPermanentSQSError(err error) bool {
	var (
		missing     *types.QueueDoesNotExist
		address     *types.InvalidAddress
		security    *types.InvalidSecurity
		unsupported *types.UnsupportedOperation
	)
	if errors.As(err, &missing) || errors.As(err, &address) || errors.As(err, &security) || errors.As(err, &unsupported) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "UnrecognizedClientException",
			"SignatureDoesNotMatch", "MissingAuthenticationToken", "KMS.AccessDeniedException":
			return true
		}
	}
	return false
}

// sqsSleep waits for d or until ctx is done; it reports whether the wait
// ran its course.
func sqsSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
