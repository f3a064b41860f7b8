// Package ingest is the first stage of trailwatch: it reads the S3 log
// objects announced on the objects topic (CloudTrail logs, digests and
// Insights files, VPC flow logs as text or Apache Parquet), decodes them as
// streams, and produces one normalised schemas.Event per record to the
// events topic.
//
// Objects are discovered three ways, all ending on the objects topic: S3
// event notifications through SQS (plain, SNS-wrapped or EventBridge),
// notifications already on Kafka (MinIO, or any producer of S3 event JSON),
// and a listing backfill.
//
// Guarantees: an object's events, its dead-letter records and the commit of
// its objects-topic offset are written in one Kafka transaction, so a
// read_committed consumer sees every event of an object exactly once, even
// when workers die mid-object. Memory is bounded by configuration whatever
// the object's size: objects are streamed, never held whole (a Parquet
// object, which is read from its end, through ranged requests and a page
// at a time). A bad record goes to the dead-letter topic with its reason
// and the rest of the object goes on; a bad object goes to the dead-letter
// topic and the rest of the stream goes on.
package ingest
