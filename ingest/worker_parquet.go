package ingest

import (
	"context"
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
	return b.decoded(obj, em, done, start, ra.BytesFetched(), dec.DecompressedBytes(), err, "requests", ra.Requests())
}
