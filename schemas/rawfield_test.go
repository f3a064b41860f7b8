package schemas

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// rawFieldCases are the RawField table: named inputs, the member asked
// for and the raw value expected (ok false when want is "").
func rawFieldCases() []struct {
	name, raw, field, want string
} {
	return []struct{ name, raw, field, want string }{
		{"string", `{"a":"x","b":"y"}`, "b", `"y"`},
		{"first member", `{"a":1,"b":2}`, "a", `1`},
		{"number", `{"a":-12.5e3}`, "a", `-12.5e3`},
		{"literals", `{"t":true,"f":false,"n":null}`, "n", `null`},
		{"nested object", `{"u":{"type":"AssumedRole","s":{"a":[1,{"b":"}"}]}},"z":0}`, "u", `{"type":"AssumedRole","s":{"a":[1,{"b":"}"}]}}`},
		{"array", `{"r":[{"ARN":"x"},[],"]"],"z":0}`, "r", `[{"ARN":"x"},[],"]"]`},
		{"nested name not top level", `{"u":{"key":1},"key":2}`, "key", `2`},
		{"name only nested", `{"u":{"key":1}}`, "key", ``},
		{"name inside a string value", `{"a":"\"key\":1","key":2}`, "key", `2`},
		{"escaped quote in value", `{"a":"x\"y\\","b":"z"}`, "a", `"x\"y\\"`},
		{"backslashes before quote", `{"a":"\\\\","b":1}`, "b", `1`},
		{"escaped name", `{"\u0072equestParameters":{"x":1}}`, "requestParameters", `{"x":1}`},
		{"escaped other name", `{"x\"y":1,"k":2}`, "k", `2`},
		{"unicode", `{"ünï":"→","k":"✓"}`, "k", `"✓"`},
		{"white space", " \n{ \"a\" :\t[ 1 , 2 ] ,\r\n\"b\" : 3 }\n", "a", `[ 1 , 2 ]`},
		{"white space literal", `{"a" : 3 }`, "a", `3`},
		{"duplicate keeps first", `{"a":1,"a":2}`, "a", `1`},
		{"missing", `{"a":1}`, "b", ``},
		{"empty object", `{}`, "a", ``},
		{"not an object", `["a",1]`, "a", ``},
		{"empty", ``, "a", ``},
		{"unterminated string", `{"a":"xyz`, "a", ``},
		{"unterminated object", `{"a":{"b":1`, "a", ``},
		{"missing colon", `{"a" 1}`, "a", ``},
		{"missing value", `{"a":,"b":1}`, "b", ``},
		{"prefix of a name", `{"requestParametersX":1}`, "requestParameters", ``},
	}
}

func TestRawField(t *testing.T) {
	for _, c := range rawFieldCases() {
		t.Run(c.name, func(t *testing.T) {
			got, ok := RawField([]byte(c.raw), c.field)
			if ok != (c.want != "") || string(got) != c.want {
				t.Fatalf("RawField(%q, %q) = %q, %v; want %q", c.raw, c.field, got, ok, c.want)
			}
			if ok && cap(got) != len(got) {
				t.Fatalf("result has spare capacity %d: an append would overwrite raw", cap(got)-len(got))
			}
		})
	}
}

// TestRawFieldFixtures checks every top-level member of the CloudTrail
// fixtures against encoding/json.
func TestRawFieldFixtures(t *testing.T) {
	for _, c := range eventCases(t) {
		if c.e.Source != SourceCloudTrail {
			continue
		}
		checkRawFieldAgainstJSON(t, c.e.Raw)
		for _, name := range []string{"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails", "resources", "userIdentity", "eventID"} {
			if _, ok := RawField(c.e.Raw, name); ok != bytes.Contains(c.e.Raw, []byte(`"`+name+`":`)) {
				t.Errorf("%s: RawField(%s) ok = %v", c.name, name, ok)
			}
		}
	}
}

// checkRawFieldAgainstJSON walks the top level of raw with encoding/json
// and checks that RawField finds the first value of every member, byte for
// byte. raw must be a valid JSON object.
func checkRawFieldAgainstJSON(t *testing.T, raw []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %v %v", tok, err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		var want json.RawMessage
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if seen[name] {
			continue // RawField returns the first
		}
		seen[name] = true
		got, ok := RawField(raw, name)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("RawField(%q) = %q, %v; encoding/json has %q", name, got, ok, want)
		}
	}
	if _, ok := RawField(raw, "\x00not a member"); ok {
		t.Fatal("RawField found a member that is not there")
	}
}

func TestRawFieldAllocs(t *testing.T) {
	raw := readRaw(t, "s3_getobject_assumedrole.json")
	if n := testing.AllocsPerRun(100, func() { RawField(raw, "tlsDetails") }); n != 0 {
		t.Fatalf("RawField allocates %v times, want 0", n)
	}
}

// FuzzRawField: RawField never panics, returns a slice of its input, and
// on a valid JSON object agrees with encoding/json.
//
//	go test ./schemas -run '^$' -fuzz FuzzRawField -fuzztime 60s
func FuzzRawField(f *testing.F) {
	for _, c := range rawFieldCases() {
		f.Add([]byte(c.raw), c.field)
	}
	for _, c := range eventCases(f) {
		if c.e.Source == SourceCloudTrail {
			f.Add(c.e.Raw, "requestParameters")
			f.Add(c.e.Raw, "responseElements")
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, name string) {
		got, ok := RawField(raw, name)
		if !ok {
			if got != nil {
				t.Fatalf("not found but returned %q", got)
			}
		} else if len(got) > 0 && !bytes.Contains(raw, got) {
			t.Fatalf("result %q is not part of the input", got)
		}
		// encoding/json turns invalid UTF-8 in names into U+FFFD; RawField
		// compares bytes. CloudTrail is always UTF-8.
		if !json.Valid(raw) || !utf8.Valid(raw) || !strings.HasPrefix(strings.TrimLeft(string(raw), " \t\r\n"), "{") {
			return
		}
		checkRawFieldAgainstJSON(t, raw)
	})
}

func BenchmarkRawField(b *testing.B) {
	for _, c := range eventCases(b) {
		if c.e.Source != SourceCloudTrail {
			continue
		}
		raw := c.e.Raw
		for _, name := range []string{"requestParameters", "responseElements", "serviceEventDetails"} {
			b.Run(c.name+"/"+name, func(b *testing.B) {
				measure(b, len(raw), func() { RawField(raw, name) })
			})
		}
		// The baseline: what a rule would do without RawField.
		b.Run(c.name+"/json_map_baseline", func(b *testing.B) {
			measure(b, len(raw), func() {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(raw, &m); err != nil {
					b.Fatal(err)
				}
				_ = m["requestParameters"]
			})
		})
	}
}
