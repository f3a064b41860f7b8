package ingest

import (
	"encoding/json"
	"testing"
)

// TestJSONParserValidates checks the parser's verdict on single values
// against encoding/json's, except for what the parser documents keeping:
// control characters inside strings.
func TestJSONParserValidates(t *testing.T) {
	for _, in := range []string{
		`0`, `-0`, `12`, `-12.5`, `1e5`, `1E+5`, `1.5e-3`, `0.0`,
		`00`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `1.2.3`, `1e5e5`, `1-2`, `+1`, `--1`,
		`"plain"`, `"a\"b"`, `"\\"`, `"\/\b\f\n\r\t"`, `"\u00e9"`, `"\uD83D\uDE00"`,
		`"\0"`, `"\x41"`, `"\u12"`, `"\u12G4"`, `"\`,
		`{"a":1}`, `{"\u0061":1}`, `{"\q":1}`, `{"a":[1,00]}`, `{"a":{"b":"\z"}}`,
		`[1,2]`, `[1,]`, `{"a":1,}`, `true`, `nul`,
	} {
		p := jsonParser{maxDepth: 16}
		p.reset([]byte(in))
		p.skip()
		p.end()
		if got, want := p.err == nil, json.Valid([]byte(in)); got != want {
			t.Errorf("%s: parser accepts %v, encoding/json %v (err %v)", in, got, want, p.err)
		}
	}
}
