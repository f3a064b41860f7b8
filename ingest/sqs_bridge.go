package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas"
)

// SQSBridge connects SQS discovery to the pipeline. As the discoverer's
// ObjectHandler it publishes the objects of each queue message to the
// objects topic, like every other discovery path, so that any ingest
// worker of the consumer group may read them; it then reports the message
// done once the workers have committed every one of its objects, which it
// learns from their markers on the ingested topic. As the discoverer's
// SQSDeadLetterer it writes unparseable messages to the dead-letter topic.
//
// Why a marker means done: a worker writes an object's Ingested marker in
// the same transaction as the object's events (and its dead letters), so
// a committed marker, whatever its result, says that everything the object
// will ever yield is committed downstream. A bad object counts as done: it
// is on the dead-letter topic with its reason, and reading it again would
// not help.
//
// Which marker counts: before publishing a message's objects, the bridge
// lists the ingested topic's end offsets. A worker can only read a record
// after it is published, so the marker of that read lands at or after
// those offsets; the bridge accepts for an object the first marker at or
// after them that names the same bucket and key, and the same ETag when
// both have one. An older marker of the same object (a duplicate S3
// notification of an object finished long ago) is therefore never taken
// for this publication, and nothing is deleted on the strength of a read
// that started before the object was announced. A marker written just
// after the listing by a read of an earlier announcement of the same
// object may be taken: that read covered the same content, and its events
// are committed. The watcher reads the ingested topic from its end offsets
// as listed when Run starts, before any message is accepted, so it sees
// every marker a publication can be waiting for.
//
// Redelivery: the bridge keeps no state across restarts. A message
// whose process dies before its objects are done is delivered again by
// SQS after the visibility timeout, and its objects are published and
// ingested again. Ingest writes an object's events every time it reads
// the object, so the events topic then holds them twice; every event
// carries its stable event_id, by which the ClickHouse tables deduplicate
// (and detections carry deterministic ids).
//
// Goroutines: Run owns the watcher (its own goroutine, reading markers and
// expiring messages past SQSConfig.DoneTimeout) and the Kafka clients.
// HandleObjects and DeadLetterMessage run on the discoverer's goroutines.
// Pending work is bounded: at most SQSConfig.MaxInFlight messages are
// waited for at once (the discoverer holds no more), and HandleObjects
// blocks beyond that.
type SQSBridge struct {
	topics      schemas.TopicNames
	kcfg        kafka.Config
	doneTimeout time.Duration
	maxPayload  int
	logger      *slog.Logger
	reg         prometheus.Registerer
	metrics     *bridgeMetrics
	now         func() time.Time

	// slots holds one token per message waited for.
	slots   chan struct{}
	started atomic.Bool
	// ready is closed once Run has its clients and the watcher's start
	// offsets; stopped is closed when Run returns. prod, adm and watch
	// are set before ready is closed and not changed after.
	ready   chan struct{}
	stopped chan struct{}
	prod    *kgo.Client
	adm     *kadm.Client
	watch   *kgo.Client

	// watchMu guards watching: the ingested partitions the watcher reads.
	watchMu  sync.Mutex
	watching map[int32]bool

	// mu guards pending, msgs and closed, and the bridgeMsg fields.
	mu sync.Mutex
	// pending holds the objects waiting for their marker, by ObjectKey.
	pending map[string][]bridgeWaiter
	// msgs holds every message waited for, for expiry and shutdown.
	msgs   map[*bridgeMsg]struct{}
	closed bool
}

// bridgeMsg is one queue message whose objects are waited for.
type bridgeMsg struct {
	msgID string
	// after holds the ingested topic's end offsets listed before
	// publishing: only markers at or after them count.
	after map[int32]int64
	keys  []string
	left  int
	// deadline is when the message fails unless done; zero for never.
	deadline time.Time
	start    time.Time
	done     chan error
	finished bool
	// stopWatch stops the context.AfterFunc that fails the message when
	// the discoverer's context ends.
	stopWatch func() bool
}

// bridgeWaiter is one object of a message waiting for its marker.
type bridgeWaiter struct {
	msg  *bridgeMsg
	etag string
}

// errBridgeStopped is the result of messages still waiting when Run ends.
var errBridgeStopped = errors.New("sqs bridge stopped before the objects were ingested")

// Object results, the values of the result label of
// trailwatch_ingest_sqs_bridge_objects_total.
const (
	// bridgeIngested: a marker with result ok (or digest) arrived.
	bridgeIngested = "ingested"
	// bridgeDeadLettered: a marker naming a dead-letter reason arrived.
	bridgeDeadLettered = "dead_lettered"
	// bridgeFailed: listing offsets or publishing failed.
	bridgeFailed = "failed"
	// bridgeTimedOut: no marker within DoneTimeout.
	bridgeTimedOut = "timed_out"
	// bridgeAbandoned: the discoverer or the bridge stopped first.
	bridgeAbandoned = "abandoned"
)

// bridgeMetrics are the bridge's metrics.
type bridgeMetrics struct {
	published   prometheus.Counter
	objects     *prometheus.CounterVec
	pending     prometheus.Gauge
	doneSeconds prometheus.Histogram
}

func newBridgeMetrics(reg prometheus.Registerer) (*bridgeMetrics, error) {
	m := &bridgeMetrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trailwatch_ingest_sqs_bridge_published_total",
			Help: "Objects from SQS messages published to the objects topic.",
		}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_ingest_sqs_bridge_objects_total",
			Help: "Objects from SQS messages no longer waited for, by result: ingested, dead_lettered, failed, timed_out, abandoned.",
		}, []string{"result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trailwatch_ingest_sqs_bridge_objects_pending",
			Help: "Objects from SQS messages waiting for their ingested marker.",
		}),
		doneSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trailwatch_ingest_sqs_bridge_done_seconds",
			Help:    "Time from taking an SQS message's objects to all of them being ingested.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}),
	}
	for _, r := range []string{bridgeIngested, bridgeDeadLettered, bridgeFailed, bridgeTimedOut, bridgeAbandoned} {
		m.objects.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.published, m.objects, m.pending, m.doneSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register sqs bridge metrics: %w", err)
			}
		}
	}
	return m, nil
}

var (
	_ ObjectHandler   = (*SQSBridge)(nil)
	_ SQSDeadLetterer = (*SQSBridge)(nil)
)

// NewSQSBridge returns a bridge for the ingest configuration cfg (it uses
// SQS.MaxInFlight, SQS.DoneTimeout and DeadLetterPayloadBytes), writing to
// and watching the pipeline's topics through the cluster kcfg. logger may
// be nil to discard logs and reg nil to skip metrics. Call Run before the
// discoverer hands it anything.
func NewSQSBridge(cfg Config, kcfg kafka.Config, topics schemas.TopicNames, logger *slog.Logger, reg prometheus.Registerer) (*SQSBridge, error) {
	if cfg.SQS.MaxInFlight < 1 {
		return nil, fmt.Errorf("ingest.sqs.max_in_flight: must be at least 1, got %d", cfg.SQS.MaxInFlight)
	}
	if cfg.SQS.DoneTimeout < 0 {
		return nil, fmt.Errorf("ingest.sqs.done_timeout: must not be negative, got %s", cfg.SQS.DoneTimeout)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newBridgeMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &SQSBridge{
		topics:      topics,
		kcfg:        kcfg,
		doneTimeout: cfg.SQS.DoneTimeout,
		maxPayload:  cfg.DeadLetterPayloadBytes,
		logger:      logger.With("component", "sqs_bridge"),
		reg:         reg,
		metrics:     m,
		now:         time.Now,
		slots:       make(chan struct{}, cfg.SQS.MaxInFlight),
		ready:       make(chan struct{}),
		stopped:     make(chan struct{}),
		watching:    make(map[int32]bool),
		pending:     make(map[string][]bridgeWaiter),
		msgs:        make(map[*bridgeMsg]struct{}),
	}, nil
}

// Run connects to the cluster, starts watching the ingested topic from
// its current end, and then serves HandleObjects and DeadLetterMessage
// until ctx is done. Messages still waiting then fail (the discoverer
// leaves them to SQS to deliver again), so Run should be stopped only
// after the discoverer has drained. It returns nil after a stop through
// ctx and an error when it cannot start. Run may be called once.
func (b *SQSBridge) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("sqs bridge: Run called twice")
	}
	defer close(b.stopped)
	defer b.failAll(errBridgeStopped, bridgeAbandoned)

	// The producer is idempotent (franz-go's default), so a retried
	// publish does not duplicate an announcement.
	prod, err := kafka.NewClient(b.kcfg, "sqs-bridge", b.logger, b.reg)
	if err != nil {
		return err
	}
	defer prod.Close()
	adm := kadm.NewClient(prod)
	ingested := b.topics.Name(schemas.TopicIngested)
	start, err := b.endOffsets(ctx, adm)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	offsets := make(map[int32]kgo.Offset, len(start))
	for p, o := range start {
		offsets[p] = kgo.NewOffset().At(o)
		b.watching[p] = true
	}
	watch, err := kafka.NewClient(b.kcfg, "sqs-bridge-watch", b.logger, b.reg,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{ingested: offsets}),
		// Only committed markers count: an aborted transaction's
		// marker stands for events that were never committed.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Markers are small; a short wait bounds how late a commit is
		// seen by a broker that does not answer a waiting fetch then.
		kgo.FetchMaxWait(time.Second),
		kgo.FetchMaxBytes(4<<20),
		// Should the start offset vanish (it cannot under compaction
		// alone), reread from the start: the offsets each message
		// listed still keep old markers out, while skipping to the end
		// could lose the markers messages are waiting for.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return err
	}
	defer watch.Close()
	b.prod, b.adm, b.watch = prod, adm, watch
	close(b.ready)
	b.logger.Info("sqs bridge watching ingested markers", "topic", ingested, "partitions", len(start))
	b.watchLoop(ctx)
	// Before the clients close: a message failing on a closed client
	// then counts as abandoned by the stop, not as a publish failure.
	b.failAll(errBridgeStopped, bridgeAbandoned)
	return nil
}

// endOffsets lists the ingested topic's end offsets by partition.
func (b *SQSBridge) endOffsets(ctx context.Context, adm *kadm.Client) (map[int32]int64, error) {
	topic := b.topics.Name(schemas.TopicIngested)
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64)
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("list end offsets of %s: topic has no partitions", topic)
	}
	return out, nil
}

// watchLoop reads markers and expires overdue messages until ctx is done.
func (b *SQSBridge) watchLoop(ctx context.Context) {
	sweep := time.Second
	if b.doneTimeout > 0 {
		sweep = min(sweep, max(b.doneTimeout/4, 10*time.Millisecond))
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, sweep)
		fetches := b.watch.PollRecords(pctx, 1000)
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				b.logger.Warn("ingested marker fetch failed", "topic", topic, "partition", p, "err", err)
			}
		})
		fetches.EachRecord(b.marker)
		if b.doneTimeout > 0 {
			b.expire(b.now())
		}
	}
}

// marker resolves the objects waiting for the ingested marker r.
func (b *SQSBridge) marker(r *kgo.Record) {
	if r.Value == nil { // a tombstone: nothing was ingested
		return
	}
	b.mu.Lock()
	_, waited := b.pending[string(r.Key)]
	b.mu.Unlock()
	if !waited {
		return // most markers: objects other processes announced
	}
	var in schemas.Ingested
	if err := json.Unmarshal(r.Value, &in); err != nil {
		b.logger.Warn("undecodable ingested marker ignored", "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	result := bridgeIngested
	if in.Result != "ok" && in.Result != "digest" {
		result = bridgeDeadLettered
	}
	key := string(r.Key)
	b.mu.Lock()
	defer b.mu.Unlock()
	var finished []*bridgeMsg
	b.dropWaiters(key, func(w *bridgeWaiter) bool {
		if !w.matches(r.Partition, r.Offset, in.ETag) {
			return false
		}
		b.metrics.objects.WithLabelValues(result).Inc()
		b.metrics.pending.Dec()
		w.msg.left--
		if w.msg.left == 0 {
			finished = append(finished, w.msg)
		}
		return true
	})
	// Finished only now: finishing edits the pending lists.
	for _, m := range finished {
		b.finishLocked(m, nil, "")
	}
}

// dropWaiters removes the waiters for key that drop reports true for.
// The caller holds b.mu.
func (b *SQSBridge) dropWaiters(key string, drop func(*bridgeWaiter) bool) {
	ws := b.pending[key]
	kept := ws[:0]
	for i := range ws {
		if !drop(&ws[i]) {
			kept = append(kept, ws[i])
		}
	}
	clear(ws[len(kept):])
	if len(kept) == 0 {
		delete(b.pending, key)
	} else {
		b.pending[key] = kept
	}
}

// matches reports whether a marker at offset of partition with etag
// finishes w's object (see SQSBridge: which marker counts).
func (w *bridgeWaiter) matches(partition int32, offset int64, etag string) bool {
	if w.etag != "" && etag != "" && w.etag != etag {
		return false // another version of the object
	}
	after, ok := w.msg.after[partition]
	// A partition not listed was created since: all of it is newer.
	return !ok || offset >= after
}

// expire fails the messages whose DoneTimeout has passed.
func (b *SQSBridge) expire(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for m := range b.msgs {
		if !m.deadline.IsZero() && !now.Before(m.deadline) {
			b.logger.Warn("sqs message objects not ingested in time", "msg_id", m.msgID, "objects_left", m.left, "done_timeout", b.doneTimeout)
			b.finishLocked(m, fmt.Errorf("objects of sqs message %s not ingested within %s", m.msgID, b.doneTimeout), bridgeTimedOut)
		}
	}
}

// failAll fails every message still waiting; no message is accepted after.
func (b *SQSBridge) failAll(err error, result string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for m := range b.msgs {
		b.finishLocked(m, err, result)
	}
}

// finishLocked ends message m with err (nil: done), counting its objects
// still waiting under result. The caller holds b.mu.
func (b *SQSBridge) finishLocked(m *bridgeMsg, err error, result string) {
	if m.finished {
		return
	}
	m.finished = true
	delete(b.msgs, m)
	for _, key := range m.keys {
		b.dropWaiters(key, func(w *bridgeWaiter) bool { return w.msg == m })
	}
	if m.left > 0 {
		b.metrics.objects.WithLabelValues(result).Add(float64(m.left))
		b.metrics.pending.Sub(float64(m.left))
	}
	if m.stopWatch != nil {
		m.stopWatch()
	}
	if err == nil {
		b.metrics.doneSeconds.Observe(b.now().Sub(m.start).Seconds())
	}
	m.done <- err // buffered, sent once
	<-b.slots
}

// await waits until Run is ready, and fails once it has stopped.
func (b *SQSBridge) await(ctx context.Context) error {
	select {
	case <-b.ready:
	case <-b.stopped:
		return errBridgeStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	if b.isClosed() {
		return errBridgeStopped
	}
	return nil
}

// isClosed reports whether Run has stopped taking messages.
func (b *SQSBridge) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// HandleObjects publishes objs, the objects of queue message msgID, to
// the objects topic and reports through done once every one of them has
// an ingested marker committed after the publication (see SQSBridge). It
// blocks while SQSConfig.MaxInFlight messages are already waited for.
// Listing offsets or publishing fails the message at once; no marker
// within SQSConfig.DoneTimeout, the end of ctx, or the end of Run fail
// it later.
func (b *SQSBridge) HandleObjects(ctx context.Context, msgID string, objs []schemas.Object) <-chan error {
	done := make(chan error, 1)
	if err := b.await(ctx); err != nil {
		done <- err
		return done
	}
	select {
	case b.slots <- struct{}{}:
	case <-b.stopped:
		done <- errBridgeStopped
		return done
	case <-ctx.Done():
		done <- ctx.Err()
		return done
	}
	m := &bridgeMsg{msgID: msgID, start: b.now(), done: done, left: len(objs)}
	if len(objs) == 0 { // nothing to wait for
		b.reject(m, nil, "")
		return done
	}
	after, err := b.listBeforePublish(ctx)
	if err != nil {
		if b.isClosed() { // Run stopped meanwhile and closed its clients
			b.reject(m, errBridgeStopped, bridgeAbandoned)
		} else {
			b.reject(m, err, bridgeFailed)
		}
		return done
	}
	m.after = after
	if !b.register(ctx, m, objs) {
		return done
	}

	records := make([]*kgo.Record, len(objs))
	for i := range objs {
		v, err := json.Marshal(&objs[i])
		if err != nil { // cannot happen for this struct
			b.fail(m, fmt.Errorf("encode object s3://%s/%s: %w", objs[i].Bucket, objs[i].Key, err), bridgeFailed)
			return done
		}
		records[i] = &kgo.Record{Topic: b.topics.Name(schemas.TopicObjects), Key: schemas.ObjectKey(&objs[i]), Value: v}
	}
	// Wait for the acknowledgement: until then a worker may not have the
	// announcement, and the message must not be counted as handed on.
	if err := b.prod.ProduceSync(ctx, records...).FirstErr(); err != nil {
		b.fail(m, fmt.Errorf("publish objects of sqs message %s: %w", msgID, err), bridgeFailed)
		return done
	}
	b.metrics.published.Add(float64(len(objs)))
	b.logger.Debug("sqs message objects published", "msg_id", msgID, "objects", len(objs))
	return done
}

// listBeforePublish lists the ingested topic's end offsets for a message
// about to be published, and has the watcher read any partition added
// since Run started from its listed offset. Every later publication lists
// offsets at least as high, so the watcher misses none of their markers.
func (b *SQSBridge) listBeforePublish(ctx context.Context) (map[int32]int64, error) {
	after, err := b.endOffsets(ctx, b.adm)
	if err != nil {
		return nil, err
	}
	b.watchMu.Lock()
	defer b.watchMu.Unlock()
	added := map[int32]kgo.Offset{}
	for p, o := range after {
		if !b.watching[p] {
			b.watching[p] = true
			added[p] = kgo.NewOffset().At(o)
		}
	}
	if len(added) > 0 {
		b.logger.Info("ingested topic grew; watching its new partitions", "partitions", len(added))
		b.watch.AddConsumePartitions(map[string]map[int32]kgo.Offset{b.topics.Name(schemas.TopicIngested): added})
	}
	return after, nil
}

// reject ends m, which was never registered, with err.
func (b *SQSBridge) reject(m *bridgeMsg, err error, result string) {
	if m.left > 0 {
		b.metrics.objects.WithLabelValues(result).Add(float64(m.left))
	}
	m.done <- err
	<-b.slots
}

// register adds m's objects to the pending set before they are published,
// so that no marker can arrive unseen. It reports false (m is then
// finished) when Run has stopped.
func (b *SQSBridge) register(ctx context.Context, m *bridgeMsg, objs []schemas.Object) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.metrics.pending.Add(float64(len(objs)))
	if b.closed {
		b.finishLocked(m, errBridgeStopped, bridgeAbandoned)
		return false
	}
	if b.doneTimeout > 0 {
		m.deadline = m.start.Add(b.doneTimeout)
	}
	m.keys = make([]string, 0, len(objs))
	for i := range objs {
		key := string(schemas.ObjectKey(&objs[i]))
		m.keys = append(m.keys, key)
		b.pending[key] = append(b.pending[key], bridgeWaiter{msg: m, etag: objs[i].ETag})
	}
	b.msgs[m] = struct{}{}
	// The discoverer stops waiting when ctx ends (abandoning the message
	// at shutdown): stop waiting here too, so the entry does not stay.
	m.stopWatch = context.AfterFunc(ctx, func() { b.fail(m, ctx.Err(), bridgeAbandoned) })
	return true
}

// fail ends m with err unless it has finished already.
func (b *SQSBridge) fail(m *bridgeMsg, err error, result string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finishLocked(m, err, result)
}

// DeadLetterMessage writes queue message msgID, which could not be parsed
// (err, with reason from ReasonOf), to the dead-letter topic as a
// schemas.DeadLetter of the ingest stage, with the message body (cut to
// DeadLetterPayloadBytes) as its payload, and waits for the
// acknowledgement.
func (b *SQSBridge) DeadLetterMessage(ctx context.Context, msgID string, body []byte, reason string, err error) error {
	if werr := b.await(ctx); werr != nil {
		return fmt.Errorf("dead-letter sqs message %s: %w", msgID, werr)
	}
	if reason == "" {
		reason = ReasonBadAnnouncement
	}
	d := schemas.DeadLetter{
		V: 1, Stage: "ingest", Reason: reason, Index: -1, Time: b.now().UTC(),
		Error:   fmt.Sprintf("sqs message %s: %v", msgID, err),
		Payload: body[:min(len(body), b.maxPayload)],
	}
	v, merr := json.Marshal(&d)
	if merr != nil { // cannot happen for this struct
		return fmt.Errorf("dead-letter sqs message %s: %w", msgID, merr)
	}
	r := &kgo.Record{Topic: b.topics.Name(schemas.TopicDLQ), Key: []byte("sqs/" + msgID), Value: v}
	if perr := b.prod.ProduceSync(ctx, r).FirstErr(); perr != nil {
		return fmt.Errorf("dead-letter sqs message %s: %w", msgID, perr)
	}
	return nil
}

// RunWithSQS runs SQS discovery (d, handing objects to b) and, unless w
// is nil, an ingest worker in one process until ctx is done, stopping
// them in the order that loses no work: the discoverer stops receiving
// and drains the messages in flight (the worker still runs and the bridge
// still watches, so they can finish), then the bridge stops, then the
// worker. If any of them fails, the others are stopped in the same order
// and the first error is returned.
func RunWithSQS(ctx context.Context, w *Worker, d *SQSDiscoverer, b *SQSBridge) error {
	discoverCtx, stopDiscovery := context.WithCancel(ctx)
	defer stopDiscovery()
	bridgeCtx, stopBridge := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBridge()
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorker()

	var g errgroup.Group
	if w != nil {
		g.Go(func() error {
			defer stopDiscovery()
			return w.Run(workerCtx)
		})
	}
	g.Go(func() error {
		defer stopWorker()
		defer stopDiscovery()
		return b.Run(bridgeCtx)
	})
	g.Go(func() error {
		defer stopBridge()
		return d.Run(discoverCtx)
	})
	return g.Wait()
}
