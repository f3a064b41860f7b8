package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// Emitter receives what a decoder finds in one object. The decoder calls it
// from a single goroutine, in record order.
type Emitter interface {
	// Event is called once per decoded event. The decoder reuses e (and
	// the memory its fields point into, Raw included) after Event returns:
	// an Emitter that keeps anything must copy it. A non-nil error stops
	// the decode and is returned by the decoder unchanged.
	Event(e *schemas.Event) error
	// BadRecord is called for one record that cannot be decoded while the
	// rest of the object can. index is the record's position in the
	// object, payload the record's bytes (the Emitter bounds what it
	// keeps). A non-nil error stops the decode.
	BadRecord(index int64, err *DecodeError, payload []byte) error
}

// Limits bound the memory and work of decoding one object.
type Limits struct {
	// MaxRecordBytes is the largest single record (one CloudTrail event
	// or flow line) held in memory. A larger record goes to the
	// dead-letter topic. Default 4 MiB.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// MaxObjectBytes is the most decompressed bytes read from one object
	// before it is treated as a decompression bomb. Default 8 GiB.
	MaxObjectBytes int64 `yaml:"max_object_bytes"`
	// MaxRatio is the most decompressed bytes per compressed byte
	// allowed once MinRatioBytes have been decompressed. Real CloudTrail
	// compresses 10 to 30 times. Default 200.
	MaxRatio float64 `yaml:"max_ratio"`
	// MinRatioBytes is how much must be decompressed before MaxRatio is
	// enforced, so tiny objects with high ratios pass. Default 16 MiB.
	MinRatioBytes int64 `yaml:"min_ratio_bytes"`
	// MaxDepth is the deepest JSON nesting accepted in a record. Default 64.
	MaxDepth int `yaml:"max_depth"`
	// MaxParquetBytes bounds the memory held to decode one Parquet flow
	// log object: its footer and the metadata kept from it, and for each
	// column read, its window on the file, its current page (compressed
	// and decompressed) and its dictionary. A row group whose columns
	// together take at most a quarter of it is read in one request. A file
	// that needs more (a larger footer, larger pages) goes to the
	// dead-letter topic with ReasonParquetLimit. The size of a row group
	// or column chunk does not matter otherwise: pages are read one at a
	// time. (MaxObjectBytes and MaxRatio apply to a Parquet object's rows
	// as the flow log text they stand for.) Default 32 MiB: with the
	// default concurrency, 512 MiB at worst for Parquet pages.
	MaxParquetBytes int64 `yaml:"max_parquet_bytes"`
}

// DefaultLimits returns the default decode limits.
func DefaultLimits() Limits {
	return Limits{
		MaxRecordBytes:  4 << 20,
		MaxObjectBytes:  8 << 30,
		MaxRatio:        200,
		MinRatioBytes:   16 << 20,
		MaxDepth:        64,
		MaxParquetBytes: 32 << 20,
	}
}

// Validate reports the first bad field by its YAML path under ingest.limits.
func (l *Limits) Validate() error {
	switch {
	case l.MaxRecordBytes < 1024:
		return fmt.Errorf("ingest.limits.max_record_bytes: must be at least 1024, got %d", l.MaxRecordBytes)
	case l.MaxObjectBytes < int64(l.MaxRecordBytes):
		return errors.New("ingest.limits.max_object_bytes: must be at least max_record_bytes")
	case l.MaxRatio < 2:
		return fmt.Errorf("ingest.limits.max_ratio: must be at least 2, got %g", l.MaxRatio)
	case l.MinRatioBytes < 0:
		return errors.New("ingest.limits.min_ratio_bytes: must not be negative")
	case l.MaxDepth < 8:
		return fmt.Errorf("ingest.limits.max_depth: must be at least 8, got %d", l.MaxDepth)
	case l.MaxParquetBytes < 1<<20:
		return fmt.Errorf("ingest.limits.max_parquet_bytes: must be at least 1048576 (1 MiB), got %d", l.MaxParquetBytes)
	}
	return nil
}

// ObjectInfo is what a decoder knows about the object it reads, to fill
// the events' Object, AccountID and Region when the record lacks them.
type ObjectInfo struct {
	Bucket    string
	Key       string
	Kind      schemas.ObjectKind
	AccountID string
	Region    string
	// Now is the ingest time stamped on every event.
	Now time.Time
}
