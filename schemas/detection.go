package schemas

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Severity ranks a detection for routing. The numeric values are part of
// the wire format.
type Severity uint8

// Severities, lowest first.
const (
	SeverityInfo     Severity = 1
	SeverityLow      Severity = 2
	SeverityMedium   Severity = 3
	SeverityHigh     Severity = 4
	SeverityCritical Severity = 5
)

// String returns the severity's lowercase name.
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	default:
		return "unknown"
	}
}

// ParseSeverity is the inverse of Severity.String; ok is false for a name
// it does not know.
func ParseSeverity(s string) (sev Severity, ok bool) {
	for v := SeverityInfo; v <= SeverityCritical; v++ {
		if v.String() == s {
			return v, true
		}
	}
	return 0, false
}

// Entity is what a detection is about.
type Entity struct {
	Principal string
	IP        string
	AccountID string
}

// Detection is the value of a record on the detections topic.
//
// Its ID is derived from the rule, the dedup key and the window it fired
// in (DetectionID), so replaying the same input produces the same
// detection and every write of it downstream is idempotent.
type Detection struct {
	ID       string
	RuleID   string
	Title    string
	Severity Severity
	// Techniques lists MITRE ATT&CK technique ids (T1110, T1562.008).
	Techniques []string
	Entity     Entity
	// FirstEventTime and LastEventTime bound the evidence in event time.
	FirstEventTime time.Time
	LastEventTime  time.Time
	// EvidenceIDs are the event ids that made the rule fire, oldest first.
	EvidenceIDs []string
	// DedupKey groups repeats of the same finding; the pager suppresses a
	// key it has paged within its dedup window.
	DedupKey string
	// Summary is one human sentence for the page.
	Summary string
	// Fields carries rule-specific context (counts, bucket names, ...).
	Fields map[string]string
	// DetectedTime is when the detect worker emitted the detection. It is
	// informational and not part of the ID.
	DetectedTime time.Time
}

// DetectionID returns the deterministic id of the detection that rule
// ruleID raises for dedupKey in the window starting at windowStart.
func DetectionID(ruleID, dedupKey string, windowStart time.Time) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(dedupKey))
	h.Write([]byte{0})
	var ts [8]byte
	n := windowStart.UTC().UnixNano()
	for i := range ts {
		ts[i] = byte(n >> (56 - 8*i))
	}
	h.Write(ts[:])
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
