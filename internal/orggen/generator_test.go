package orggen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// memSink keeps every object in memory, keyed bucket/key.
type memSink struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSink) Put(_ context.Context, bucket, key string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.m[bucket+"/"+key]; dup {
		return errDuplicate(bucket + "/" + key)
	}
	s.m[bucket+"/"+key] = bytes.Clone(body)
	return nil
}

type errDuplicate string

func (e errDuplicate) Error() string { return "object written twice: " + string(e) }

// testConfig is a small run with every scenario and digests.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Seed = 42
	cfg.Events = 20_000
	cfg.FlowRecords = 5_000
	cfg.Scenarios = []string{"all"}
	cfg.Digests = true
	cfg.MaxEventsPerObject = 400
	return cfg
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// generate runs cfg into memory.
func generate(t testing.TB, cfg Config) (*Summary, map[string][]byte) {
	t.Helper()
	g, err := New(cfg, quietLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sink := &memSink{m: map[string][]byte{}}
	sum, err := g.Run(context.Background(), sink)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum, sink.m
}

func gunzip(t testing.TB, key string, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not gzip: %v", key, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: gunzip: %v", key, err)
	}
	return raw
}

// output is a generated run, decoded.
type output struct {
	sum     *Summary
	objects map[string][]byte
	// records are the CloudTrail records by object, in order.
	records map[string][]map[string]any
	raw     map[string][]byte // uncompressed CloudTrail and flow objects
	byID    map[string]map[string]any
}

var (
	runOnce sync.Once
	shared  *output
)

// sharedOutput generates testConfig once for the tests that only read.
func sharedOutput(t *testing.T) *output {
	t.Helper()
	runOnce.Do(func() {
		sum, objs := generate(t, testConfig())
		o := &output{sum: sum, objects: objs, records: map[string][]map[string]any{}, raw: map[string][]byte{}, byID: map[string]map[string]any{}}
		for k, b := range objs {
			if !strings.HasSuffix(k, ".gz") {
				continue
			}
			raw := gunzip(t, k, b)
			o.raw[k] = raw
			if !strings.Contains(k, "/CloudTrail/") {
				continue
			}
			var doc struct {
				Records []map[string]any `json:"Records"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: not JSON: %v", k, err)
			}
			o.records[k] = doc.Records
			for _, r := range doc.Records {
				id, _ := r["eventID"].(string)
				if _, dup := o.byID[id]; dup {
					t.Fatalf("eventID %s appears twice", id)
				}
				o.byID[id] = r
			}
		}
		shared = o
	})
	if shared == nil {
		t.Fatal("shared output failed to generate")
	}
	return shared
}

func TestDeterminism(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		same   bool
	}{
		{"same seed", func(*Config) {}, true},
		{"same seed, one worker", func(c *Config) { c.Concurrency = 1 }, true},
		{"same seed, seven workers", func(c *Config) { c.Concurrency = 7 }, true},
		{"other seed", func(c *Config) { c.Seed++ }, false},
	}
	// Mixed covers Parquet: each worker writes files of both kinds, in an
	// order that depends on the number of workers.
	small := testConfig()
	small.Events, small.FlowRecords = 5_000, 2_000
	for _, base := range []Config{small, parquetTestConfig(FlowFormatMixed)} {
		t.Run(base.FlowFormat, func(t *testing.T) {
			_, want := generate(t, base)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					cfg := base
					tc.mutate(&cfg)
					_, got := generate(t, cfg)
					same := maps.EqualFunc(got, want, bytes.Equal)
					if same != tc.same {
						t.Fatalf("identical output = %v, want %v (%d vs %d objects)", same, tc.same, len(got), len(want))
					}
					if !tc.same {
						for k := range got {
							if _, ok := want[k]; ok && strings.Contains(k, "/CloudTrail/") {
								t.Fatalf("a different seed reused the key %s", k)
							}
						}
					}
				})
			}
		})
	}
}

func TestEventCounts(t *testing.T) {
	cases := []struct {
		name          string
		events, flows int
		scenarios     []string
	}{
		{"tiny", 300, 100, nil},
		{"no flows", 3_000, 0, []string{"all"}},
		{"no cloudtrail", 0, 2_000, []string{"all"}},
		{"default shape", 20_000, 5_000, []string{ScenarioBruteForce, ScenarioPortScan}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Events, cfg.FlowRecords, cfg.Scenarios = tc.events, tc.flows, tc.scenarios
			sum, objs := generate(t, cfg)
			if sum.Events != tc.events {
				t.Errorf("summary events = %d, want %d", sum.Events, tc.events)
			}
			var events, flows int
			for k, b := range objs {
				switch {
				case strings.Contains(k, "/CloudTrail/"):
					var doc struct{ Records []json.RawMessage }
					if err := json.Unmarshal(gunzip(t, k, b), &doc); err != nil {
						t.Fatalf("%s: %v", k, err)
					}
					if len(doc.Records) == 0 {
						t.Errorf("%s: empty delivery object", k)
					}
					events += len(doc.Records)
				case strings.Contains(k, "/vpcflowlogs/"):
					flows += strings.Count(string(gunzip(t, k, b)), "\n") - 1
				}
			}
			if events != tc.events {
				t.Errorf("records in objects = %d, want %d", events, tc.events)
			}
			if flows < tc.flows || flows != sum.FlowRecords {
				t.Errorf("flow records = %d (summary %d), want at least %d", flows, sum.FlowRecords, tc.flows)
			}
		})
	}
}

var (
	uuidRE    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	accountRE = regexp.MustCompile(`^\d{12}$`)
	ctKeyRE   = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(o-[a-z0-9]{10})/(\d{12})/CloudTrail/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z]{2}-[a-z]+-\d)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	digestRE  = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(o-[a-z0-9]{10})/(\d{12})/CloudTrail-Digest/([a-z]{2}-[a-z]+-\d)/\d{4}/\d{2}/\d{2}/(\d{12})_CloudTrail-Digest_([a-z]{2}-[a-z]+-\d)_org-trail_[a-z]{2}-[a-z]+-\d_\d{8}T\d{6}Z\.json\.gz$`)
	flowKeyRE = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(\d{12})/vpcflowlogs/([a-z]{2}-[a-z]+-\d)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_vpcflowlogs_([a-z]{2}-[a-z]+-\d)_(fl-[0-9a-f]{17})_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.(gz|parquet)$`)
)

func TestKeyLayout(t *testing.T) {
	text := testConfig()
	text.Events, text.FlowRecords = 3_000, 1_000
	cases := []struct {
		name, prefix string
		cfg          Config
		// kinds are the kinds of object the run must write.
		kinds []string
	}{
		{"no prefix", "", text, []string{"cloudtrail", "digest", "flow gz"}},
		{"prefix", "org/logs", text, []string{"cloudtrail", "digest", "flow gz"}},
		{"parquet", "org/logs", parquetTestConfig(FlowFormatParquet), []string{"cloudtrail", "digest", "flow parquet"}},
		{"mixed", "", parquetTestConfig(FlowFormatMixed), []string{"cloudtrail", "digest", "flow gz", "flow parquet"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.KeyPrefix = tc.prefix
			_, objs := generate(t, cfg)
			counts := map[string]int{}
			flowLogExt := map[string]string{} // by flow log id
			for k := range objs {
				bucket, key, _ := strings.Cut(k, "/")
				switch {
				case bucket == cfg.TrailBucket && strings.Contains(key, "/CloudTrail-Digest/"):
					m := digestRE.FindStringSubmatch(key)
					if m == nil || m[1] != tc.prefix || m[3] != m[5] || m[4] != m[6] {
						t.Errorf("digest key %q does not match the layout", key)
					}
					counts["digest"]++
				case bucket == cfg.TrailBucket:
					m := ctKeyRE.FindStringSubmatch(key)
					if m == nil || m[1] != tc.prefix || m[3] != m[8] || m[4] != m[9] || m[5]+m[6]+m[7] != m[10][:8] {
						t.Errorf("CloudTrail key %q does not match the layout", key)
					}
					counts["cloudtrail"]++
				case bucket == cfg.FlowBucket:
					m := flowKeyRE.FindStringSubmatch(key)
					if m == nil || m[1] != tc.prefix || m[2] != m[7] || m[3] != m[8] || m[4]+m[5]+m[6] != m[10][:8] {
						t.Errorf("flow key %q does not match the layout", key)
						continue
					}
					counts["flow "+m[11]]++
					// A flow log delivers in one format, whatever the mix.
					if ext, seen := flowLogExt[m[9]]; seen && ext != m[11] {
						t.Errorf("flow log %s delivers both .log.%s and .log.%s objects", m[9], ext, m[11])
					}
					flowLogExt[m[9]] = m[11]
				default:
					t.Errorf("unexpected object %s", k)
				}
			}
			for _, kind := range tc.kinds {
				if counts[kind] == 0 {
					t.Errorf("no %s objects", kind)
				}
				delete(counts, kind)
			}
			if len(counts) > 0 {
				t.Errorf("unexpected objects: %v", counts)
			}
		})
	}
}

// requiredFields are present in every CloudTrail record.
var requiredFields = []string{
	"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
	"userAgent", "requestParameters", "responseElements", "eventID", "readOnly", "eventType", "managementEvent",
	"recipientAccountId", "eventCategory",
}

func TestCloudTrailRecords(t *testing.T) {
	o := sharedOutput(t)
	cfg := testConfig()
	start, end := cfg.Start.Add(-time.Hour), cfg.Start.Add(cfg.Duration)
	types := map[string]int{}
	for key, recs := range o.records {
		m := ctKeyRE.FindStringSubmatch(key)
		for i, r := range recs {
			fail := func(format string, args ...any) {
				t.Helper()
				b, _ := json.Marshal(r)
				t.Fatalf("%s record %d: "+format+"\n%s", append(append([]any{key, i}, args...), b)...)
			}
			for _, f := range requiredFields {
				if _, ok := r[f]; !ok {
					fail("missing %s", f)
				}
			}
			if v := r["eventVersion"]; v != "1.08" && v != "1.09" {
				fail("eventVersion %v", v)
			}
			if !uuidRE.MatchString(r["eventID"].(string)) {
				fail("eventID is not a UUID")
			}
			et, err := time.Parse(time.RFC3339, r["eventTime"].(string))
			if err != nil || et.Before(start) || !et.Before(end) {
				fail("eventTime %v outside the window", r["eventTime"])
			}
			if r["recipientAccountId"] != m[3] || r["awsRegion"] != m[4] {
				fail("recipient %v/%v is not the key's %s/%s", r["recipientAccountId"], r["awsRegion"], m[3], m[4])
			}
			for _, f := range []string{"readOnly", "managementEvent"} {
				if _, ok := r[f].(bool); !ok {
					fail("%s is not a boolean", f)
				}
			}
			if ua := r["userAgent"].(string); ua == "" || strings.Contains(ua, "{{") {
				fail("userAgent %q", ua)
			}
			if !strings.HasSuffix(r["eventSource"].(string), ".amazonaws.com") {
				fail("eventSource %v", r["eventSource"])
			}
			if r["eventType"] != "AwsConsoleSignIn" && r["requestID"] == nil {
				fail("no requestID")
			}
			checkSourceIP(t, r, fail)
			ui := r["userIdentity"].(map[string]any)
			typ, _ := ui["type"].(string)
			types[typ]++
			checkIdentity(ui, et, fail)
		}
	}
	for _, typ := range []string{"IAMUser", "AssumedRole", "AWSService", "SAMLUser", "AWSAccount"} {
		if types[typ] == 0 {
			t.Errorf("no %s identities in the output (%v)", typ, types)
		}
	}
}

// checkSourceIP: service names for AWS's own calls, private addresses
// only through a VPC endpoint, public addresses otherwise.
func checkSourceIP(t *testing.T, r map[string]any, fail func(string, ...any)) {
	src := r["sourceIPAddress"].(string)
	addr, err := netip.ParseAddr(src)
	if err != nil {
		if !strings.HasSuffix(src, ".amazonaws.com") {
			fail("sourceIPAddress %q is neither an address nor a service", src)
		}
		return
	}
	_, viaEndpoint := r["vpcEndpointId"]
	switch {
	case viaEndpoint && !addr.IsPrivate():
		fail("call through a VPC endpoint from public %s", src)
	case !viaEndpoint && (addr.IsPrivate() || !addr.IsGlobalUnicast()):
		fail("external caller from non-public %s", src)
	}
}

// checkIdentity checks the userIdentity shape of each type.
func checkIdentity(ui map[string]any, eventTime time.Time, fail func(string, ...any)) {
	switch ui["type"] {
	case "AssumedRole":
		sc, ok := ui["sessionContext"].(map[string]any)
		if !ok {
			fail("AssumedRole without sessionContext")
		}
		issuer := sc["sessionIssuer"].(map[string]any)
		if !strings.HasPrefix(issuer["arn"].(string), "arn:aws:iam::") || issuer["type"] != "Role" {
			fail("bad sessionIssuer %v", issuer)
		}
		attrs := sc["attributes"].(map[string]any)
		created, err := time.Parse(time.RFC3339, attrs["creationDate"].(string))
		if err != nil || created.After(eventTime) {
			fail("creationDate %v after the event", attrs["creationDate"])
		}
		if m := attrs["mfaAuthenticated"]; m != "true" && m != "false" {
			fail("mfaAuthenticated %v", m)
		}
		if !strings.HasPrefix(ui["accessKeyId"].(string), "ASIA") || !accountRE.MatchString(ui["accountId"].(string)) {
			fail("bad session key or account")
		}
	case "IAMUser":
		if _, ok := ui["userName"].(string); !ok {
			fail("IAMUser without userName")
		}
	case "Root":
		if !strings.HasSuffix(ui["arn"].(string), ":root") {
			fail("Root arn %v", ui["arn"])
		}
	case "AWSService":
		if !strings.HasSuffix(ui["invokedBy"].(string), ".amazonaws.com") {
			fail("AWSService invokedBy %v", ui["invokedBy"])
		}
	case "SAMLUser", "AWSAccount":
	default:
		fail("unknown userIdentity type %v", ui["type"])
	}
}

func TestErrorRate(t *testing.T) {
	o := sharedOutput(t)
	var total, failed int
	for _, recs := range o.records {
		for _, r := range recs {
			total++
			if _, ok := r["errorCode"]; ok {
				failed++
				if r["responseElements"] != nil {
					t.Errorf("failed call %v has a response", r["eventName"])
				}
			}
		}
	}
	rate := float64(failed) / float64(total)
	if rate < 0.015 || rate > 0.06 {
		t.Errorf("error rate %.3f, want about 2-5%%", rate)
	}
}

func TestFlowFiles(t *testing.T) {
	o := sharedOutput(t)
	headers := map[string]int{}
	for k, raw := range o.raw {
		if !strings.Contains(k, "/vpcflowlogs/") {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		header := strings.Fields(lines[0])
		if lines[0] != flowFormatV2Spec && lines[0] != flowFormatV5Spec {
			t.Fatalf("%s: unexpected header %q", k, lines[0])
		}
		headers[lines[0]]++
		col := map[string]int{}
		for i, h := range header {
			col[h] = i
		}
		for n, line := range lines[1:] {
			f := strings.Split(line, " ")
			if len(f) != len(header) {
				t.Fatalf("%s line %d: %d fields, header has %d: %q", k, n+1, len(f), len(header), line)
			}
			status := f[col["log-status"]]
			switch status {
			case "OK":
				for _, name := range []string{"srcaddr", "dstaddr"} {
					if _, err := netip.ParseAddr(f[col[name]]); err != nil {
						t.Fatalf("%s line %d: %s %q", k, n+1, name, f[col[name]])
					}
				}
				if a := f[col["action"]]; a != "ACCEPT" && a != "REJECT" {
					t.Fatalf("%s line %d: action %q", k, n+1, a)
				}
			case "NODATA", "SKIPDATA":
				if f[col["srcaddr"]] != "-" || f[col["action"]] != "-" {
					t.Fatalf("%s line %d: %s record with addresses: %q", k, n+1, status, line)
				}
			default:
				t.Fatalf("%s line %d: log-status %q", k, n+1, status)
			}
		}
	}
	if headers[flowFormatV2Spec] == 0 || headers[flowFormatV5Spec] == 0 {
		t.Errorf("want both flow formats, got %v", headers)
	}
}

func TestGroundTruth(t *testing.T) {
	o := sharedOutput(t)
	gt := o.sum.GroundTruth
	if len(gt.Scenarios) != len(Scenarios) {
		t.Fatalf("%d scenarios in the ground truth, want %d", len(gt.Scenarios), len(Scenarios))
	}
	byName := map[string]ScenarioTruth{}
	for _, s := range gt.Scenarios {
		byName[s.Name] = s
		if s.Start.Before(gt.Start) || s.End.After(gt.End) || s.End.Before(s.Start) {
			t.Errorf("%s: time range %s..%s outside the window", s.Name, s.Start, s.End)
		}
		if len(s.SourceIPs) == 0 || !accountRE.MatchString(s.AccountID) {
			t.Errorf("%s: no source address or account", s.Name)
		}
		for _, id := range s.EventIDs {
			r, ok := o.byID[id]
			if !ok {
				t.Fatalf("%s: event %s is not in the output", s.Name, id)
			}
			if r["recipientAccountId"] != s.AccountID {
				t.Errorf("%s: event %s in account %v, want %s", s.Name, id, r["recipientAccountId"], s.AccountID)
			}
		}
	}
	events := func(name string) []map[string]any {
		var out []map[string]any
		for _, id := range byName[name].EventIDs {
			out = append(out, o.byID[id])
		}
		return out
	}
	names := func(rs []map[string]any) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r["eventName"].(string))
		}
		return out
	}
	cases := []struct {
		name  string
		check func(t *testing.T, s ScenarioTruth, rs []map[string]any)
	}{
		{ScenarioBruteForce, func(t *testing.T, s ScenarioTruth, rs []map[string]any) {
			failures := 0
			for _, r := range rs {
				if r["eventName"] == "ConsoleLogin" && r["errorMessage"] == "Failed authentication" && r["sourceIPAddress"] == s.SourceIPs[0] {
					failures++
				}
			}
			if failures < 20 {
				t.Errorf("%d failed sign-ins from %s, want at least 20", failures, s.SourceIPs[0])
			}
		}},
		{ScenarioImpossibleTravel, func(t *testing.T, s ScenarioTruth, rs []map[string]any) {
			if len(s.SourceIPs) != 2 || s.SourceCountries[0] == s.SourceCountries[1] {
				t.Fatalf("want two addresses in two countries, got %v %v", s.SourceIPs, s.SourceCountries)
			}
			keys := map[string]bool{}
			for _, r := range rs {
				keys[r["userIdentity"].(map[string]any)["accessKeyId"].(string)] = true
			}
			if len(keys) != 1 {
				t.Errorf("want one access key used from both places, got %v", keys)
			}
			if s.End.Sub(s.Start) > 20*time.Minute {
				t.Errorf("travel took %s, want minutes", s.End.Sub(s.Start))
			}
		}},
		{ScenarioAuditTampering, func(t *testing.T, s ScenarioTruth, rs []map[string]any) {
			for _, want := range []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "DeleteFlowLogs"} {
				if !slices.Contains(names(rs), want) {
					t.Errorf("no %s in %v", want, names(rs))
				}
			}
		}},
		{ScenarioPublicLogBucket, func(t *testing.T, s ScenarioTruth, rs []map[string]any) {
			for _, want := range []string{"PutBucketPolicy", "PutBucketAcl", "DeleteBucketPublicAccessBlock"} {
				if !slices.Contains(names(rs), want) {
					t.Errorf("no %s in %v", want, names(rs))
				}
			}
			for _, r := range rs {
				b, _ := json.Marshal(r["requestParameters"])
				switch r["eventName"] {
				case "PutBucketPolicy":
					if !strings.Contains(string(b), `"Principal":"*"`) || !strings.Contains(string(b), testConfig().TrailBucket) {
						t.Errorf("policy is not public on the trail bucket: %s", b)
					}
				case "PutBucketAcl":
					if !strings.Contains(string(b), "global/AllUsers") {
						t.Errorf("ACL does not grant AllUsers: %s", b)
					}
				}
			}
		}},
		{ScenarioFirstSeen, func(t *testing.T, s ScenarioTruth, rs []map[string]any) {
			// The principal never called Secrets Manager before.
			for _, recs := range o.records {
				for _, r := range recs {
					ui := r["userIdentity"].(map[string]any)
					et, _ := time.Parse(time.RFC3339, r["eventTime"].(string))
					if ui["arn"] == s.Principal && et.Before(s.Start) && (r["eventSource"] == "secretsmanager.amazonaws.com" || r["awsRegion"] == s.Region) {
						t.Fatalf("%s already called %v in %v before the scenario", s.Principal, r["eventName"], r["awsRegion"])
					}
				}
			}
			if len(rs) < 15 {
				t.Errorf("%d events, want a burst", len(rs))
			}
		}},
		{ScenarioPortScan, func(t *testing.T, s ScenarioTruth, _ []map[string]any) {
			ports, rejects, n := map[string]bool{}, 0, 0
			for _, ref := range s.FlowRecords {
				raw := o.raw[ref.Bucket+"/"+ref.Key]
				lines := strings.Split(string(raw), "\n")
				col := slices.Index(strings.Fields(lines[0]), "dstport")
				src := slices.Index(strings.Fields(lines[0]), "srcaddr")
				for _, i := range ref.Indexes {
					f := strings.Fields(lines[i+1])
					if f[src] != s.SourceIPs[0] {
						t.Fatalf("%s record %d is from %s, not the scanner", ref.Key, i, f[src])
					}
					ports[f[col]] = true
					if strings.Contains(lines[i+1], "REJECT") {
						rejects++
					}
					n++
				}
			}
			if len(ports) < 1000 || float64(rejects) < 0.95*float64(n) {
				t.Errorf("%d ports, %d of %d rejected", len(ports), rejects, n)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := byName[tc.name]
			if !ok {
				t.Fatalf("scenario missing from the ground truth")
			}
			tc.check(t, s, events(tc.name))
		})
	}
	if _, err := json.Marshal(gt); err != nil {
		t.Fatalf("ground truth does not encode: %v", err)
	}
}

func TestDigests(t *testing.T) {
	o := sharedOutput(t)
	hashes := map[string]string{}
	for k, raw := range o.raw {
		if strings.Contains(k, "/CloudTrail/") {
			sum := sha256.Sum256(raw)
			hashes[k[strings.Index(k, "/")+1:]] = hex.EncodeToString(sum[:])
		}
	}
	digests := map[string]digestFile{}
	listed := 0
	for k, b := range o.objects {
		if !strings.Contains(k, "/CloudTrail-Digest/") {
			continue
		}
		var d digestFile
		if err := json.Unmarshal(gunzip(t, k, b), &d); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		digests[d.DigestS3Object] = d
		for _, lf := range d.LogFiles {
			if hashes[lf.S3Object] != lf.HashValue {
				t.Fatalf("%s lists %s with hash %s, want %s", k, lf.S3Object, lf.HashValue, hashes[lf.S3Object])
			}
			listed++
		}
	}
	if listed != len(hashes) {
		t.Errorf("digests list %d log files, %d were written", listed, len(hashes))
	}
	for k, d := range digests {
		if d.PreviousDigestS3Object == nil {
			continue
		}
		prev, ok := digests[*d.PreviousDigestS3Object]
		if !ok {
			t.Fatalf("%s: previous digest %s missing", k, *d.PreviousDigestS3Object)
		}
		body, _ := json.Marshal(prev)
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != *d.PreviousDigestHashValue {
			t.Errorf("%s: previous digest hash does not match", k)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		field  string // "" when valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"all scenarios", func(c *Config) { c.Scenarios = []string{"all"} }, ""},
		{"no accounts", func(c *Config) { c.Accounts = 0 }, "accounts"},
		{"unaligned start", func(c *Config) { c.Start = c.Start.Add(time.Minute) }, "start"},
		{"zero start", func(c *Config) { c.Start = time.Time{} }, "start"},
		{"short duration", func(c *Config) { c.Duration = time.Minute }, "duration"},
		{"long duration", func(c *Config) { c.Duration = 40 * 24 * time.Hour }, "duration"},
		{"negative events", func(c *Config) { c.Events = -1 }, "events"},
		{"nothing to do", func(c *Config) { c.Events, c.FlowRecords = 0, 0 }, "events, flow_records"},
		{"odd interval", func(c *Config) { c.DeliveryInterval = 90 * time.Second }, "delivery_interval"},
		{"gzip level", func(c *Config) { c.GzipLevel = 0 }, "gzip_level"},
		{"bad bucket", func(c *Config) { c.TrailBucket = "Trail_Bucket" }, "trail_bucket"},
		{"bad flow bucket", func(c *Config) { c.FlowBucket = "x" }, "flow_bucket"},
		{"unknown flow format", func(c *Config) { c.FlowFormat = "csv" }, "flow_format"},
		{"no flow format", func(c *Config) { c.FlowFormat = "" }, "flow_format"},
		{"escaping prefix", func(c *Config) { c.KeyPrefix = "../x" }, "key_prefix"},
		{"quote in prefix", func(c *Config) { c.KeyPrefix = `a"b` }, "key_prefix"},
		{"good prefix", func(c *Config) { c.KeyPrefix = "org-logs/prod_1" }, ""},
		{"unknown scenario", func(c *Config) { c.Scenarios = []string{"ddos"} }, "scenarios"},
		{"port scan without flows", func(c *Config) { c.Scenarios, c.FlowRecords = []string{ScenarioPortScan}, 0 }, "scenarios"},
		{"objects per file", func(c *Config) { c.MaxEventsPerObject = 0 }, "max_events_per_object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.field != "" && err == nil:
				t.Fatalf("want an error naming %s", tc.field)
			case tc.field != "" && !strings.HasPrefix(err.Error(), tc.field+":"):
				t.Fatalf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

// TestSmallOrganisations checks every scenario finds an actor and a target
// however few accounts there are.
func TestSmallOrganisations(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("%d accounts", n), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Accounts, cfg.Events, cfg.FlowRecords, cfg.Scenarios = n, 3_000, 500, []string{"all"}
			sum, _ := generate(t, cfg)
			if got := len(sum.GroundTruth.Scenarios); got != len(Scenarios) {
				t.Fatalf("%d scenarios injected, want %d", got, len(Scenarios))
			}
			for _, s := range sum.GroundTruth.Scenarios {
				if len(s.EventIDs) == 0 && len(s.FlowRecords) == 0 {
					t.Errorf("%s: no events", s.Name)
				}
			}
		})
	}
}

func TestScenarioExpansion(t *testing.T) {
	cases := []struct {
		name   string
		in     []string
		events int
		flows  int
		want   []string
	}{
		{"all", []string{"all"}, 1, 1, Scenarios},
		{"all without flows", []string{"all"}, 1, 0, Scenarios[:5]},
		{"all without events", []string{"all"}, 0, 1, []string{ScenarioPortScan}},
		{"order and duplicates", []string{ScenarioPortScan, ScenarioBruteForce, ScenarioPortScan}, 1, 1, []string{ScenarioBruteForce, ScenarioPortScan}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Scenarios: tc.in, Events: tc.events, FlowRecords: tc.flows}
			got, err := c.scenarios()
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
