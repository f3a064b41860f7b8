package schemas

import (
	"bytes"
	"encoding/json"
)

// RawField returns the raw JSON value of the top-level member name of the
// JSON object raw, without decoding the rest: the bytes of the value as
// they stand in raw (an object, array, string with its quotes, number,
// true, false or null), and true; or nil and false when raw is not an
// object or has no such member. Rules use it to read the fields whose
// type varies between CloudTrail events (requestParameters,
// responseElements, additionalEventData, serviceEventDetails) from
// Event.Raw only when they need them.
//
// RawField is a scanner, not a validator: on valid JSON it agrees with
// encoding/json, except that when a name appears twice it returns the
// first value (encoding/json keeps the last; CloudTrail never repeats a
// name). On invalid JSON it returns false or some slice of raw, and never
// panics. Member names are compared after JSON unescaping, so
// "\u0072equestParameters" matches "requestParameters".
//
// The result aliases raw and has no spare capacity, so appending to it
// cannot overwrite raw. It does not allocate unless a member name in raw
// contains an escape.
func RawField(raw []byte, name string) ([]byte, bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return nil, false // "}" of an empty object, or not JSON
		}
		keyEnd := scanString(raw, i)
		if keyEnd < 0 {
			return nil, false
		}
		key := raw[i:keyEnd] // with its quotes
		i = skipSpace(raw, keyEnd)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		start := skipSpace(raw, i+1)
		end := skipValue(raw, start)
		if end < 0 {
			return nil, false
		}
		if keyEquals(key, name) {
			return raw[start:end:end], true
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			return nil, false // "}" after the last member, or not JSON
		}
		i++
	}
}

// keyEquals reports whether the quoted JSON string key decodes to name.
func keyEquals(key []byte, name string) bool {
	body := key[1 : len(key)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body) == name
	}
	// Escaped names are rare in practice; let encoding/json decode them.
	var s string
	if err := json.Unmarshal(key, &s); err != nil {
		return false
	}
	return s == name
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString returns the index just after the string that starts with the
// quote at b[i], or -1 if it does not end. It jumps from quote to quote
// with bytes.IndexByte, so long strings cost little: a quote ends the
// string unless an odd run of backslashes escapes it.
func scanString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		backslashes := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// skipValue returns the index just after the JSON value that starts at
// b[i], or -1 if there is none or it does not end.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		return skipNested(b, i)
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if j == i {
				return -1
			}
			return j
		}
		j++
	}
	return j
}

// skipNested returns the index just after the object or array that starts
// at b[i], or -1 if it does not end. It counts brackets and steps over
// strings; it does not check that they pair up.
func skipNested(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			end := scanString(b, j)
			if end < 0 {
				return -1
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}
