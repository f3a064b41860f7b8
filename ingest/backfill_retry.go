package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Retrying failed objects (BackfillConfig.RetryFailed).
//
// Ingest writes a done-marker for every object it finishes, and a
// dead-lettered object is finished too: its marker's Result is the
// dead-letter reason. That keeps a backfill from announcing an object
// ingest has already given up on, which is right until the cause is
// fixed: a bucket policy or a KMS key grant that denied the read
// (access_denied), an object restored after it was read as missing
// (object_missing), a format ingest learned to decode (unsupported_format).
// A retrying backfill then announces again the objects whose latest
// marker is a failure, optionally only for some reasons.
//
// The hard part is not announcing such an object twice: a retry run that
// is interrupted and run again, or simply run twice, finds its own
// announcements on the objects topic, and must tell them from the
// announcement ingest already read when it failed. An announcement is a
// retry still pending when it came after the latest failure marker:
//
//   - a retry announced by a backfill carries the failure marker it
//     retries (partition and offset on the ingested topic) in a record
//     header, so it is pending exactly while that marker is the key's
//     latest; once ingest fails it again, the new marker supersedes it.
//     Offsets never depend on clocks.
//   - any other announcement (S3 notification, SQS discovery, an older
//     trailwatch) is pending when its record timestamp is later than the
//     marker's. Clocks of the hosts that produced the two records are
//     compared here; a skew larger than the time ingest takes to fail an
//     object could misjudge it, which is why backfill's own retries do not
//     rely on it.
//
// Both need the key's latest marker before its announcements are judged,
// so a retrying run reads the ingested topic to its end first, then the
// objects topic (a plain run reads both at once).

// retryHeader is the record header of a retry announcement. Its value is
// "<partition>/<offset>" of the failure marker retried on the ingested
// topic.
const retryHeader = "trailwatch-retry-of"

// failure is a key's latest done-marker when that marker is a failure.
type failure struct {
	// reason is the marker's Result, interned (see backfillRun.intern).
	reason string
	// partition and offset locate the marker on the ingested topic.
	partition int32
	offset    int64
	// at is the marker's record timestamp, in Unix milliseconds.
	at int64
}

// okMarker is how a successful marker's result is encoded: the fast path
// of markerFailure. A JSON string cannot hold it unescaped, so it cannot
// come from the bucket or key fields.
var okMarker = []byte(`"result":"ok"`)

// markerFailure returns the dead-letter reason of a done-marker (an
// Ingested JSON value), or "" when the object was finished without one
// ("ok", "digest"). A value that does not decode counts as finished, as
// it always has: a backfill that cannot tell must not announce again.
func markerFailure(value []byte) string {
	if bytes.Contains(value, okMarker) {
		return ""
	}
	var m struct {
		Result string `json:"result"`
	}
	if json.Unmarshal(value, &m) != nil {
		return ""
	}
	switch m.Result {
	case "", "ok", "digest":
		return ""
	}
	return m.Result
}

// retryHeaderValue returns the retryHeader value naming f's marker.
func retryHeaderValue(f failure) []byte {
	return fmt.Appendf(nil, "%d/%d", f.partition, f.offset)
}

// parseRetryHeader parses a retryHeader value.
func parseRetryHeader(v []byte) (partition int32, offset int64, ok bool) {
	p, o, found := strings.Cut(string(v), "/")
	if !found {
		return 0, 0, false
	}
	pn, err1 := strconv.ParseInt(p, 10, 32)
	on, err2 := strconv.ParseInt(o, 10, 64)
	if err1 != nil || err2 != nil || pn < 0 || on < 0 {
		return 0, 0, false
	}
	return int32(pn), on, true
}

// announcedAfter reports whether the objects-topic record rec announced
// its object after the failure marker f, that is, whether a retry of it is
// already pending. A retry header that names another marker, or that does
// not parse, retried an earlier failure: that announcement was read.
func announcedAfter(rec *kgo.Record, f failure) bool {
	for _, h := range rec.Headers {
		if h.Key == retryHeader {
			p, o, ok := parseRetryHeader(h.Value)
			return ok && p == f.partition && o == f.offset
		}
	}
	return rec.Timestamp.UnixMilli() > f.at
}

// objectReasons are the dead-letter reasons a done-marker can carry, the
// values BackfillConfig.RetryReasons accepts: a typo there would retry
// nothing, so it is refused. ReasonBadAnnouncement is not one: an
// announcement that does not parse names no object to mark.
// TestObjectReasonsComplete checks that every reason errors.go declares is
// here.
var objectReasons = []string{
	ReasonGzipCorrupt, ReasonDecompressionLimit, ReasonNotJSON, ReasonTooDeep,
	ReasonRecordTooLarge, ReasonNotCloudTrail, ReasonEmptyObject, ReasonFlowNoHeader,
	ReasonFlowBadRecord, ReasonUnknownKind, ReasonObjectMissing, ReasonAccessDenied,
	ReasonS3Error, ReasonUnsupportedFormat, ReasonBadParquet, ReasonParquetLimit,
}

// reasonCounts counts by dead-letter reason; it is safe for concurrent
// use. Reasons come from done-markers, a small fixed set.
type reasonCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *reasonCounts) add(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int64{}
	}
	c.m[reason]++
}

// snapshot returns a copy of the counts, nil when there are none.
func (c *reasonCounts) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) == 0 {
		return nil
	}
	return maps.Clone(c.m)
}

// formatCounts writes counts as "a 3, b 1", sorted by name, for progress
// lines and summaries.
func formatCounts(counts map[string]int64) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(counts)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, counts[k])
	}
	return b.String()
}
