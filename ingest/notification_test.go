package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/schemas"
)

// The -update flag rewrites golden files under testdata/. Several test
// files of this package may want it, so it is registered once, by whoever
// comes first, and read through flag.Lookup.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
	return true
}()

// notificationUpdateGolden reports whether -update was given.
func notificationUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const notificationDir = "testdata/notifications"

// notificationGolden is what a golden file holds for one input.
type notificationGolden struct {
	Objects []schemas.Object `json:"objects"`
	// Reason is the DecodeError reason when the input is rejected.
	Reason string `json:"reason,omitempty"`
	// Error is the full error text, to show why.
	Error string `json:"error,omitempty"`
}

// TestParseNotificationGolden parses every sample under
// testdata/notifications and compares the result with its .golden file.
// Samples named bad_* must be rejected with ReasonBadAnnouncement.
func TestParseNotificationGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join(notificationDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no samples")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ParseNotification(body)
			var got notificationGolden
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("error %v does not wrap a DecodeError", err)
				}
				if objs != nil {
					t.Errorf("objects %v returned with error %v", objs, err)
				}
				got.Reason, got.Error = de.Reason, err.Error()
			} else {
				got.Objects = objs
			}
			if bad := strings.HasPrefix(name, "bad_"); bad != (err != nil) {
				t.Errorf("error = %v; samples named bad_* and only those must fail", err)
			}
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			golden := filepath.Join(notificationDir, name+".golden")
			if notificationUpdateGolden() {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("result differs from %s (run with -update if the change is right):\n%s", golden, out)
			}
		})
	}
}

// TestParseNotification pins the rules the golden files show, one per
// case, so that a careless -update cannot change them unnoticed.
func TestParseNotification(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		wantKeys []string
		wantKind []schemas.ObjectKind
		wantErr  bool
	}{
		{
			name:     "S3 key is URL-decoded, + is a space",
			file:     "s3_put_org_trail.json",
			wantKeys: []string{"audit logs/AWSLogs/o-exampleorgid1/111122223333/CloudTrail/us-east-2/2024/03/05/111122223333_CloudTrail_us-east-2_20240305T1405Z_3G5oQqRk1xCvN0bD.json.gz"},
			wantKind: []schemas.ObjectKind{schemas.ObjectCloudTrail},
		},
		{
			name:     "only created records of a mixed event",
			file:     "s3_multiple_records.json",
			wantKeys: []string{"flow/AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz", "exports/résumé 2018.csv"},
			wantKind: []schemas.ObjectKind{schemas.ObjectVPCFlow, schemas.ObjectUnknown},
		},
		{
			name:     "EventBridge key is not decoded",
			file:     "eventbridge_object_created_unknown_key.json",
			wantKeys: []string{"notes/50%+of logs.txt"},
			wantKind: []schemas.ObjectKind{schemas.ObjectUnknown},
		},
		{
			name:     "SNS envelope",
			file:     "sns_s3_put.json",
			wantKeys: []string{"AWSLogs/342082656213/CloudTrail/ap-southeast-2/2021/07/29/342082656213_CloudTrail_ap-southeast-2_20210729T2355Z_d8K4eSPV0RAy0jfj.json.gz"},
			wantKind: []schemas.ObjectKind{schemas.ObjectCloudTrail},
		},
		{
			name:     "MinIO record with an encoded slash",
			file:     "minio_kafka.json",
			wantKeys: []string{"us-east-2/2021/07/29/342082656213_CloudTrail_us-east-2_20210729T2355Z_1lQFb8HU3K2s72AX.json.gz"},
			wantKind: []schemas.ObjectKind{schemas.ObjectCloudTrail},
		},
		{name: "removal ignored", file: "s3_removed.json"},
		{name: "restore ignored", file: "s3_restore_completed.json"},
		{name: "test event ignored", file: "s3_test_event.json"},
		{name: "test event in SNS ignored", file: "sns_s3_test_event.json"},
		{name: "EventBridge deletion ignored", file: "eventbridge_object_deleted.json"},
		{name: "SNS subscription confirmation ignored", file: "sns_subscription_confirmation.json"},
		{name: "EventBridge from another source", file: "bad_eventbridge_other_source.json", wantErr: true},
		{name: "SNS in SNS", file: "bad_sns_inside_sns.json", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(notificationDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ParseNotification(body)
			if tc.wantErr {
				if ReasonOf(err) != ReasonBadAnnouncement {
					t.Fatalf("error %v, want reason %s", err, ReasonBadAnnouncement)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != len(tc.wantKeys) {
				t.Fatalf("got %d objects, want %d: %+v", len(objs), len(tc.wantKeys), objs)
			}
			for i, o := range objs {
				if o.Key != tc.wantKeys[i] || o.Kind != tc.wantKind[i] {
					t.Errorf("object %d: key %q kind %s, want %q %s", i, o.Key, o.Kind, tc.wantKeys[i], tc.wantKind[i])
				}
				if o.V != schemas.ObjectVersion || o.Via != "" {
					t.Errorf("object %d: v %d via %q", i, o.V, o.Via)
				}
			}
		})
	}
}

func TestParseNotificationEventTimeFallback(t *testing.T) {
	body := []byte(`{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"2024-03-05T14:10:12.345Z","s3":{"bucket":{"name":"b"},"object":{"key":"x/y.txt","size":3}}}]}`)
	objs, err := ParseNotification(body)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 3, 5, 14, 10, 12, 345e6, time.UTC)
	if len(objs) != 1 || !objs[0].Time.Equal(want) {
		t.Fatalf("got %+v, want time %v", objs, want)
	}
}

func BenchmarkParseNotification(b *testing.B) {
	for _, file := range []string{"s3_put_org_trail.json", "sns_s3_put.json", "eventbridge_object_created.json"} {
		body, err := os.ReadFile(filepath.Join(notificationDir, file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(file, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ParseNotification(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzParseNotification checks that ParseNotification never panics, that
// every failure is a bad_announcement DecodeError, and that every object
// it returns is complete.
func FuzzParseNotification(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join(notificationDir, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		body, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := ParseNotification(body)
		if err != nil {
			if ReasonOf(err) != ReasonBadAnnouncement || objs != nil {
				t.Fatalf("error %v with %d objects", err, len(objs))
			}
			return
		}
		for _, o := range objs {
			if o.V != schemas.ObjectVersion || o.Bucket == "" || o.Key == "" || o.Size < 0 || !isObjectKind(o.Kind) {
				t.Fatalf("incomplete object %+v", o)
			}
		}
	})
}
