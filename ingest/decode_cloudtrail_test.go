package ingest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

var updateCloudTrail = flag.Bool("update-cloudtrail", false, "rewrite the CloudTrail decoder's golden files")

// ctCollector is an Emitter that keeps copies of what it is given, in a
// form that reads well in golden files.
type ctCollector struct {
	Events []ctGoldenEvent `json:"events"`
	Bad    []ctGoldenBad   `json:"bad_records,omitempty"`
	Error  string          `json:"object_error,omitempty"`
}

type ctGoldenEvent struct {
	ID, Time, AccountID, Region, EventSource, EventName, EventVersion string
	EventType, EventCategory, PrincipalType, Principal, PrincipalID   string
	AccessKeyID, SessionIssuer, UserName, MFA, SourceIP, UserAgent    string
	ErrorCode, ErrorMessage, ReadOnly, RequestID, PartitionKey        string
	Resources                                                         []schemas.Resource `json:",omitempty"`
	Index                                                             uint32
	RawBytes                                                          int
}

type ctGoldenBad struct {
	Index   int64
	Reason  string
	Error   string
	Payload string
}

func tristate(t schemas.Tristate) string {
	return map[schemas.Tristate]string{schemas.Unset: "", schemas.True: "true", schemas.False: "false"}[t]
}

func (c *ctCollector) Event(e *schemas.Event) error {
	c.Events = append(c.Events, ctGoldenEvent{
		ID: e.ID, Time: e.Time.Format(time.RFC3339Nano), AccountID: e.AccountID, Region: e.Region,
		EventSource: e.EventSource, EventName: e.EventName, EventVersion: e.EventVersion,
		EventType: e.EventType, EventCategory: e.EventCategory, PrincipalType: e.PrincipalType,
		Principal: e.Principal, PrincipalID: e.PrincipalID, AccessKeyID: e.AccessKeyID,
		SessionIssuer: e.SessionIssuer, UserName: e.UserName, MFA: tristate(e.MFA),
		SourceIP: e.SourceIP, UserAgent: e.UserAgent, ErrorCode: e.ErrorCode,
		ErrorMessage: e.ErrorMessage, ReadOnly: tristate(e.ReadOnly), RequestID: e.RequestID,
		PartitionKey: string(schemas.PartitionKey(e)), Resources: slices.Clone(e.Resources),
		Index: e.Object.Index, RawBytes: len(e.Raw),
	})
	return nil
}

func (c *ctCollector) BadRecord(index int64, err *DecodeError, payload []byte) error {
	if len(payload) > 60 {
		payload = payload[:60]
	}
	c.Bad = append(c.Bad, ctGoldenBad{Index: index, Reason: err.Reason, Error: err.Err.Error(), Payload: string(payload)})
	return nil
}

// rawCollector checks that every event's Raw is a valid JSON object that
// appears byte for byte in the input.
type rawCollector struct {
	t     *testing.T
	input []byte
	n     int
}

func (r *rawCollector) Event(e *schemas.Event) error {
	// The parser lets control characters stand unescaped inside strings
	// (the record is kept as it came); apart from those, Raw is JSON.
	lenient := bytes.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, e.Raw)
	if !json.Valid(lenient) {
		r.t.Errorf("event %s: Raw is not valid JSON", e.ID)
	}
	if !bytes.Contains(r.input, e.Raw) {
		r.t.Errorf("event %s: Raw is not a byte-for-byte slice of the input", e.ID)
	}
	r.n++
	return nil
}

func (r *rawCollector) BadRecord(int64, *DecodeError, []byte) error { return nil }

// TestCloudTrailInPlaceAcrossWindows decodes records that straddle the
// reader's window again and again (a 1 KiB window), with bad records among
// them, and checks the in-place path against the framed one.
func TestCloudTrailInPlaceAcrossWindows(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteString(",\n ")
		}
		switch {
		case i%37 == 5:
			b.WriteString(`{"eventID":"broken","eventTime":tru}`)
		case i%41 == 7:
			b.WriteString(`{"no":"cloudtrail"}`)
		default:
			fmt.Fprintf(&b, `{"eventVersion":"1.09","eventID":"id-%04d","eventTime":"2026-03-02T10:%02d:00Z","eventName":"GetObject",`+
				`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u%d","accountId":"111122223333"},`+
				`"requestParameters":{"pad":%q},"recipientAccountId":"111122223333"}`, i, i%60, i, strings.Repeat("x", i*3%500))
		}
	}
	b.WriteString(`]}`)
	lim := DefaultLimits()
	lim.MaxRecordBytes = 1024
	fast, slow := NewCloudTrailDecoder(lim), NewCloudTrailDecoder(lim)
	slow.framedOnly = true
	ft, st := &transcript{}, &transcript{}
	ferr := fast.Decode(strings.NewReader(b.String()), testObjectInfo(), ft)
	serr := slow.Decode(strings.NewReader(b.String()), testObjectInfo(), st)
	if ferr != nil || serr != nil {
		t.Fatalf("errors: in place %v, framed %v", ferr, serr)
	}
	if len(ft.lines) != 200 || !slices.Equal(ft.lines, st.lines) {
		t.Fatalf("in place gave %d lines, framed %d, or they differ", len(ft.lines), len(st.lines))
	}
	events := 0
	for _, l := range ft.lines {
		if strings.HasPrefix(l, "event ") {
			events++
		}
	}
	if want := 200 - 6 - 5; events != want {
		t.Errorf("%d events, want %d", events, want)
	}
}

// transcript records what a decoder emitted, one line per call.
type transcript struct{ lines []string }

func (tr *transcript) Event(e *schemas.Event) error {
	tr.lines = append(tr.lines, fmt.Sprintf("event %+v", *e))
	return nil
}

func (tr *transcript) BadRecord(i int64, err *DecodeError, payload []byte) error {
	tr.lines = append(tr.lines, fmt.Sprintf("bad %d %s %v %q", i, err.Reason, err, payload))
	return nil
}

func testObjectInfo() ObjectInfo {
	return ObjectInfo{
		Bucket: "org-trail", Key: "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/03/02/f.json.gz",
		Kind: schemas.ObjectCloudTrail, AccountID: "000000000000", Region: "ap-south-1",
		Now: time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC),
	}
}

// smallLimits makes the too-deep fixture trip the depth limit.
func smallLimits() Limits {
	l := DefaultLimits()
	l.MaxDepth = 32
	return l
}

func TestCloudTrailGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/cloudtrail/*")
	if err != nil {
		t.Fatal(err)
	}
	dec := NewCloudTrailDecoder(smallLimits())
	for _, in := range files {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var c ctCollector
			if err := dec.Decode(bytes.NewReader(input), testObjectInfo(), &c); err != nil {
				c.Error = err.Error()
				if ReasonOf(err) == "" {
					t.Errorf("object error without a reason: %v", err)
				}
			}
			got, err := json.MarshalIndent(&c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := in + ".golden.json"
			if *updateCloudTrail {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./ingest -run CloudTrailGolden -update-cloudtrail)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded %s differs from %s:\n%s", in, golden, got)
			}
			rc := &rawCollector{t: t, input: input}
			_ = dec.Decode(bytes.NewReader(input), testObjectInfo(), rc)
			if rc.n != len(c.Events) {
				t.Errorf("second decode with the same decoder gave %d events, first %d", rc.n, len(c.Events))
			}
		})
	}
}

// TestCloudTrailSmallReads feeds the decoder one byte at a time, so every
// record crosses window refills, and expects the same events.
func TestCloudTrailSmallReads(t *testing.T) {
	for _, name := range []string{"delivery.json", "array.json", "ndjson.jsonl", "odd_types.json", "bad_records.json", "eventbridge.json"} {
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join("testdata/cloudtrail", name))
			if err != nil {
				t.Fatal(err)
			}
			var whole, bytewise ctCollector
			_ = NewCloudTrailDecoder(smallLimits()).Decode(bytes.NewReader(input), testObjectInfo(), &whole)
			lim := smallLimits()
			lim.MaxRecordBytes = 8 << 10
			_ = NewCloudTrailDecoder(lim).Decode(&oneByteReader{b: input}, testObjectInfo(), &bytewise)
			a, _ := json.Marshal(whole)
			b, _ := json.Marshal(bytewise)
			if !bytes.Equal(a, b) {
				t.Errorf("byte-at-a-time decode differs:\nwhole:    %s\nbytewise: %s", a, b)
			}
		})
	}
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

// TestCloudTrailRecordTooLarge checks that a record over the limit is
// skipped without holding it, and the records around it survive.
func TestCloudTrailRecordTooLarge(t *testing.T) {
	big := `{"eventID":"big","eventTime":"2026-03-02T10:15:30Z","eventName":"X","requestParameters":{"blob":"` + strings.Repeat("a", 64<<10) + `"}}`
	small := `{"eventID":"small-%d","eventTime":"2026-03-02T10:15:30Z","eventName":"Y","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}`
	for _, tc := range []struct{ name, input string }{
		{"delivery", `{"Records":[` + strings.Replace(small, "%d", "1", 1) + `,` + big + `,` + strings.Replace(small, "%d", "2", 1) + `]}`},
		{"ndjson", strings.Replace(small, "%d", "1", 1) + "\n" + big + "\n" + strings.Replace(small, "%d", "2", 1) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := DefaultLimits()
			lim.MaxRecordBytes = 16 << 10
			var c ctCollector
			if err := NewCloudTrailDecoder(lim).Decode(&oneByteReader{b: []byte(tc.input)}, testObjectInfo(), &c); err != nil {
				t.Fatal(err)
			}
			if len(c.Events) != 2 || c.Events[0].ID != "small-1" || c.Events[1].ID != "small-2" {
				t.Fatalf("events = %+v", c.Events)
			}
			if len(c.Bad) != 1 || c.Bad[0].Reason != ReasonRecordTooLarge || c.Bad[0].Index != 1 {
				t.Fatalf("bad = %+v", c.Bad)
			}
		})
	}
}

func FuzzCloudTrailDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/cloudtrail/*")
	for _, in := range files {
		if b, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".golden.json") {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"Records":[{"a":"\u00"}]}`))
	f.Add([]byte("[{\"eventID\":\"\\ud800\"}]"))
	dec := NewCloudTrailDecoder(smallLimits())
	framed := NewCloudTrailDecoder(smallLimits())
	framed.framedOnly = true
	f.Fuzz(func(t *testing.T, in []byte) {
		rc := &rawCollector{t: t, input: in}
		err := dec.Decode(bytes.NewReader(in), testObjectInfo(), rc)
		if err != nil && ReasonOf(err) == "" {
			t.Fatalf("object error without a dead-letter reason: %v", err)
		}
		// Parsing records in place and framing them first must agree
		// on every event, bad record and error.
		fast, slow := &transcript{}, &transcript{}
		ferr := dec.Decode(bytes.NewReader(in), testObjectInfo(), fast)
		serr := framed.Decode(bytes.NewReader(in), testObjectInfo(), slow)
		if fmt.Sprint(ferr) != fmt.Sprint(serr) || !slices.Equal(fast.lines, slow.lines) {
			t.Fatalf("in-place and framed decoding differ:\nin place: %v\n%s\nframed: %v\n%s",
				ferr, strings.Join(fast.lines, "\n"), serr, strings.Join(slow.lines, "\n"))
		}
	})
}
