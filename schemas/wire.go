package schemas

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// frameLenReserve is how many bytes MarshalEvent and MarshalDetection
// reserve for a record's length before they know it: two bytes hold
// lengths up to 16 KiB, which covers almost every CloudTrail event, so the
// body seldom has to move.
const frameLenReserve = 2

// appendFrameStart appends the tag and room for the length of a record
// whose body follows. It returns the offset that finishLen needs.
func appendFrameStart(dst []byte, tag byte) ([]byte, int) {
	dst = append(dst, tag, 0, 0)
	return dst, len(dst) - frameLenReserve
}

// appendMessageStart appends the tag of message field num and one byte of
// room for its length; nested messages are mostly shorter than 128 bytes.
func appendMessageStart(dst []byte, num protowire.Number) ([]byte, int) {
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return append(dst, 0), len(dst)
}

// finishLen writes the varint length of the body that follows the
// reserved bytes starting at start, moving the body when its length needs
// more or fewer bytes than were reserved. It never allocates when dst has
// the capacity.
func finishLen(dst []byte, start, reserved int) []byte {
	n := len(dst) - start - reserved
	need := protowire.SizeVarint(uint64(n))
	if need > reserved {
		dst = append(dst, make([]byte, need-reserved)...)
	}
	if need != reserved {
		copy(dst[start+need:], dst[start+reserved:start+reserved+n])
		dst = dst[:start+need+n]
	}
	protowire.AppendVarint(dst[:start], uint64(n))
	return dst
}

// The append helpers below write one field each and skip zero values, as
// proto3 and "implicit presence" do, so an absent and a zero field are the
// same on the wire.

func appendString(dst []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return dst
	}
	if num < 16 && len(s) < 0x80 {
		// One-byte tag and length, the common case, without the calls.
		dst = append(dst, byte(num)<<3|byte(protowire.BytesType), byte(len(s)))
		return append(dst, s...)
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, s)
}

func appendBytes(dst []byte, num protowire.Number, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

func appendUint(dst []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.VarintType)
	return protowire.AppendVarint(dst, v)
}

func appendBool(dst []byte, num protowire.Number, v bool) []byte {
	if !v {
		return dst
	}
	return append(protowire.AppendTag(dst, num, protowire.VarintType), 1)
}

// appendDouble writes v unless it is +0; -0 and NaNs keep their bits.
func appendDouble(dst []byte, num protowire.Number, v float64) []byte {
	bits := math.Float64bits(v)
	if bits == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(dst, bits)
}

// appendTime writes t as sfixed64 Unix nanoseconds. The zero Time is
// absent; any other time is written, even the Unix epoch (0), so presence
// tells the two apart. Times before 1678 or after 2262 do not fit.
func appendTime(dst []byte, num protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(dst, uint64(t.UnixNano()))
}

// stringBlock is where a decoder copies the strings of one record: one
// allocation for all of them instead of one per field. Strings are views
// of bytes that are written once and never changed, so handing them out
// with unsafe.String is safe; the block lives as long as any of them does.
type stringBlock struct {
	buf  []byte
	size int // how much to allocate at the first string
}

// expect notes that the strings still to come fit in n bytes. The block is
// allocated at the first string, so a decoder may lower the estimate as it
// learns more (after Raw, say) without wasting an allocation.
func (s *stringBlock) expect(n int) {
	if s.buf == nil {
		s.size = n
	}
}

// str returns a string holding a copy of b.
func (s *stringBlock) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(s.buf)-len(s.buf) < len(b) {
		// The first string, or one that the estimate did not cover: a
		// fresh block keeps earlier strings valid.
		s.buf = make([]byte, 0, max(s.size, len(b)))
	}
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	return unsafe.String(&s.buf[start], len(b))
}

// fieldReader walks the fields of one protobuf message. Its methods keep
// the first error and turn every later call into a no-op, so a decoder is
// a loop over next with one switch case per field and one error check at
// the end. It never panics on any input.
//
// A nested message gets a reader of its own (message) that is handed back
// with end. Readers hold no pointers to one another, so they stay on the
// stack; an error's field path is put together on the way out instead.
type fieldReader struct {
	b    []byte
	num  protowire.Number
	typ  protowire.Type
	strs stringBlock

	failed bool
	where  string // dotted path of the field that failed, "src_port"
	what   string // what was wrong with it
}

// next reads the next field's tag, reporting false at the end of the
// message or on error.
func (r *fieldReader) next() bool {
	if r.failed || len(r.b) == 0 {
		return false
	}
	if c := r.b[0]; c >= 1<<3 && c < 0x80 {
		// The common case, a one-byte tag (fields 1 to 15), without the
		// calls of the general path.
		r.num, r.typ, r.b = protowire.Number(c>>3), protowire.Type(c&7), r.b[1:]
		return true
	}
	if len(r.b) > 1 && r.b[0] >= 0x80 && r.b[1] < 0x80 {
		// A two-byte tag (fields 16 to 2047), unless it is a padded
		// encoding of field 0, which the general path rejects.
		if v := uint64(r.b[0]&0x7f) | uint64(r.b[1])<<7; v>>3 != 0 {
			r.num, r.typ, r.b = protowire.Number(v>>3), protowire.Type(v&7), r.b[2:]
			return true
		}
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		r.fail("", "bad field tag", protowire.ParseError(n))
		return false
	}
	r.num, r.typ, r.b = num, typ, r.b[n:]
	return true
}

// fail records the first error: the name of the field, what was wrong and
// the protowire error behind it, if any. The record's length was checked
// before parsing began, so a value that runs past the end of its message
// is malformed, not truncated.
func (r *fieldReader) fail(name, what string, cause error) {
	if r.failed {
		return
	}
	if errors.Is(cause, io.ErrUnexpectedEOF) {
		what += ": runs past the end of its message"
	} else if cause != nil {
		what += ": " + cause.Error()
	}
	r.failed, r.where, r.what, r.b = true, name, what, nil
}

// error returns the reader's error, wrapping ErrMalformed, or nil.
func (r *fieldReader) error() error {
	switch {
	case !r.failed:
		return nil
	case r.where == "":
		return fmt.Errorf("%s: %w", r.what, ErrMalformed)
	default:
		return fmt.Errorf("%s: %s: %w", r.where, r.what, ErrMalformed)
	}
}

// message returns a reader for the nested message in the current field,
// which must be handed back to end with the same name.
func (r *fieldReader) message(name string) fieldReader {
	sub := fieldReader{b: r.bytes(name), strs: r.strs}
	// The sub-reader owns the string block until end.
	r.strs = stringBlock{}
	return sub
}

// end takes back the string block of a nested reader and its error, if
// any, prefixing the error's field path with name.
func (r *fieldReader) end(name string, sub *fieldReader) {
	if r.failed {
		return
	}
	r.strs = sub.strs
	if sub.failed {
		where := name
		if sub.where != "" {
			where += "." + sub.where
		}
		r.failed, r.where, r.what, r.b = true, where, sub.what, nil
	}
}

// want checks the wire type of the current field.
func (r *fieldReader) want(name string, typ protowire.Type) bool {
	if r.failed {
		return false
	}
	if r.typ != typ {
		r.fail(name, "wire type "+wireTypeName(r.typ)+", want "+wireTypeName(typ), nil)
		return false
	}
	return true
}

// wireTypeName names a protobuf wire type for an error message.
func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	case protowire.StartGroupType:
		return "group"
	case protowire.EndGroupType:
		return "end group"
	default:
		return fmt.Sprintf("%d", t)
	}
}

// consumed advances past a value of n bytes, or records the error that a
// negative n carries.
func (r *fieldReader) consumed(name string, n int) bool {
	if n < 0 {
		r.fail(name, "bad value", protowire.ParseError(n))
		return false
	}
	r.b = r.b[n:]
	return true
}

// bytes reads a length-delimited value. The result aliases the input.
func (r *fieldReader) bytes(name string) []byte {
	if !r.want(name, protowire.BytesType) {
		return nil
	}
	v, n := protowire.ConsumeBytes(r.b)
	if !r.consumed(name, n) {
		return nil
	}
	return v
}

func (r *fieldReader) string(name string, p *string) {
	if !r.failed && r.typ == protowire.BytesType && len(r.b) > 0 && r.b[0] < 0x80 {
		// The common case, a string shorter than 128 bytes, without the
		// calls of the general path.
		if n := int(r.b[0]); n < len(r.b) {
			*p = r.strs.str(r.b[1 : 1+n])
			r.b = r.b[1+n:]
			return
		}
	}
	if v := r.bytes(name); !r.failed {
		*p = r.strs.str(v)
	}
}

func (r *fieldReader) varint(name string) (uint64, bool) {
	if !r.failed && r.typ == protowire.VarintType && len(r.b) > 0 && r.b[0] < 0x80 {
		v := uint64(r.b[0]) // a one-byte varint, the common case
		r.b = r.b[1:]
		return v, true
	}
	if !r.want(name, protowire.VarintType) {
		return 0, false
	}
	v, n := protowire.ConsumeVarint(r.b)
	return v, r.consumed(name, n)
}

func (r *fieldReader) bool(name string, p *bool) {
	if v, ok := r.varint(name); ok {
		*p = v != 0
	}
}

func (r *fieldReader) fixed64(name string) (uint64, bool) {
	if !r.want(name, protowire.Fixed64Type) {
		return 0, false
	}
	v, n := protowire.ConsumeFixed64(r.b)
	return v, r.consumed(name, n)
}

func (r *fieldReader) double(name string, p *float64) {
	if v, ok := r.fixed64(name); ok {
		*p = math.Float64frombits(v)
	}
}

// time reads sfixed64 Unix nanoseconds as a UTC time.
func (r *fieldReader) time(name string, p *time.Time) {
	if v, ok := r.fixed64(name); ok {
		*p = time.Unix(0, int64(v)).UTC()
	}
}

// skip passes over a field this decoder does not know: a newer writer may
// have added it.
func (r *fieldReader) skip() {
	if r.failed {
		return
	}
	n := protowire.ConsumeFieldValue(r.num, r.typ, r.b)
	if n < 0 {
		r.fail(fmt.Sprintf("unknown field %d", r.num), "bad value", protowire.ParseError(n))
		return
	}
	r.b = r.b[n:]
}

// readUint reads a varint into an unsigned integer type, rejecting values
// that do not fit rather than cutting them.
func readUint[T ~uint8 | ~uint16 | ~uint32 | ~uint64](r *fieldReader, name string, p *T) {
	v, ok := r.varint(name)
	if !ok {
		return
	}
	if v > uint64(^T(0)) {
		r.fail(name, fmt.Sprintf("value %d overflows %d bits", v, 8*unsafe.Sizeof(*p)), nil)
		return
	}
	*p = T(v)
}
