package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// valueReader frames JSON values out of a stream without decoding them: it
// finds where each value ends (tracking strings, escapes and nesting) in a
// reusable window, so a value is returned without a copy when it fits, and
// memory stays bounded by maxValue however large the stream.
//
// It checks only what framing needs (balanced brackets, terminated
// strings); the caller parses the framed value fully.
type valueReader struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	rerr     error // the first read error other than io.EOF

	maxValue int // a value larger than this is skipped, not held
	maxDepth int
}

// errValueTooLarge is returned (wrapped in a DecodeError) for a value
// larger than maxValue; the value has been skipped and reading can go on.
var errValueTooLarge = errors.New("value too large")

const initialWindow = 256 << 10

func newValueReader(r io.Reader, maxValue, maxDepth int) *valueReader {
	size := initialWindow
	if maxValue+1 < size {
		size = maxValue + 1
	}
	return &valueReader{r: r, buf: make([]byte, size), maxValue: maxValue, maxDepth: maxDepth}
}

// reset points the reader at a new stream, keeping its window.
func (v *valueReader) reset(r io.Reader) {
	v.r, v.pos, v.end, v.eof, v.rerr = r, 0, 0, false, nil
}

// fill reads more input after compacting the window so that keep (an index
// into the window, at most pos) stays at its start. It returns how far the
// window's contents moved left, and false when no more input can come.
func (v *valueReader) fill(keep int) (shift int, ok bool) {
	if v.eof {
		return 0, false
	}
	if keep > 0 {
		copy(v.buf, v.buf[keep:v.end])
		v.end -= keep
		v.pos -= keep
		shift = keep
	}
	if v.end == len(v.buf) {
		// The value being framed fills the window: grow it, up to the
		// value limit (plus slack for the delimiter).
		limit := v.maxValue + 1
		if len(v.buf) >= limit {
			return shift, true // caller handles the overflow
		}
		n := min(2*len(v.buf), limit)
		nb := make([]byte, n)
		copy(nb, v.buf[:v.end])
		v.buf = nb
	}
	for {
		n, err := v.r.Read(v.buf[v.end:])
		v.end += n
		if err != nil {
			v.eof = true
			if !errors.Is(err, io.EOF) {
				v.rerr = err
			}
			return shift, n > 0
		}
		if n > 0 {
			return shift, true
		}
	}
}

// peek skips white space (and a UTF-8 byte-order mark at the very start)
// and returns the next byte without consuming it; ok is false at the end of
// input.
func (v *valueReader) peek() (c byte, ok bool) {
	for {
		for v.pos < v.end {
			c = v.buf[v.pos]
			switch c {
			case ' ', '\t', '\n', '\r':
				v.pos++
				continue
			case 0xEF:
				if v.end-v.pos >= 3 && v.buf[v.pos+1] == 0xBB && v.buf[v.pos+2] == 0xBF {
					v.pos += 3
					continue
				}
			}
			return c, true
		}
		if _, more := v.fill(v.pos); !more {
			return 0, false
		}
	}
}

// consume skips white space and consumes c, reporting whether it was next.
func (v *valueReader) consume(c byte) bool {
	got, ok := v.peek()
	if !ok || got != c {
		return false
	}
	v.pos++
	return true
}

// hasPrefix reports whether the input at the current position (after white
// space) starts with p, reading more input if needed. p must be shorter
// than the window.
func (v *valueReader) hasPrefix(p []byte) bool {
	if _, ok := v.peek(); !ok {
		return false
	}
	for v.end-v.pos < len(p) {
		if _, more := v.fill(v.pos); !more {
			break
		}
	}
	return bytes.HasPrefix(v.buf[v.pos:v.end], p)
}

// next frames the next JSON value and returns its bytes, valid until the
// next call. At the end of input it returns io.EOF; a value that is cut off
// returns io.ErrUnexpectedEOF (or the underlying read error); a value
// larger than maxValue is skipped and reported as a DecodeError with
// ReasonRecordTooLarge, and one nested deeper than maxDepth as
// ReasonTooDeep (skipped too), so the caller can go on to the next value.
func (v *valueReader) next() ([]byte, error) {
	if _, ok := v.peek(); !ok {
		if v.rerr != nil {
			return nil, v.rerr
		}
		return nil, io.EOF
	}
	start := v.pos
	i := start
	depth := 0
	inStr := false
	tooLarge, tooDeep := false, false
	scalar := false
	for {
		if i >= v.end {
			// Need more input. A value that outgrew the limit is dropped
			// from the window as it is scanned.
			if v.end-start > v.maxValue {
				tooLarge = true
				v.pos = i
				start = i
			}
			v.pos = i
			shift, more := v.fill(start)
			start -= shift
			i -= shift
			if !more || i >= v.end {
				if scalar && depth == 0 && !inStr {
					break // a scalar ended by the end of input
				}
				if v.rerr != nil {
					return nil, v.rerr
				}
				return nil, io.ErrUnexpectedEOF
			}
		}
		if inStr {
			j := bytes.IndexByte(v.buf[i:v.end], '"')
			if j < 0 {
				i = v.end
				continue
			}
			q := i + j
			// Escaped when preceded by an odd run of backslashes.
			bs := 0
			for k := q - 1; k > start && v.buf[k] == '\\'; k-- {
				bs++
			}
			i = q + 1
			if bs%2 == 1 {
				continue
			}
			inStr = false
			if depth == 0 {
				break
			}
			continue
		}
		c := v.buf[i]
		if scalar {
			switch c {
			case ' ', '\t', '\n', '\r', ',', ']', '}', '{', '[', '"':
				goto done
			}
			i++
			continue
		}
		i++
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > v.maxDepth {
				tooDeep = true
			}
		case '}', ']':
			depth--
			if depth < 0 {
				v.pos = i
				return v.buf[start:i], &DecodeError{Reason: ReasonNotJSON, Err: fmt.Errorf("unexpected %q", c)}
			}
			if depth == 0 {
				goto done
			}
		case ' ', '\t', '\n', '\r', ',', ':':
		default:
			if depth == 0 {
				scalar = true
			}
		}
	}
done:
	v.pos = i
	val := v.buf[start:i]
	switch {
	case tooLarge:
		return nil, &DecodeError{Reason: ReasonRecordTooLarge, Err: fmt.Errorf("%w: over %d bytes", errValueTooLarge, v.maxValue)}
	case tooDeep:
		return val, &DecodeError{Reason: ReasonTooDeep, Err: fmt.Errorf("nested deeper than %d", v.maxDepth)}
	}
	return val, nil
}

// nextLine returns the next non-blank line without its line ending, valid
// until the next call; io.EOF at the end of input. A line longer than
// maxValue is skipped to its end and reported as a DecodeError with
// ReasonRecordTooLarge, so one bad line costs only itself.
func (v *valueReader) nextLine() ([]byte, error) {
	for {
		if _, ok := v.peek(); !ok {
			if v.rerr != nil {
				return nil, v.rerr
			}
			return nil, io.EOF
		}
		start := v.pos
		scanned := start
		tooLarge := false
		for {
			j := bytes.IndexByte(v.buf[scanned:v.end], '\n')
			if j >= 0 {
				lineEnd := scanned + j
				v.pos = lineEnd + 1
				if tooLarge {
					return nil, &DecodeError{Reason: ReasonRecordTooLarge, Err: fmt.Errorf("%w: line over %d bytes", errValueTooLarge, v.maxValue)}
				}
				line := bytes.TrimRight(v.buf[start:lineEnd], "\r")
				if len(bytes.TrimSpace(line)) == 0 {
					break // blank line: look for the next one
				}
				return line, nil
			}
			scanned = v.end
			if v.end-start > v.maxValue {
				tooLarge = true
				start = v.end
				scanned = v.end
			}
			v.pos = start
			shift, more := v.fill(start)
			start -= shift
			scanned -= shift
			if !more {
				v.pos = v.end
				if tooLarge {
					return nil, &DecodeError{Reason: ReasonRecordTooLarge, Err: fmt.Errorf("%w: line over %d bytes", errValueTooLarge, v.maxValue)}
				}
				if v.rerr != nil {
					return nil, v.rerr
				}
				return bytes.TrimRight(v.buf[start:v.end], "\r\n\t "), nil
			}
		}
	}
}
