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
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas"
)

// Worker is one ingest worker: a member of the ingest consumer group on the
// objects topic, turning each announced object into events in one Kafka
// transaction per batch of objects.
//
// Goroutines: Run owns the poll loop; for each batch it starts at most
// Config.Concurrency object goroutines and waits for all of them before it
// ends the transaction. The producer's own goroutines belong to the
// session, which Run closes on return.
type Worker struct {
	cfg     Config
	kcfg    kafka.Config
	topics  schemas.TopicNames
	s3      ObjectGetter
	logger  *slog.Logger
	reg     prometheus.Registerer
	metrics *metrics
	now     func() time.Time

	// decoders holds per-goroutine decoding state (stream windows,
	// decompressors, string tables), reused across objects.
	decoders sync.Pool
	// records holds event records (and their key and value buffers) the
	// producer is done with, for the next events: at hundreds of
	// thousands of events a second, allocating each anew is a good part
	// of the garbage collector's work.
	records sync.Pool

	// sess is the running session, for Ready; nil before Run and after.
	sess atomic.Pointer[kgo.GroupTransactSession]
}

// errNotRunning is what Ready reports before Run has a session.
var errNotRunning = errors.New("ingest worker is not running")

// Ready reports whether the worker is running and its broker answers: the
// admin server's /readyz check. It is safe to call from any goroutine.
func (w *Worker) Ready(ctx context.Context) error {
	sess := w.sess.Load()
	if sess == nil {
		return errNotRunning
	}
	if err := sess.Client().Ping(ctx); err != nil {
		return fmt.Errorf("ping kafka: %w", err)
	}
	return nil
}

// New returns a worker. s3 reads the objects; reg may be nil.
func New(cfg Config, kcfg kafka.Config, topics schemas.TopicNames, s3 ObjectGetter, logger *slog.Logger, reg prometheus.Registerer) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Worker{
		cfg: cfg, kcfg: kcfg, topics: topics, s3: s3, logger: logger, reg: reg,
		metrics: newMetrics(reg), now: time.Now,
	}
	w.decoders.New = func() any { return newDecodeState(cfg.Limits) }
	return w, nil
}

// decodeState is what one object goroutine needs to decode.
type decodeState struct {
	stream *Stream
	ct     *CloudTrailDecoder
}

func newDecodeState(lim Limits) *decodeState {
	return &decodeState{stream: NewStream(lim), ct: NewCloudTrailDecoder(lim)}
}

// Run consumes the objects topic until ctx is done. It returns nil on a
// clean stop, after the open transaction (if any) has been aborted and the
// group left, so another worker takes over without waiting.
func (w *Worker) Run(ctx context.Context) error {
	codec, _ := compressionCodec(w.cfg.Compression)
	sess, err := kafka.NewGroupTransactSession(w.kcfg, "ingest", w.logger, w.reg,
		kgo.ConsumerGroup(w.cfg.Group),
		kgo.ConsumeTopics(w.topics.Name(schemas.TopicObjects)),
		kgo.TransactionalID(w.cfg.transactionalID()),
		kgo.TransactionTimeout(w.cfg.TransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.MaxBufferedRecords(w.cfg.MaxBufferedRecords),
		kgo.ProducerLinger(w.cfg.Linger),
		kgo.ProducerBatchCompression(codec),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RebalanceTimeout(w.cfg.RebalanceTimeout),
		kgo.SessionTimeout(w.cfg.SessionTimeout),
	)
	if err != nil {
		return err
	}
	defer sess.Close()
	w.sess.Store(sess)
	defer w.sess.Store(nil)
	// Initialise the transactional producer now, not at the first batch:
	// doing so fences a dead predecessor with the same transactional id and
	// aborts its open transaction. Until then its pending offset commit
	// keeps the group's offsets unstable, and the first fetch would wait
	// for the broker to time the transaction out.
	if _, _, err := sess.Client().ProducerID(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("init transactional producer: %w", err)
	}

	backoff := w.cfg.RetryBackoff
	for {
		fetches := sess.PollRecords(ctx, w.cfg.MaxObjectsPerTransaction)
		if ctx.Err() != nil {
			return nil
		}
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			w.logger.Warn("fetch failed", "topic", topic, "partition", p, "err", err)
		})
		records := fetches.Records()
		if len(records) == 0 {
			continue
		}
		committed, err := w.transact(ctx, sess, records)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			w.metrics.transactions.WithLabelValues("aborted").Inc()
			w.logger.Warn("batch aborted, retrying", "objects", len(records), "backoff", backoff, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, w.cfg.MaxRetryBackoff)
		case !committed:
			// A rebalance took partitions away mid-batch: the new owner
			// reads these objects again from the committed offsets.
			w.metrics.transactions.WithLabelValues("rebalanced").Inc()
			w.logger.Info("batch not committed after a rebalance", "objects", len(records))
		default:
			w.metrics.transactions.WithLabelValues("committed").Inc()
			backoff = w.cfg.RetryBackoff
		}
	}
}

// batch is the state of one transaction.
type batch struct {
	w    *Worker
	sess *kgo.GroupTransactSession
	ctx  context.Context

	produceErr atomic.Pointer[error]

	mu      sync.Mutex
	sources map[string]*schemas.SourceHeartbeat
}

// transact processes records (objects-topic records) in one transaction.
// It returns committed=false with a nil error when a rebalance aborted the
// transaction, and an error (after aborting) when something retryable
// failed: the records are then read again from the committed offsets.
func (w *Worker) transact(ctx context.Context, sess *kgo.GroupTransactSession, records []*kgo.Record) (bool, error) {
	start := time.Now()
	if err := sess.Begin(); err != nil {
		return false, fmt.Errorf("begin transaction: %w", err)
	}
	b := &batch{w: w, sess: sess, ctx: ctx, sources: map[string]*schemas.SourceHeartbeat{}}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.cfg.Concurrency)
	objects := 0
	for _, rec := range records {
		objs, err := ParseNotification(rec.Value)
		if err != nil {
			b.deadLetter(&schemas.DeadLetter{
				Reason: ReasonBadAnnouncement, Error: err.Error(), Index: -1,
				Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Payload: rec.Value,
			})
			continue
		}
		for i := range objs {
			obj := &objs[i]
			if obj.Via == "" {
				obj.Via = "kafka"
			}
			objects++
			g.Go(func() error { return b.object(gctx, obj) })
		}
	}
	err := g.Wait()
	if err == nil {
		b.heartbeats()
		// Flush before looking at produce errors: a record that failed
		// after being handed over must abort the transaction, never be
		// left out of a commit.
		err = sess.Client().Flush(ctx)
	}
	if err == nil {
		if perr := b.produceErr.Load(); perr != nil {
			err = *perr
		}
	}
	if err != nil {
		if _, aerr := sess.End(context.WithoutCancel(ctx), kgo.TryAbort); aerr != nil {
			w.logger.Warn("abort transaction failed", "err", aerr)
		}
		return false, err
	}
	committed, err := sess.End(ctx, kgo.TryCommit)
	if err != nil {
		return false, fmt.Errorf("commit transaction: %w", err)
	}
	if committed {
		w.logger.Debug("transaction committed", "records", len(records), "objects", objects, "duration", time.Since(start))
	}
	return committed, nil
}

// produce sends r in the transaction; the first failure aborts the batch.
// ctx must live until the transaction ends (the batch's context), or
// records still waiting for metadata fail when it is cancelled.
func (b *batch) produce(ctx context.Context, r *kgo.Record) {
	b.sess.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			b.produceErr.CompareAndSwap(nil, &err)
		}
	})
}

// deadLetter produces d to the dead-letter topic in the transaction.
func (b *batch) deadLetter(d *schemas.DeadLetter) {
	d.V, d.Stage, d.Time = 1, "ingest", b.w.now().UTC()
	if max := b.w.cfg.DeadLetterPayloadBytes; len(d.Payload) > max {
		d.Payload = d.Payload[:max]
	}
	v, err := json.Marshal(d)
	if err != nil { // cannot happen for this struct; keep the reason at least
		v = []byte(`{"v":1,"stage":"ingest","reason":"` + d.Reason + `"}`)
	}
	b.w.metrics.deadLetters.WithLabelValues(d.Reason).Inc()
	b.produce(b.ctx, &kgo.Record{Topic: b.w.topics.Name(schemas.TopicDLQ), Key: []byte(d.Bucket + "/" + d.Key), Value: v})
}

// object reads one object into the transaction. A permanent failure goes to
// the dead-letter topic and returns nil; a retryable one returns an error,
// which aborts the batch.
func (b *batch) object(ctx context.Context, obj *schemas.Object) error {
	w := b.w
	start := time.Now()
	if obj.Kind == "" {
		ki := ClassifyKey(obj.Key)
		obj.Kind, obj.AccountID, obj.Region = ki.Kind, ki.AccountID, ki.Region
		if obj.Time.IsZero() {
			obj.Time = ki.Time
		}
	}
	done := func(result string, events, bad int64) {
		w.metrics.objects.WithLabelValues(string(obj.Kind), result).Inc()
		w.metrics.objectSeconds.Observe(time.Since(start).Seconds())
		v, _ := json.Marshal(&schemas.Ingested{V: 1, Bucket: obj.Bucket, Key: obj.Key, ETag: obj.ETag,
			Events: events, BadRecords: bad, Result: result, Time: w.now().UTC()})
		b.produce(b.ctx, &kgo.Record{Topic: w.topics.Name(schemas.TopicIngested), Key: schemas.ObjectKey(obj), Value: v})
	}
	objectDLQ := func(reason string, err error) {
		b.deadLetter(&schemas.DeadLetter{Reason: reason, Error: err.Error(), Bucket: obj.Bucket, Key: obj.Key, Index: -1})
		done(reason, 0, 0)
	}

	switch obj.Kind {
	case schemas.ObjectCloudTrail, schemas.ObjectCloudTrailInsights, schemas.ObjectVPCFlow:
	case schemas.ObjectCloudTrailDigest:
		v, _ := json.Marshal(obj)
		b.produce(b.ctx, &kgo.Record{Topic: w.topics.Name(schemas.TopicDigests), Key: schemas.ObjectKey(obj), Value: v})
		done("digest", 0, 0)
		return nil
	case schemas.ObjectVPCFlowParquet:
		return b.parquetObject(ctx, obj, done, objectDLQ)
	default:
		objectDLQ(ReasonUnknownKind, fmt.Errorf("key %q is not a CloudTrail or VPC flow log object", obj.Key))
		return nil
	}

	body, err := openObject(ctx, w.s3, obj, w.cfg.MaxResumes)
	if err != nil {
		return b.s3Failure(obj, err, objectDLQ)
	}
	defer body.Close()

	st := w.decoders.Get().(*decodeState)
	defer w.decoders.Put(st)
	em := &emitter{b: b, obj: obj, ctx: ctx}
	info := ObjectInfo{Bucket: obj.Bucket, Key: obj.Key, Kind: obj.Kind, AccountID: obj.AccountID, Region: obj.Region, Now: w.now().UTC()}
	err = st.stream.Reset(body)
	if err == nil {
		if obj.Kind == schemas.ObjectVPCFlow {
			err = DecodeFlow(st.stream, info, w.cfg.Limits, em)
		} else {
			err = st.ct.Decode(st.stream, info, em)
		}
	}
	return b.decoded(obj, em, done, start, st.stream.CompressedBytes(), st.stream.DecompressedBytes(), err)
}

// decoded ends an object whose decoding has run, text or Parquet: it
// counts the bytes read, then, when the decode failed, returns a
// retryable S3 error, or one without a reason (the producer's), which
// aborts the batch, or dead-letters a permanent one, keeping the events
// read before it; otherwise it counts the events. Either way a kept object
// gets its done-marker and heartbeat. logAttrs are added to the object's
// debug line.
func (b *batch) decoded(obj *schemas.Object, em *emitter, done func(result string, events, bad int64), start time.Time, compressed, decompressed int64, err error, logAttrs ...any) error {
	w := b.w
	w.metrics.compressedBytes.Add(float64(compressed))
	w.metrics.decompressedBytes.Add(float64(decompressed))
	result := "ok"
	if err != nil {
		var s3err *S3Error
		if errors.As(err, &s3err) && !s3err.Permanent() {
			return err
		}
		result = ReasonOf(err)
		if s3err != nil {
			result = s3err.Reason
		}
		if result == "" {
			return err
		}
		b.deadLetter(&schemas.DeadLetter{Reason: result, Error: err.Error(), Bucket: obj.Bucket, Key: obj.Key, Index: -1})
	} else {
		w.metrics.events.WithLabelValues(kindSource(obj.Kind)).Add(float64(em.events))
	}
	done(result, em.events, em.bad)
	b.heartbeat(obj, em.events)
	if err == nil {
		w.logger.Debug("object ingested", append([]any{"bucket", obj.Bucket, "key", obj.Key, "events", em.events,
			"bad_records", em.bad, "duration", time.Since(start)}, logAttrs...)...)
	}
	return nil
}

// s3Failure sends a permanently unreadable object to the dead-letter topic
// and returns nil, or returns a retryable error.
func (b *batch) s3Failure(obj *schemas.Object, err error, objectDLQ func(string, error)) error {
	var s3err *S3Error
	if errors.As(err, &s3err) && s3err.Permanent() {
		objectDLQ(s3err.Reason, err)
		return nil
	}
	return err
}

func kindSource(k schemas.ObjectKind) string {
	if k == schemas.ObjectVPCFlow || k == schemas.ObjectVPCFlowParquet {
		return schemas.SourceVPCFlow.String()
	}
	return schemas.SourceCloudTrail.String()
}

// heartbeat notes a delivery of obj's source for the sources topic.
func (b *batch) heartbeat(obj *schemas.Object, events int64) {
	if obj.AccountID == "" {
		return
	}
	key := string(schemas.SourceKey(obj.AccountID, obj.Region, obj.Kind))
	now := b.w.now().UTC()
	b.mu.Lock()
	defer b.mu.Unlock()
	hb := b.sources[key]
	if hb == nil {
		hb = &schemas.SourceHeartbeat{V: 1, AccountID: obj.AccountID, Region: obj.Region, Kind: obj.Kind}
		b.sources[key] = hb
	}
	if obj.Time.After(hb.LastDelivery) {
		hb.LastDelivery = obj.Time.UTC()
	}
	hb.LastIngest = now
	hb.Objects++
	hb.Events += events
}

// heartbeats produces the batch's source heartbeats.
func (b *batch) heartbeats() {
	for key, hb := range b.sources {
		v, _ := json.Marshal(hb)
		b.produce(b.ctx, &kgo.Record{Topic: b.w.topics.Name(schemas.TopicSources), Key: []byte(key), Value: v})
	}
}

// emitter produces one object's events into the batch's transaction.
type emitter struct {
	b      *batch
	obj    *schemas.Object
	ctx    context.Context
	events int64
	bad    int64
}

func (e *emitter) Event(ev *schemas.Event) error {
	if p := e.b.produceErr.Load(); p != nil {
		return *p
	}
	ev.Object.Bucket, ev.Object.Key = e.obj.Bucket, e.obj.Key
	r, _ := e.b.w.records.Get().(*kgo.Record)
	if r == nil {
		r = &kgo.Record{}
	}
	r.Topic = e.b.w.topics.Name(schemas.TopicEvents)
	r.Key = schemas.AppendPartitionKey(r.Key[:0], ev)
	r.Value = schemas.MarshalEvent(r.Value[:0], ev)
	// Produce with the batch's context: the object's own context ends
	// when the batch's goroutines are done, before the flush.
	e.b.sess.Produce(e.b.ctx, r, e.b.eventProduced)
	e.events++
	return e.ctx.Err()
}

// maxRecycledValue is the largest value buffer kept for reuse, so one huge
// event does not pin its buffer.
const maxRecycledValue = 64 << 10

// eventProduced is the promise of an event record: it notes a failure for
// the batch and recycles the record, which the producer no longer uses
// once its promise is called.
func (b *batch) eventProduced(r *kgo.Record, err error) {
	if err != nil {
		b.produceErr.CompareAndSwap(nil, &err)
	}
	if cap(r.Value) > maxRecycledValue {
		return
	}
	*r = kgo.Record{Key: r.Key[:0], Value: r.Value[:0]}
	b.w.records.Put(r)
}

func (e *emitter) BadRecord(index int64, err *DecodeError, payload []byte) error {
	e.bad++
	e.b.deadLetter(&schemas.DeadLetter{
		Reason: err.Reason, Error: err.Error(), Bucket: e.obj.Bucket, Key: e.obj.Key,
		Index: index, Payload: append([]byte(nil), payload[:min(len(payload), e.b.w.cfg.DeadLetterPayloadBytes)]...),
	})
	return e.ctx.Err()
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none", "":
		return kgo.NoCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("%q is not one of none, lz4, zstd, snappy, gzip", name)
}
