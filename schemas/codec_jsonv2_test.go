//go:build goexperiment.jsonv2

package schemas

import (
	jsonv2 "encoding/json/v2"
	"testing"
)

// The encoding/json/v2 baseline, built only with GOEXPERIMENT=jsonv2:
//
//	GOEXPERIMENT=jsonv2 go test ./schemas -run '^$' -bench 'CodecJSONv2' -benchmem

func BenchmarkEventCodecJSONv2(b *testing.B) {
	benchEventCodec(b, codec[Event]{
		name: "jsonv2",
		marshal: func(dst []byte, e *Event) []byte {
			out, err := jsonv2.Marshal(e)
			if err != nil {
				panic(err)
			}
			return append(dst, out...)
		},
		unmarshal: func(b []byte, e *Event) error {
			*e = Event{}
			return jsonv2.Unmarshal(b, e)
		},
	})
}
