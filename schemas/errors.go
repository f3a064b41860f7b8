package schemas

import "errors"

// Sentinel errors of the schemas package. Decoders wrap them with the
// operation and what was wrong ("unmarshal event: flow.src_port: value
// 70000 overflows uint16: schemas: malformed record"), so callers branch
// with errors.Is and log the whole message.
//
// A stage that cannot decode a record sends it to the dead-letter topic
// with the error, except for ErrUnknownVersion: that record was written by
// a newer (or different) producer and is not corrupt, so a worker should
// not dead-letter it silently but stop and be upgraded.
var (
	// ErrUnknownVersion reports a record whose format/version tag (its
	// first byte) this decoder does not read: a newer wire version, a
	// record of another kind (a detection on the events topic), or JSON.
	ErrUnknownVersion = errors.New("schemas: unknown wire version")
	// ErrTruncated reports a record that ends before its declared length
	// or in the middle of a field.
	ErrTruncated = errors.New("schemas: truncated record")
	// ErrMalformed reports a record that is complete but not valid: a
	// wrong wire type for a known field, a value out of range, a bad
	// varint, bytes after the declared end.
	ErrMalformed = errors.New("schemas: malformed record")
)
