package schemas

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// MarshalDetection appends the wire encoding of d to dst and returns the
// extended slice: the tag WireDetectionV1, the length, then d as the
// protobuf message trailwatch.v1.Detection of detection.proto. It does not
// allocate when dst has the capacity and d.Fields has at most 32 keys.
//
// The encoding is deterministic (Fields is written sorted by key), so the
// same detection raised again encodes to the same bytes. Empty and nil
// collections are the same on the wire; times are Unix nanoseconds.
func MarshalDetection(dst []byte, d *Detection) []byte {
	dst, start := appendFrameStart(dst, WireDetectionV1)
	dst = appendString(dst, 1, d.ID)
	dst = appendString(dst, 2, d.RuleID)
	dst = appendString(dst, 3, d.Title)
	dst = appendUint(dst, 4, uint64(d.Severity))
	for _, t := range d.Techniques {
		dst = appendStringElem(dst, 5, t)
	}
	if d.Entity != (Entity{}) {
		dst = appendEntity(dst, 6, &d.Entity)
	}
	dst = appendTime(dst, 7, d.FirstEventTime)
	dst = appendTime(dst, 8, d.LastEventTime)
	for _, id := range d.EvidenceIDs {
		dst = appendStringElem(dst, 9, id)
	}
	dst = appendString(dst, 10, d.DedupKey)
	dst = appendString(dst, 11, d.Summary)
	dst = appendStringMap(dst, 12, d.Fields)
	dst = appendTime(dst, 13, d.DetectedTime)
	return finishLen(dst, start, frameLenReserve)
}

// appendStringElem writes s even when it is empty: an element of a
// repeated field (or the list would lose it) or the key or value of a map
// entry (as every protobuf encoder does).
func appendStringElem(dst []byte, num protowire.Number, s string) []byte {
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, s)
}

func appendEntity(dst []byte, num protowire.Number, en *Entity) []byte {
	dst, start := appendMessageStart(dst, num)
	dst = appendString(dst, 1, en.Principal)
	dst = appendString(dst, 2, en.IP)
	dst = appendString(dst, 3, en.AccountID)
	return finishLen(dst, start, 1)
}

// appendStringMap writes m as a protobuf map<string, string>, one entry
// message (key = 1, value = 2) per key, sorted by key.
func appendStringMap(dst []byte, num protowire.Number, m map[string]string) []byte {
	if len(m) == 0 {
		return dst
	}
	var buf [32]string // sorts on the stack for the usual handful of keys
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var start int
		dst, start = appendMessageStart(dst, num)
		dst = appendStringElem(dst, 1, k)
		dst = appendStringElem(dst, 2, m[k])
		dst = finishLen(dst, start, 1)
	}
	return dst
}

// UnmarshalDetection decodes a record that MarshalDetection wrote into d,
// replacing all of d's contents, with the guarantees of UnmarshalEvent: any
// input gives a decoded value or an error naming what was wrong (wrapping
// ErrUnknownVersion, ErrTruncated or ErrMalformed), never a panic; unknown
// fields are skipped; on error d is left zero.
//
// Memory: the backing arrays of d.Techniques and d.EvidenceIDs and the map
// d.Fields are reused and overwritten; all strings share one allocation;
// nothing in d aliases b. Empty lists and maps are nil in a fresh
// Detection and empty but reused in a reused one: test them with len.
func UnmarshalDetection(b []byte, d *Detection) error {
	return unmarshal(b, WireDetectionV1, "detection", d, decodeDetection)
}

func decodeDetection(b []byte, d *Detection) error {
	techniques, evidence, fields := d.Techniques[:0], d.EvidenceIDs[:0], d.Fields
	clear(fields)
	*d = Detection{Techniques: techniques, EvidenceIDs: evidence, Fields: fields}
	r := fieldReader{b: b}
	r.strs.expect(len(b))
	for r.next() {
		switch r.num {
		case 1:
			r.string("id", &d.ID)
		case 2:
			r.string("rule_id", &d.RuleID)
		case 3:
			r.string("title", &d.Title)
		case 4:
			readUint(&r, "severity", &d.Severity)
		case 5:
			var s string
			if r.string("techniques", &s); !r.failed {
				d.Techniques = append(d.Techniques, s)
			}
		case 6:
			sub := r.message("entity")
			decodeEntity(&sub, &d.Entity)
			r.end("entity", &sub)
		case 7:
			r.time("first_event_time_unix_nano", &d.FirstEventTime)
		case 8:
			r.time("last_event_time_unix_nano", &d.LastEventTime)
		case 9:
			var s string
			if r.string("evidence_ids", &s); !r.failed {
				d.EvidenceIDs = append(d.EvidenceIDs, s)
			}
		case 10:
			r.string("dedup_key", &d.DedupKey)
		case 11:
			r.string("summary", &d.Summary)
		case 12:
			sub := r.message("fields")
			var k, v string
			decodeMapEntry(&sub, &k, &v)
			if r.end("fields", &sub); !r.failed {
				if d.Fields == nil {
					d.Fields = make(map[string]string)
				}
				// A repeated key keeps the last value, as in protobuf.
				d.Fields[k] = v
			}
		case 13:
			r.time("detected_time_unix_nano", &d.DetectedTime)
		default:
			r.skip()
		}
	}
	return r.error()
}

func decodeEntity(r *fieldReader, en *Entity) {
	for r.next() {
		switch r.num {
		case 1:
			r.string("principal", &en.Principal)
		case 2:
			r.string("ip", &en.IP)
		case 3:
			r.string("account_id", &en.AccountID)
		default:
			r.skip()
		}
	}
}

// decodeMapEntry reads one map<string, string> entry; a missing key or
// value is "".
func decodeMapEntry(r *fieldReader, k, v *string) {
	for r.next() {
		switch r.num {
		case 1:
			r.string("key", k)
		case 2:
			r.string("value", v)
		default:
			r.skip()
		}
	}
}
