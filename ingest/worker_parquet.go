package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// parquetObject reads a VPC flow log object delivered as Parquet into the
// batch's transaction, as (*batch).object does a text one: the same
// emitter, done-marker, heartbeat and dead letters. A Parquet file is read
// from its end, so the object is read through an s3ReaderAt (ranged GETs)
// rather than streamed. done and objectDLQ are object's. A permanent
// failure goes to the dead-letter topic and returns nil; a retryable one
// returns an error, which aborts the batch.
func (b *batch) parquetObject(ctx context.Context, obj *schemas.Object, done func(result string, events, bad int64), objectDLQ func(reason string, err error)) error {
	w := b.w
	start := time.Now()
	ra, err := openS3ReaderAt(ctx, w.s3, obj, w.cfg.MaxResumes)
	if err != nil {
		return b.s3Failure(obj, err, objectDLQ)
	}
	em := &emitter{b: b, obj: obj, ctx: ctx}
	info := ObjectInfo{Bucket: obj.Bucket, Key: obj.Key, Kind: obj.Kind, AccountID: obj.AccountID, Region: obj.Region, Now: w.now().UTC()}
	// A decoder per object: its buffers are sized by the file, and a
	// Parquet object is large enough that reusing them saves little.
	dec := NewFlowParquetDecoder(w.cfg.Limits)
	err = dec.Decode(ra, ra.Size(), info, em)
	w.metrics.compressedBytes.Add(float64(ra.BytesFetched()))
	w.metrics.decompressedBytes.Add(float64(dec.DecompressedBytes()))
	if err != nil {
		return b.decodeFailure(obj, err, em, done)
	}
	w.metrics.events.WithLabelValues(schemas.SourceVPCFlow.String()).Add(float64(em.events))
	done("ok", em.events, em.bad)
	b.heartbeat(obj, em.events)
	w.logger.Debug("object ingested", "bucket", obj.Bucket, "key", obj.Key, "events", em.events,
		"bad_records", em.bad, "requests", ra.Requests(), "duration", time.Since(start))
	return nil
}

// decodeFailure handles an object whose decoding failed after em emitted
// some of it, as object does for text objects: a retryable S3 error, or
// one without a reason (the producer's), returns the error, which aborts
// the batch; a permanent one goes to the dead-letter topic, keeping the
// events read before it, and returns nil.
func (b *batch) decodeFailure(obj *schemas.Object, err error, em *emitter, done func(result string, events, bad int64)) error {
	var s3err *S3Error
	if errors.As(err, &s3err) && !s3err.Permanent() {
		return err
	}
	reason := ReasonOf(err)
	if s3err != nil {
		reason = s3err.Reason
	}
	if reason == "" {
		return err
	}
	b.deadLetter(&schemas.DeadLetter{Reason: reason, Error: err.Error(), Bucket: obj.Bucket, Key: obj.Key, Index: -1})
	done(reason, em.events, em.bad)
	b.heartbeat(obj, em.events)
	return nil
}
