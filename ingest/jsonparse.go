package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonParser walks one complete JSON value held in memory. It validates the
// syntax as it goes, so a record that frames but is not JSON is caught, and
// it lets the caller pick members out of objects without building a tree.
// After the first error every method is a no-op and err says what was wrong.
type jsonParser struct {
	b        []byte
	i        int
	depth    int
	maxDepth int
	err      error
	scratch  []byte // unescaped string bytes
}

var errSyntax = errors.New("invalid JSON")

func (p *jsonParser) reset(b []byte) {
	p.b, p.i, p.depth, p.err = b, 0, 0, nil
}

func (p *jsonParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w at offset %d: %s", errSyntax, p.i, fmt.Sprintf(format, args...))
	}
	p.i = len(p.b)
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *jsonParser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// object starts iterating an object; false (and an error) if the next value
// is not one.
func (p *jsonParser) object() bool {
	if p.peek() != '{' {
		p.fail("want an object")
		return false
	}
	p.i++
	p.depth++
	if p.depth > p.maxDepth {
		p.fail("nested deeper than %d", p.maxDepth)
		return false
	}
	return true
}

// member returns the next member's key (raw bytes between the quotes, not
// unescaped: CloudTrail's keys never need it), positioned at its value; ok
// is false at the end of the object.
func (p *jsonParser) member(first *bool) (key []byte, ok bool) {
	c := p.peek()
	if c == '}' {
		p.i++
		p.depth--
		return nil, false
	}
	if !*first {
		if c != ',' {
			p.fail("want ',' or '}'")
			return nil, false
		}
		p.i++
		c = p.peek()
	}
	*first = false
	if c != '"' {
		p.fail("want a member name")
		return nil, false
	}
	key, escaped := p.rawString()
	if escaped {
		p.checkEscapes(key)
	}
	if p.peek() != ':' {
		p.fail("want ':'")
		return nil, false
	}
	p.i++
	return key, p.err == nil
}

// eachMember calls fn with each member's key of the object that comes
// next, positioned at the member's value; fn must consume the value. A
// value that is not an object is skipped: CloudTrail nests objects whose
// type changes between events.
func (p *jsonParser) eachMember(fn func(key []byte)) {
	if p.peek() != '{' {
		p.skip()
		return
	}
	p.object()
	first := true
	for p.err == nil {
		key, ok := p.member(&first)
		if !ok {
			return
		}
		fn(key)
	}
}

// array starts iterating an array.
func (p *jsonParser) array() bool {
	if p.peek() != '[' {
		p.fail("want an array")
		return false
	}
	p.i++
	p.depth++
	if p.depth > p.maxDepth {
		p.fail("nested deeper than %d", p.maxDepth)
		return false
	}
	return true
}

// element reports whether another element follows, positioned at it.
func (p *jsonParser) element(first *bool) bool {
	c := p.peek()
	if c == ']' {
		p.i++
		p.depth--
		return false
	}
	if !*first {
		if c != ',' {
			p.fail("want ',' or ']'")
			return false
		}
		p.i++
	}
	*first = false
	return p.err == nil
}

// rawString reads a string and returns its bytes between the quotes, with
// escapes left in, and whether it had any. It finds the closing quote with
// IndexByte (vectorised) rather than byte by byte: strings are most of a
// CloudTrail record. Control characters inside strings are not rejected;
// the record is kept byte for byte either way.
func (p *jsonParser) rawString() (s []byte, escaped bool) {
	p.i++ // opening quote
	start := p.i
	for {
		j := bytes.IndexByte(p.b[p.i:], '"')
		if j < 0 {
			p.fail("unterminated string")
			return nil, false
		}
		q := p.i + j
		if bytes.IndexByte(p.b[p.i:q], '\\') < 0 {
			p.i = q + 1
			return p.b[start:q], escaped
		}
		escaped = true
		// The quote is escaped when an odd run of backslashes precedes it.
		bs := 0
		for k := q - 1; k >= start && p.b[k] == '\\'; k-- {
			bs++
		}
		p.i = q + 1
		if bs%2 == 0 {
			return p.b[start:q], true
		}
	}
}

// str reads a string value and returns it unescaped. The bytes are valid
// until the next call. null reads as empty; other non-strings are an error.
func (p *jsonParser) str() []byte {
	switch p.peek() {
	case '"':
	case 'n':
		p.literal("null")
		return nil
	default:
		p.fail("want a string")
		return nil
	}
	s, escaped := p.rawString()
	if !escaped || p.err != nil {
		return s
	}
	return p.unescape(s)
}

// strOrScalar reads a string, or the raw text of a number or boolean (some
// CloudTrail fields change type between events); objects and arrays are
// skipped and read as empty.
func (p *jsonParser) strOrScalar() []byte {
	switch p.peek() {
	case '"', 'n':
		return p.str()
	case '{', '[':
		p.skip()
		return nil
	}
	start := p.i
	p.skip()
	return p.b[start:p.i]
}

// checkEscapes fails unless every backslash in s (a string's raw bytes)
// starts a valid escape: strings that are skipped or used as keys are not
// unescaped, yet a record kept as Raw must stay JSON for whoever reads it
// next. It accepts what unescape accepts, without writing to scratch,
// which may still hold a string read earlier in the record.
func (p *jsonParser) checkEscapes(s []byte) {
	for i := bytes.IndexByte(s, '\\'); i >= 0; {
		if i+1 >= len(s) {
			p.fail("bad escape")
			return
		}
		switch s[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if _, n := decodeU(s[i+2:]); n == 0 {
				p.fail("bad \\u escape")
				return
			}
			i += 6
		default:
			p.fail("bad escape")
			return
		}
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			return
		}
		i += j
	}
}

func (p *jsonParser) unescape(s []byte) []byte {
	out := p.scratch[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			p.fail("bad escape")
			return nil
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := decodeU(s[i+1:])
			if n == 0 {
				p.fail("bad \\u escape")
				return nil
			}
			i += n
			if utf16.IsSurrogate(r) {
				r2, n2 := rune(-1), 0
				if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2, n2 = decodeU(s[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError && n2 > 0 {
					r = dec
					i += 2 + n2
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			p.fail("bad escape")
			return nil
		}
	}
	p.scratch = out
	return out
}

// decodeU decodes the four hex digits of a \u escape; n is 4, or 0 when
// they are not hex.
func decodeU(s []byte) (r rune, n int) {
	if len(s) < 4 {
		return 0, 0
	}
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}

func (p *jsonParser) literal(lit string) {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		p.fail("want %s", lit)
		return
	}
	p.i += len(lit)
}

// boolean reads true, false, the strings "true"/"false", or null.
func (p *jsonParser) boolean() (value, set bool) {
	switch p.peek() {
	case 't':
		p.literal("true")
		return true, true
	case 'f':
		p.literal("false")
		return false, true
	case '"':
		s := p.str()
		switch string(s) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return false, false
	default:
		p.skip()
		return false, false
	}
}

// skip passes over one value of any kind, checking its syntax.
func (p *jsonParser) skip() {
	switch c := p.peek(); {
	case c == '"':
		if s, escaped := p.rawString(); escaped {
			p.checkEscapes(s)
		}
	case c == '{':
		if !p.object() {
			return
		}
		first := true
		for {
			if _, ok := p.member(&first); !ok {
				return
			}
			p.skip()
		}
	case c == '[':
		if !p.array() {
			return
		}
		first := true
		for p.element(&first) {
			p.skip()
		}
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		p.number()
	case c == 0:
		p.fail("unexpected end")
	default:
		p.fail("unexpected %q", c)
	}
}

func (p *jsonParser) number() {
	start := p.i
	b, i := p.b, p.i
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	// JSON's grammar: an integer part without leading zeros, then an
	// optional fraction and exponent, each with at least one digit.
	ok := true
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		ok = false
	}
	if ok && i < len(b) && b[i] == '.' {
		i++
		ok = digits() > 0
	}
	if ok && i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		ok = digits() > 0
	}
	if ok && i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] == '+' || b[i] == '-') {
		ok = false // 00, 1.2.3, 1e5e5 and the like
	}
	if !ok {
		p.i = start
		p.fail("bad number")
		return
	}
	p.i = i
}

// end checks that nothing but white space follows the value.
func (p *jsonParser) end() {
	if p.peek() != 0 && p.err == nil {
		p.fail("data after the value")
	}
}
