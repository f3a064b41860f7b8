package schemas

import "time"

// ObjectKind classifies an S3 object by its key.
type ObjectKind string

// The object kinds ingest knows. Anything else is ObjectUnknown and goes to
// the dead-letter topic.
const (
	ObjectCloudTrail         ObjectKind = "cloudtrail"
	ObjectCloudTrailDigest   ObjectKind = "cloudtrail-digest"
	ObjectCloudTrailInsights ObjectKind = "cloudtrail-insights"
	ObjectVPCFlow            ObjectKind = "vpcflow"
	ObjectVPCFlowParquet     ObjectKind = "vpcflow-parquet"
	ObjectUnknown            ObjectKind = "unknown"
)

// Object announces one S3 object to ingest. It is the value of a record on
// the objects topic, encoded as JSON (objects are few and humans read
// them), keyed by bucket/key.
type Object struct {
	// V is the record version; see ObjectVersion.
	V      int    `json:"v"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag,omitempty"`
	// VersionID pins the object version when the bucket is versioned.
	VersionID string     `json:"version_id,omitempty"`
	Kind      ObjectKind `json:"kind"`
	AccountID string     `json:"account_id,omitempty"`
	Region    string     `json:"region,omitempty"`
	// Time is the delivery time encoded in the key, or the object's
	// last-modified time.
	Time time.Time `json:"time"`
	// Via names the discovery path: "sqs", "kafka", "backfill".
	Via string `json:"via,omitempty"`
}

// ObjectVersion is the current version of the Object record.
const ObjectVersion = 1

// DeadLetter is the value of a record on the dead-letter topic: something a
// stage could not process, with why, so that nothing is dropped silently.
type DeadLetter struct {
	V int `json:"v"`
	// Stage is the stage that gave up (ingest, enrich, detect, sink).
	Stage string `json:"stage"`
	// Reason is a short, stable, machine-readable cause (gzip_corrupt,
	// not_json, decompression_limit, access_denied, ...).
	Reason string `json:"reason"`
	// Error is the full error text.
	Error  string `json:"error"`
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
	// Index is the record's position in the object, when one record of an
	// otherwise good object was bad; -1 for the whole object.
	Index int64 `json:"index"`
	// Topic, Partition and Offset locate the input record, when there was one.
	Topic     string `json:"topic,omitempty"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	// Payload is the bad input, cut to a bounded size.
	Payload []byte    `json:"payload,omitempty"`
	Time    time.Time `json:"time"`
}

// SourceHeartbeat is the value of a record on the compacted sources topic,
// keyed by SourceKey: when a log source (one account, region and object
// kind) last delivered. Later stages and dashboards tell a silent source
// (no delivery for longer than its usual gap) from a quiet one from it.
type SourceHeartbeat struct {
	V         int        `json:"v"`
	AccountID string     `json:"account_id"`
	Region    string     `json:"region"`
	Kind      ObjectKind `json:"kind"`
	// LastDelivery is the newest delivery time seen (from the object key).
	LastDelivery time.Time `json:"last_delivery"`
	// LastIngest is when ingest last finished an object of this source.
	LastIngest time.Time `json:"last_ingest"`
	// Objects and Events count what the reporting transaction added.
	Objects int64 `json:"objects"`
	Events  int64 `json:"events"`
}

// SourceKey returns the sources-topic key of a heartbeat.
func SourceKey(accountID, region string, kind ObjectKind) []byte {
	return []byte(accountID + "/" + region + "/" + string(kind))
}

// Ingested is the value of a record on the compacted ingested topic, keyed
// by ObjectKey: one object ingest has finished.
type Ingested struct {
	V      int    `json:"v"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag,omitempty"`
	// Events and BadRecords count what the object held.
	Events     int64 `json:"events"`
	BadRecords int64 `json:"bad_records"`
	// Result is "ok", or the dead-letter reason of a bad object.
	Result string    `json:"result"`
	Time   time.Time `json:"time"`
}
