package schemas

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Wire format tags. Every record that MarshalEvent or MarshalDetection
// writes starts with one of these bytes; it names both the kind of record
// and the version of its layout, so a worker can tell versions apart and a
// future version can be read beside this one while a topic drains.
//
// After the tag comes a protobuf varint length and then exactly that many
// bytes of a protobuf message (trailwatch.v1.Event, described by
// event.proto, or trailwatch.v1.Detection, described by detection.proto).
// A reader in another language skips the tag byte and parses the rest as a
// length-delimited message (parseDelimitedFrom in Java, for example).
// The length makes a record that was cut short at a field boundary an error
// rather than a valid record with fewer fields. See CODEC.md.
const (
	// WireEventV1 tags an Event encoded as trailwatch.v1.Event.
	WireEventV1 byte = 0x01
	// WireDetectionV1 tags a Detection encoded as
	// trailwatch.v1.Detection.
	WireDetectionV1 byte = 0x02
)

// readFrame checks a record's tag and length and returns its message.
func readFrame(b []byte, tag byte, kind string) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty record: %w", ErrTruncated)
	}
	if b[0] != tag {
		return nil, unknownTag(b[0], tag, kind)
	}
	n, m := protowire.ConsumeVarint(b[1:])
	if m < 0 {
		if err := protowire.ParseError(m); !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("record length: %v: %w", err, ErrMalformed)
		}
		return nil, fmt.Errorf("record length: %w", ErrTruncated)
	}
	body := b[1+m:]
	switch {
	case uint64(len(body)) < n:
		return nil, fmt.Errorf("record of %d bytes has %d: %w", n, len(body), ErrTruncated)
	case uint64(len(body)) > n:
		return nil, fmt.Errorf("%d bytes after the end of the %s: %w", uint64(len(body))-n, kind, ErrMalformed)
	}
	return body, nil
}

// unknownTag explains a first byte that is not the tag a decoder reads.
func unknownTag(got, want byte, kind string) error {
	var what string
	switch got {
	case WireEventV1:
		what = "an event"
	case WireDetectionV1:
		what = "a detection"
	case '{', '[':
		what = "JSON"
	default:
		what = "not a version this build reads"
	}
	return fmt.Errorf("tag 0x%02x is %s, want 0x%02x (%s v1): %w", got, what, want, kind, ErrUnknownVersion)
}

// unmarshal checks the frame of record b and decodes its message into v
// with decode, leaving v zero on error: the shared half of UnmarshalEvent
// and UnmarshalDetection.
func unmarshal[T any](b []byte, tag byte, kind string, v *T, decode func([]byte, *T) error) error {
	body, err := readFrame(b, tag, kind)
	if err == nil {
		err = decode(body, v)
	}
	if err != nil {
		var zero T
		*v = zero
		return fmt.Errorf("unmarshal %s: %w", kind, err)
	}
	return nil
}
