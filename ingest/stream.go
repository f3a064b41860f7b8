package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Stream is an object's decompressed content, read with the Limits
// enforced: it fails with a DecodeError (ReasonDecompressionLimit) once the
// object decompresses past MaxObjectBytes or past MaxRatio, and turns gzip
// corruption (including truncation) into ReasonGzipCorrupt.
//
// A Stream is reused across objects with Reset, so its read buffer and
// decompressor are allocated once per worker, not once per object (most
// CloudTrail objects are a few kilobytes).
type Stream struct {
	compressed countingReader
	br         *bufio.Reader
	r          io.Reader
	gz         gzip.Reader
	limits     Limits
	out        int64
	gzipped    bool
}

// gzipMagic starts every gzip member.
var gzipMagic = []byte{0x1f, 0x8b}

// NewStream returns a Stream enforcing limits; Reset points it at an object.
func NewStream(limits Limits) *Stream {
	s := &Stream{limits: limits}
	s.br = bufio.NewReaderSize(&s.compressed, 64<<10)
	return s
}

// OpenStream returns a new Stream reading raw. It is NewStream plus Reset.
func OpenStream(raw io.Reader, limits Limits) (*Stream, error) {
	s := NewStream(limits)
	return s, s.Reset(raw)
}

// Reset starts reading a new object from raw, its bytes as stored. Gzip is
// detected by its magic bytes, so plain and compressed files both work.
func (s *Stream) Reset(raw io.Reader) error {
	s.compressed = countingReader{r: raw}
	s.br.Reset(&s.compressed)
	s.out, s.gzipped, s.r = 0, false, nil
	head, err := s.br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if len(head) == 0 {
		return decodeErr(ReasonEmptyObject, "object is empty")
	}
	if len(head) == 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1] {
		if err := s.gz.Reset(s.br); err != nil {
			return &DecodeError{Reason: ReasonGzipCorrupt, Err: fmt.Errorf("gzip header: %w", err)}
		}
		s.r, s.gzipped = &s.gz, true
		return nil
	}
	s.r = s.br
	return nil
}

// Gzipped reports whether the object was gzip-compressed.
func (s *Stream) Gzipped() bool { return s.gzipped }

// CompressedBytes returns how many stored bytes have been read so far.
func (s *Stream) CompressedBytes() int64 { return s.compressed.n }

// DecompressedBytes returns how many content bytes have been read so far.
func (s *Stream) DecompressedBytes() int64 { return s.out }

// Read reads decompressed content, enforcing the limits.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.out += int64(n)
	if s.out > s.limits.MaxObjectBytes {
		return n, decodeErr(ReasonDecompressionLimit, "object decompresses past %d bytes", s.limits.MaxObjectBytes)
	}
	if s.gzipped && s.out > s.limits.MinRatioBytes && s.compressed.n > 0 &&
		float64(s.out) > s.limits.MaxRatio*float64(s.compressed.n) {
		return n, decodeErr(ReasonDecompressionLimit, "compression ratio above %g after %d bytes", s.limits.MaxRatio, s.out)
	}
	if err != nil && !errors.Is(err, io.EOF) && s.gzipped && isGzipErr(err) {
		return n, &DecodeError{Reason: ReasonGzipCorrupt, Err: err}
	}
	return n, err
}

// isGzipErr reports whether err comes from the decompressor rather than
// from the underlying object read (which may be retryable).
func isGzipErr(err error) bool {
	var de *DecodeError
	if errors.As(err, &de) {
		return false
	}
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || isFlateErr(err)
}

// Close ends reading the current object. The Stream can be Reset again.
func (s *Stream) Close() error {
	s.r = nil
	return nil
}

// isFlateErr reports whether err is a corrupt-deflate-data error.
func isFlateErr(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce)
}
