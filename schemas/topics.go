package schemas

// Topic names, relative to a configurable prefix (TopicNames). Each arrow
// between stages is one of these topics.
const (
	// TopicObjects carries Object announcements, keyed by bucket/key.
	TopicObjects = "objects"
	// TopicEvents carries normalised Events from ingest, keyed by PartitionKey.
	TopicEvents = "events"
	// TopicEnriched carries Events with Enrichment, keyed like TopicEvents.
	TopicEnriched = "enriched"
	// TopicDetections carries Detections, keyed by dedup key.
	TopicDetections = "detections"
	// TopicDLQ carries DeadLetter records from every stage.
	TopicDLQ = "dlq"
	// TopicDigests carries CloudTrail digest Objects for integrity checks.
	TopicDigests = "digests"
	// TopicSources is a compacted topic of source heartbeats: when each
	// (account, region, kind) last delivered.
	TopicSources = "sources"
	// TopicDetectState is the compacted changelog of detect state.
	TopicDetectState = "detect-state"
	// TopicIngested is a compacted topic of the objects ingest has
	// finished, keyed by bucket/key and written in the same transaction as
	// the objects' events: the set backfill reconciles against.
	TopicIngested = "ingested"
)

// AllTopics lists every topic the pipeline uses, in flow order.
var AllTopics = []string{
	TopicObjects, TopicEvents, TopicEnriched, TopicDetections,
	TopicDLQ, TopicDigests, TopicSources, TopicDetectState, TopicIngested,
}

// TopicNames maps the logical topic names to real ones under a prefix
// ("trailwatch." by default), so several pipelines can share a cluster.
type TopicNames struct {
	Prefix string
}

// Name returns the full name of a logical topic.
func (n TopicNames) Name(topic string) string { return n.Prefix + topic }

// PartitionKey returns the key an event is produced with on the events and
// enriched topics: the principal for CloudTrail, so that one detect worker
// holds all state for an identity, and the source address for flows, so
// that one worker sees every connection a host makes.
func PartitionKey(e *Event) []byte { return AppendPartitionKey(nil, e) }

// AppendPartitionKey appends e's partition key (see PartitionKey) to dst,
// for producers that reuse key buffers. The key is never nil, even when
// empty: a nil key would let the producer pick any partition.
func AppendPartitionKey(dst []byte, e *Event) []byte {
	if dst == nil {
		dst = []byte{}
	}
	switch e.Source {
	case SourceVPCFlow:
		if e.Flow != nil && e.Flow.SrcAddr != "" {
			return append(dst, e.Flow.SrcAddr...)
		}
		// NODATA and SKIPDATA records carry no address; key by interface
		// so they spread but stay ordered per interface.
		if e.Flow != nil {
			return append(dst, e.Flow.InterfaceID...)
		}
	case SourceCloudTrail:
		if e.Principal != "" {
			return append(dst, e.Principal...)
		}
	}
	return append(dst, e.AccountID...)
}

// ObjectKey returns the key an Object announcement is produced with.
func ObjectKey(o *Object) []byte { return []byte(o.Bucket + "/" + o.Key) }
