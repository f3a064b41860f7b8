package ingest

import (
	"errors"
	"fmt"
)

// Reasons name why an object or a record went to the dead-letter topic.
// They are stable: dashboards and alerts match on them, and they label the
// trailwatch_ingest_dead_letters_total metric.
const (
	ReasonGzipCorrupt        = "gzip_corrupt"
	ReasonDecompressionLimit = "decompression_limit"
	ReasonNotJSON            = "not_json"
	ReasonTooDeep            = "too_deep"
	ReasonRecordTooLarge     = "record_too_large"
	ReasonNotCloudTrail      = "not_cloudtrail"
	ReasonEmptyObject        = "empty_object"
	ReasonFlowNoHeader       = "flow_no_header"
	ReasonFlowBadRecord      = "flow_bad_record"
	ReasonUnknownKind        = "unknown_kind"
	ReasonObjectMissing      = "object_missing"
	ReasonAccessDenied       = "access_denied"
	ReasonS3Error            = "s3_error"
	ReasonUnsupportedFormat  = "unsupported_format"
	ReasonBadAnnouncement    = "bad_announcement"
	// ReasonBadParquet is an object delivered as Parquet that is not one,
	// is damaged (a footer, page or column that disagrees with the file's
	// metadata or does not decode), or uses what FlowParquetDecoder does
	// not read (encryption, a compression codec or encoding it lacks, a
	// flow log field that is not a flat column of numbers or strings).
	ReasonBadParquet = "bad_parquet"
	// ReasonParquetLimit is a Parquet object whose footer or pages need
	// more memory than Limits.MaxParquetBytes allows.
	ReasonParquetLimit = "parquet_limit"
)

// DecodeError is a permanent failure to decode a whole object or one
// record: retrying will not help, so the input goes to the dead-letter
// topic with Reason.
type DecodeError struct {
	// Reason is one of the Reason* constants.
	Reason string
	// Err is the underlying error.
	Err error
}

// Error returns the reason and the underlying error's text.
func (e *DecodeError) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// decodeErr returns a DecodeError for reason with a formatted message.
func decodeErr(reason, format string, args ...any) error {
	return &DecodeError{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// ReasonOf returns the dead-letter reason of err when it is (or wraps) a
// DecodeError, and "" otherwise.
func ReasonOf(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}
