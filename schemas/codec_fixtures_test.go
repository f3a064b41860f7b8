package schemas

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The fixtures every codec test, benchmark and fuzz seed corpus runs on.
// Raw records are hand-written, realistic CloudTrail events and VPC flow
// log lines under testdata/events/; the typed fields are what ingest's
// normaliser takes from them.

// eventCase is one named Event fixture.
type eventCase struct {
	name string
	e    Event
}

// detectionCase is one named Detection fixture.
type detectionCase struct {
	name string
	d    Detection
}

// readRaw returns a raw record from testdata/events, without the file's
// final newline.
func readRaw(tb testing.TB, file string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", file))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// cloudTrailObject is the object the CloudTrail fixtures were read from.
func cloudTrailObject(account, region string, index uint32) ObjectRef {
	return ObjectRef{
		Bucket: "acme-org-cloudtrail",
		Key: "AWSLogs/o-a1b2c3d4e5/" + account + "/CloudTrail/" + region +
			"/2026/06/11/" + account + "_CloudTrail_" + region + "_20260611T0220Z_Xk3v9QpL2mN8rT5w.json.gz",
		Index: index,
	}
}

func eventCases(tb testing.TB) []eventCase {
	s3 := Event{
		ID:            "3f6c9a2e-81d4-4b7a-9e05-c2d17f4b8a61",
		Source:        SourceCloudTrail,
		Time:          utc("2026-06-11T02:14:37Z"),
		AccountID:     "111122223333",
		Region:        "eu-west-1",
		EventSource:   "s3.amazonaws.com",
		EventName:     "GetObject",
		EventVersion:  "1.10",
		EventType:     "AwsApiCall",
		EventCategory: "Data",
		PrincipalType: "AssumedRole",
		Principal:     "arn:aws:sts::111122223333:assumed-role/DataPipelineRole/etl-nightly-20260611",
		PrincipalID:   "AROA3XFRBF535EXAMPLE1:etl-nightly-20260611",
		AccessKeyID:   "ASIA3XFRBF53QEXAMPLE2",
		SessionIssuer: "arn:aws:iam::111122223333:role/DataPipelineRole",
		UserName:      "DataPipelineRole",
		MFA:           False,
		SourceIP:      "10.20.4.17",
		UserAgent:     "[aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.24.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.79.2 m/E,Z,g]",
		ReadOnly:      True,
		RequestID:     "9XK2M4Q7RT1B8ZPW",
		Resources: []Resource{
			{ARN: "arn:aws:s3:::acme-data-lake-prod/raw/orders/2026/06/10/part-00017-5f1c0e2a.snappy.parquet", Type: "AWS::S3::Object"},
			{ARN: "arn:aws:s3:::acme-data-lake-prod", Type: "AWS::S3::Bucket", AccountID: "111122223333"},
		},
		Object:     cloudTrailObject("111122223333", "eu-west-1", 17),
		IngestTime: utc("2026-06-11T02:21:03.418236511Z"),
		Raw:        readRaw(tb, "s3_getobject_assumedrole.json"),
	}
	login := Event{
		ID:            "b7e1d2c4-5a69-4f08-8c3e-0d9a6b2f7e14",
		Source:        SourceCloudTrail,
		Time:          utc("2026-06-11T08:03:12Z"),
		AccountID:     "111122223333",
		Region:        "us-east-1",
		EventSource:   "signin.amazonaws.com",
		EventName:     "ConsoleLogin",
		EventVersion:  "1.09",
		EventType:     "AwsConsoleSignIn",
		EventCategory: "Management",
		PrincipalType: "IAMUser",
		Principal:     "arn:aws:iam::111122223333:user/maria.lopez",
		PrincipalID:   "AIDA3XFRBF53TEXAMPLE3",
		UserName:      "maria.lopez",
		SourceIP:      "198.51.100.23",
		UserAgent:     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		ReadOnly:      False,
		Object:        cloudTrailObject("111122223333", "us-east-1", 0),
		IngestTime:    utc("2026-06-11T08:09:40.002917Z"),
		Raw:           readRaw(tb, "console_login_iamuser.json"),
	}
	kms := Event{
		ID:            "0e5f7a9c-3b2d-4e16-9a8f-1c7d5b3e9f20",
		Source:        SourceCloudTrail,
		Time:          utc("2026-06-10T23:41:08Z"),
		AccountID:     "111122223333",
		Region:        "eu-west-1",
		EventSource:   "kms.amazonaws.com",
		EventName:     "RotateKey",
		EventVersion:  "1.08",
		EventType:     "AwsServiceEvent",
		EventCategory: "Management",
		PrincipalType: "AWSService",
		Principal:     "kms.amazonaws.com",
		SourceIP:      "kms.amazonaws.com",
		UserAgent:     "kms.amazonaws.com",
		ReadOnly:      False,
		Resources: []Resource{
			{ARN: "arn:aws:kms:eu-west-1:111122223333:key/5d1e8a3f-2c47-4b9e-a6d0-7f3c9b2e1a84", Type: "AWS::KMS::Key", AccountID: "111122223333"},
		},
		Object:     cloudTrailObject("111122223333", "eu-west-1", 3),
		IngestTime: utc("2026-06-10T23:48:12.771005Z"),
		Raw:        readRaw(tb, "kms_rotatekey_service.json"),
	}
	stop := Event{
		ID:            "a92f4e1c-6d83-47b5-8e20-f1c3b9d7a5e4",
		Source:        SourceCloudTrail,
		Time:          utc("2026-06-11T22:07:51Z"),
		AccountID:     "444455556666",
		Region:        "eu-west-1",
		EventSource:   "cloudtrail.amazonaws.com",
		EventName:     "StopLogging",
		EventVersion:  "1.10",
		EventType:     "AwsApiCall",
		EventCategory: "Management",
		PrincipalType: "AssumedRole",
		Principal:     "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_AdministratorAccess_8d7c6b5a4f3e2d1c/alice@example.com",
		PrincipalID:   "AROA3XFRBF53ZEXAMPLE4:alice@example.com",
		AccessKeyID:   "ASIA3XFRBF53WEXAMPLE5",
		SessionIssuer: "arn:aws:iam::444455556666:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_8d7c6b5a4f3e2d1c",
		UserName:      "AWSReservedSSO_AdministratorAccess_8d7c6b5a4f3e2d1c",
		MFA:           True,
		SourceIP:      "185.220.101.47",
		UserAgent:     "aws-cli/2.27.31 md/awscrt#0.26.1 ua/2.1 os/linux#6.8.0-60-generic md/arch#x86_64 lang/python#3.13.4 md/pyimpl#CPython m/N,E,Z cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#cloudtrail.stop-logging",
		ReadOnly:      False,
		RequestID:     "d41c8e2b-7f95-4a36-b0e1-9c5a2f8d3e67",
		Resources: []Resource{
			{ARN: "arn:aws:cloudtrail:eu-west-1:444455556666:trail/org-audit-trail", Type: "AWS::CloudTrail::Trail", AccountID: "444455556666"},
		},
		Object:     cloudTrailObject("444455556666", "eu-west-1", 41),
		IngestTime: utc("2026-06-11T22:13:05.120448Z"),
		Raw:        readRaw(tb, "cloudtrail_stoplogging_sso.json"),
		Enrichment: &Enrichment{
			AccountName:    "prod-payments",
			ActorARN:       "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_AdministratorAccess_8d7c6b5a4f3e2d1c/alice@example.com",
			SessionName:    "alice@example.com",
			SourceIdentity: "alice@example.com",
			Geo: Geo{
				CountryCode: "DE",
				City:        "Frankfurt am Main",
				Latitude:    50.1109,
				Longitude:   8.6821,
				ASN:         60729,
				ASOrg:       "Stiftung Erneuerbare Freiheit",
			},
		},
	}
	flowObject := ObjectRef{
		Bucket: "acme-flow-logs",
		Key:    "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2026/06/11/111122223333_vpcflowlogs_eu-west-1_fl-0c1d2e3f4a5b6c7d8_20260611T0215Z_5e7f9a1b.log.gz",
		Index:  112,
	}
	accept := Event{
		ID:          "3049c961072a41ae08191832a08efa98",
		Source:      SourceVPCFlow,
		Time:        time.Unix(1781143980, 0).UTC(),
		AccountID:   "111122223333",
		Region:      "eu-west-1",
		EventSource: "vpcflow",
		EventName:   "ACCEPT",
		SourceIP:    "10.0.1.25",
		Flow: &Flow{
			Version: 5, InterfaceID: "eni-0a1b2c3d4e5f67890",
			SrcAddr: "10.0.1.25", DstAddr: "52.218.45.113", SrcPort: 49761, DstPort: 443,
			Protocol: 6, Packets: 18, Bytes: 7421,
			Start: time.Unix(1781143980, 0).UTC(), End: time.Unix(1781144040, 0).UTC(),
			Action: "ACCEPT", LogStatus: "OK",
			VpcID: "vpc-0123456789abcdef0", SubnetID: "subnet-0fedcba9876543210", InstanceID: "i-0abcdef1234567890",
			TCPFlags: 19, Type: "IPv4", PktSrcAddr: "10.0.1.25", PktDstAddr: "52.218.45.113",
			Region: "eu-west-1", AZID: "euw1-az2",
			PktDstAWSService: "S3", FlowDirection: "egress", TrafficPath: 7,
			HasPorts: true, HasProtocol: true,
		},
		Object:     flowObject,
		IngestTime: utc("2026-06-11T02:21:44.5Z"),
		Raw:        readRaw(tb, "vpcflow_v5_accept.log"),
	}
	nodataObject := flowObject
	nodataObject.Index = 113
	nodata := Event{
		ID:          "867a64d6a01809c8c7d1b6c28505c8bd",
		Source:      SourceVPCFlow,
		Time:        time.Unix(1781143980, 0).UTC(),
		AccountID:   "111122223333",
		Region:      "eu-west-1",
		EventSource: "vpcflow",
		EventName:   "NODATA",
		Flow: &Flow{
			Version: 5, InterfaceID: "eni-0f9e8d7c6b5a43210",
			Start: time.Unix(1781143980, 0).UTC(), End: time.Unix(1781144040, 0).UTC(),
			LogStatus: "NODATA",
			VpcID:     "vpc-0123456789abcdef0", SubnetID: "subnet-0aa11bb22cc33dd44",
			Region: "eu-west-1", AZID: "euw1-az1",
		},
		Object:     nodataObject,
		IngestTime: utc("2026-06-11T02:21:44.5Z"),
		Raw:        readRaw(tb, "vpcflow_v5_nodata.log"),
	}
	acceptEnriched := accept
	acceptEnriched.Enrichment = &Enrichment{
		AccountName: "prod-data",
		Geo:         Geo{},
		DstGeo: Geo{
			CountryCode: "IE", City: "Dublin", Latitude: 53.3498, Longitude: -6.2603,
			ASN: 16509, ASOrg: "AMAZON-02",
		},
	}
	var every Event
	fillEvery(reflect.ValueOf(&every).Elem(), new(int))
	return []eventCase{
		{"s3_getobject_assumedrole", s3},
		{"console_login_iamuser", login},
		{"kms_rotatekey_service", kms},
		{"stoplogging_sso_enriched", stop},
		{"vpcflow_v5_accept", accept},
		{"vpcflow_v5_accept_enriched", acceptEnriched},
		{"vpcflow_v5_nodata", nodata},
		{"zero", Event{}},
		{"zero_flow_and_enrichment", Event{Flow: &Flow{}, Enrichment: &Enrichment{}}},
		{"epoch_times", Event{ID: "x", Time: time.Unix(0, 0).UTC(), IngestTime: time.Unix(-1, 999).UTC()}},
		{"every_field", every},
	}
}

func detectionCases() []detectionCase {
	stop := Detection{
		RuleID:   "cloudtrail_stop_logging",
		Title:    "CloudTrail logging stopped",
		Severity: SeverityCritical,
		Techniques: []string{
			"T1562.008",
		},
		Entity: Entity{
			Principal: "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_AdministratorAccess_8d7c6b5a4f3e2d1c/alice@example.com",
			IP:        "185.220.101.47",
			AccountID: "444455556666",
		},
		FirstEventTime: utc("2026-06-11T22:07:51Z"),
		LastEventTime:  utc("2026-06-11T22:07:51Z"),
		EvidenceIDs:    []string{"a92f4e1c-6d83-47b5-8e20-f1c3b9d7a5e4"},
		DedupKey:       "cloudtrail_stop_logging|444455556666|arn:aws:cloudtrail:eu-west-1:444455556666:trail/org-audit-trail",
		Summary:        "alice@example.com stopped logging on trail org-audit-trail in 444455556666 (eu-west-1) from 185.220.101.47 (DE, AS60729).",
		Fields: map[string]string{
			"trail":      "arn:aws:cloudtrail:eu-west-1:444455556666:trail/org-audit-trail",
			"region":     "eu-west-1",
			"session":    "alice@example.com",
			"source_asn": "60729",
		},
		DetectedTime: utc("2026-06-11T22:13:05.311902Z"),
	}
	stop.ID = DetectionID(stop.RuleID, stop.DedupKey, utc("2026-06-11T22:00:00Z"))
	brute := Detection{
		RuleID:     "console_login_bruteforce",
		Title:      "Console password brute force",
		Severity:   SeverityHigh,
		Techniques: []string{"T1110", "T1110.001", "T1078.004"},
		Entity: Entity{
			Principal: "arn:aws:iam::111122223333:user/maria.lopez",
			IP:        "203.0.113.77",
			AccountID: "111122223333",
		},
		FirstEventTime: utc("2026-06-11T07:41:02Z"),
		LastEventTime:  utc("2026-06-11T08:03:12Z"),
		EvidenceIDs: []string{
			"1c0b5a9e-2d3f-4e71-8a6b-9f0e1d2c3b4a", "2d1c6b0f-3e4a-4f82-9b7c-0a1f2e3d4c5b",
			"3e2d7c1a-4f5b-4093-8c8d-1b2a3f4e5d6c", "4f3e8d2b-5a6c-41a4-9d9e-2c3b4a5f6e7d",
			"5a4f9e3c-6b7d-42b5-8eaf-3d4c5b6a7f8e", "6b5a0f4d-7c8e-43c6-9fb0-4e5d6c7b8a9f",
			"7c6b1a5e-8d9f-44d7-a0c1-5f6e7d8c9b0a", "8d7c2b6f-9ea0-45e8-b1d2-6a7f8e9d0c1b",
			"9e8d3c7a-afb1-46f9-82e3-7b8a9f0e1d2c", "b7e1d2c4-5a69-4f08-8c3e-0d9a6b2f7e14",
		},
		DedupKey: "console_login_bruteforce|arn:aws:iam::111122223333:user/maria.lopez",
		Summary:  "9 failed console logins for maria.lopez from 203.0.113.77 in 22 minutes, then a success.",
		Fields: map[string]string{
			"failures": "9", "window": "30m", "mfa_used": "Yes",
		},
		DetectedTime: utc("2026-06-11T08:09:41.5Z"),
	}
	brute.ID = DetectionID(brute.RuleID, brute.DedupKey, utc("2026-06-11T07:30:00Z"))
	var every Detection
	fillEvery(reflect.ValueOf(&every).Elem(), new(int))
	return []detectionCase{
		{"stoplogging", stop},
		{"console_bruteforce", brute},
		{"zero", Detection{}},
		{"empty_strings_in_lists", Detection{Techniques: []string{""}, EvidenceIDs: []string{"", "e"}, Fields: map[string]string{"": ""}}},
		{"every_field", every},
	}
}

// fillEvery sets every field reachable from v to a distinct value that is
// not zero, so that a codec that forgets a field fails the round trip. n
// counts the values handed out.
func fillEvery(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+*n%26)) + string(rune('A'+*n/26%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n%100 + 1))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{'r', byte(*n), 0, 0xff})
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillEvery(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 3 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillEvery(k, n)
			fillEvery(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillEvery(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1781143980+int64(*n), int64(*n)).UTC()))
			return
		}
		for i := range v.NumField() {
			fillEvery(v.Field(i), n)
		}
	default:
		panic("fillEvery: unhandled kind " + v.Kind().String())
	}
}
