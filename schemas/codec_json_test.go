package schemas

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The encoding/json baseline that the wire format was chosen against (see
// CODEC.md). It is test code only: nothing writes JSON records to the
// events topic. Raw, a []byte, travels as base64, which keeps it byte for
// byte whatever it holds (a flow log line is not JSON, and
// json.RawMessage would be compacted on the way out).

func eventJSON() codec[Event] {
	return codec[Event]{name: "json", marshal: marshalEventJSON, unmarshal: unmarshalEventJSON}
}

func detectionJSON() codec[Detection] {
	return codec[Detection]{name: "json", marshal: marshalDetectionJSON, unmarshal: unmarshalDetectionJSON}
}

func marshalEventJSON(dst []byte, e *Event) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // an Event always marshals
	}
	return append(dst, b...)
}

func unmarshalEventJSON(b []byte, e *Event) error {
	*e = Event{}
	return json.Unmarshal(b, e)
}

func marshalDetectionJSON(dst []byte, d *Detection) []byte {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return append(dst, b...)
}

func unmarshalDetectionJSON(b []byte, d *Detection) error {
	*d = Detection{}
	return json.Unmarshal(b, d)
}

// TestJSONBaselineRoundTrip checks that the baseline is a fair one: it
// carries every fixture as faithfully as the wire format does.
func TestJSONBaselineRoundTrip(t *testing.T) {
	for _, c := range eventCases(t) {
		var got Event
		if err := unmarshalEventJSON(marshalEventJSON(nil, &c.e), &got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got, want := emptyToNil(got), emptyToNil(c.e); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: JSON round trip:\n got %+v\nwant %+v", c.name, got, want)
		}
	}
	for _, c := range detectionCases() {
		var got Detection
		if err := unmarshalDetectionJSON(marshalDetectionJSON(nil, &c.d), &got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got, want := emptyToNil(got), emptyToNil(c.d); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: JSON round trip:\n got %+v\nwant %+v", c.name, got, want)
		}
	}
}
