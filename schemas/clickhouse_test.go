package schemas

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestClickHouseMigrations(t *testing.T) {
	migs, err := ClickHouseMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) == 0 {
		t.Fatal("no migrations embedded")
	}
	// The idempotency rule of Migration, checked on every statement: an
	// object is created only IF NOT EXISTS (or replaced), and ALTERs only
	// ADD ... IF NOT EXISTS or DROP ... IF EXISTS.
	idempotent := regexp.MustCompile(`(?is)^(?:--[^\n]*\n|\s)*(CREATE\s+(TABLE|VIEW|DICTIONARY|FUNCTION)\s+IF\s+NOT\s+EXISTS|CREATE\s+OR\s+REPLACE\s+(VIEW|DICTIONARY|FUNCTION)|ALTER\s+TABLE\s+\w+\s+(ADD|DROP|MODIFY)\s+\w+\s+IF\s+(NOT\s+)?EXISTS)\b`)
	for _, m := range migs {
		for i, s := range m.Statements {
			if !idempotent.MatchString(s) {
				t.Errorf("%s statement %d is not idempotent by the rules of schemas.Migration:\n%s", m, i+1, firstLines(s, 12))
			}
			// Statements run in the connection's database; naming one
			// would bypass the configured database.
			if regexp.MustCompile(`(?i)\b(trailwatch|default)\.\w`).MatchString(s) {
				t.Errorf("%s statement %d names a database", m, i+1)
			}
		}
		if len(m.Checksum) != 64 {
			t.Errorf("%s: checksum %q", m, m.Checksum)
		}
	}
	if migs[0].Name != TableSchemaMigrations {
		t.Errorf("migration 1 is %s, want the %s table first", migs[0], TableSchemaMigrations)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// TestEventsTableCoversEvent fails when a field is added to Event (or to
// the records it holds) without a column in the events table: the table
// must keep every typed field of the contract.
func TestEventsTableCoversEvent(t *testing.T) {
	migs, err := ClickHouseMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var ddl strings.Builder
	for _, m := range migs {
		for _, s := range m.Statements {
			ddl.WriteString(s + "\n")
		}
	}
	// Field path -> column. Raw JSON and the nested structs themselves map
	// to "" when their fields are listed one by one.
	columns := map[string]string{
		"ID": "event_id", "Source": "source", "Time": "event_time", "AccountID": "account_id", "Region": "region",
		"EventSource": "event_source", "EventName": "event_name", "EventVersion": "event_version",
		"EventType": "event_type", "EventCategory": "event_category",
		"PrincipalType": "principal_type", "Principal": "principal", "PrincipalID": "principal_id",
		"AccessKeyID": "access_key_id", "SessionIssuer": "session_issuer", "UserName": "user_name", "MFA": "mfa",
		"SourceIP": "source_ip", "UserAgent": "user_agent", "ErrorCode": "error_code", "ErrorMessage": "error_message",
		"ReadOnly": "read_only", "RequestID": "request_id",
		"Resources": "", "Resources.ARN": "resource_arns", "Resources.Type": "resource_types", "Resources.AccountID": "resource_account_ids",
		"Flow":         "",
		"Flow.Version": "flow_version", "Flow.InterfaceID": "flow_interface_id", "Flow.SrcAddr": "flow_src_addr",
		"Flow.DstAddr": "flow_dst_addr", "Flow.SrcPort": "flow_src_port", "Flow.DstPort": "flow_dst_port",
		"Flow.Protocol": "flow_protocol", "Flow.Packets": "flow_packets", "Flow.Bytes": "flow_bytes",
		"Flow.Start": "flow_start", "Flow.End": "flow_end", "Flow.Action": "flow_action", "Flow.LogStatus": "flow_log_status",
		"Flow.VpcID": "flow_vpc_id", "Flow.SubnetID": "flow_subnet_id", "Flow.InstanceID": "flow_instance_id",
		"Flow.TCPFlags": "flow_tcp_flags", "Flow.Type": "flow_type", "Flow.PktSrcAddr": "flow_pkt_src_addr",
		"Flow.PktDstAddr": "flow_pkt_dst_addr", "Flow.Region": "flow_region", "Flow.AZID": "flow_az_id",
		"Flow.SublocationType": "flow_sublocation_type", "Flow.SublocationID": "flow_sublocation_id",
		"Flow.PktSrcAWSService": "flow_pkt_src_aws_service", "Flow.PktDstAWSService": "flow_pkt_dst_aws_service",
		"Flow.FlowDirection": "flow_direction", "Flow.TrafficPath": "flow_traffic_path",
		"Flow.ECSClusterARN": "flow_ecs_cluster_arn", "Flow.ECSClusterName": "flow_ecs_cluster_name",
		"Flow.ECSContainerInstanceARN": "flow_ecs_container_instance_arn", "Flow.ECSContainerInstanceID": "flow_ecs_container_instance_id",
		"Flow.ECSContainerID": "flow_ecs_container_id", "Flow.ECSSecondContainerID": "flow_ecs_second_container_id",
		"Flow.ECSServiceName": "flow_ecs_service_name", "Flow.ECSTaskDefinitionARN": "flow_ecs_task_definition_arn",
		"Flow.ECSTaskARN": "flow_ecs_task_arn", "Flow.ECSTaskID": "flow_ecs_task_id", "Flow.RejectReason": "flow_reject_reason",
		// Presence bits: NULL in the Nullable port and protocol columns.
		"Flow.HasPorts": "flow_src_port", "Flow.HasProtocol": "flow_protocol",
		"Object": "", "Object.Bucket": "object_bucket", "Object.Key": "object_key", "Object.Index": "object_index",
		"IngestTime": "ingest_time", "Raw": "raw",
		"Enrichment": "", "Enrichment.AccountName": "account_name", "Enrichment.ActorARN": "actor_arn",
		"Enrichment.SessionName": "session_name", "Enrichment.SourceIdentity": "source_identity",
		"Enrichment.Geo": "", "Enrichment.DstGeo": "",
		"Enrichment.Geo.CountryCode": "geo_country", "Enrichment.Geo.City": "geo_city",
		"Enrichment.Geo.Latitude": "geo_latitude", "Enrichment.Geo.Longitude": "geo_longitude",
		"Enrichment.Geo.ASN": "geo_asn", "Enrichment.Geo.ASOrg": "geo_as_org",
		"Enrichment.DstGeo.CountryCode": "dst_geo_country", "Enrichment.DstGeo.City": "dst_geo_city",
		"Enrichment.DstGeo.Latitude": "dst_geo_latitude", "Enrichment.DstGeo.Longitude": "dst_geo_longitude",
		"Enrichment.DstGeo.ASN": "dst_geo_asn", "Enrichment.DstGeo.ASOrg": "dst_geo_as_org",
	}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			path := prefix + f.Name
			col, ok := columns[path]
			if !ok {
				t.Errorf("Event field %s has no column in the events table (add one in a new migration, then map it here)", path)
				continue
			}
			if col != "" && !regexp.MustCompile(`(?m)^\s+`+col+`\s`).MatchString(ddl.String()) {
				t.Errorf("Event field %s maps to column %s, which no migration defines", path, col)
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() == typ.PkgPath() {
				walk(path+".", ft)
			}
		}
	}
	walk("", reflect.TypeFor[Event]())
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string
		err  error
	}{
		{name: "empty", sql: "", want: nil},
		{name: "comments only", sql: "-- a comment; with a semicolon\n/* and; another */\n", want: nil},
		{name: "one without semicolon", sql: "SELECT 1", want: []string{"SELECT 1"}},
		{name: "two", sql: "SELECT 1;\nSELECT 2;\n", want: []string{"SELECT 1", "SELECT 2"}},
		{name: "empty pieces dropped", sql: ";;SELECT 1;;", want: []string{"SELECT 1"}},
		{name: "semicolon in string", sql: "SELECT 'a;b'; SELECT 2", want: []string{"SELECT 'a;b'", "SELECT 2"}},
		{name: "doubled quote", sql: "SELECT 'it''s; fine'; SELECT 2", want: []string{"SELECT 'it''s; fine'", "SELECT 2"}},
		{name: "backslash escape", sql: `SELECT 'a\';b'; SELECT 2`, want: []string{`SELECT 'a\';b'`, "SELECT 2"}},
		{name: "quoted identifiers", sql: "SELECT `a;b`, \"c;d\"; SELECT 2", want: []string{"SELECT `a;b`, \"c;d\"", "SELECT 2"}},
		{name: "line comment kept with its statement", sql: "-- first; comment\nSELECT 1; -- trailing\n", want: []string{"-- first; comment\nSELECT 1"}},
		{name: "block comment", sql: "SELECT /* ; */ 1", want: []string{"SELECT /* ; */ 1"}},
		{name: "line comment at end without newline", sql: "SELECT 1 -- done;", want: []string{"SELECT 1 -- done;"}},
		{name: "quote inside comment", sql: "-- don't\nSELECT 1", want: []string{"-- don't\nSELECT 1"}},
		{name: "unterminated string", sql: "SELECT 'abc", err: ErrUnterminated},
		{name: "unterminated identifier", sql: "SELECT `abc", err: ErrUnterminated},
		{name: "unterminated block comment", sql: "SELECT 1 /* abc", err: ErrUnterminated},
		{name: "escape at the very end", sql: `SELECT 'abc\`, err: ErrUnterminated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitStatements(tc.sql)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzSplitStatements(f *testing.F) {
	// The last two once broke the splitter: white space TrimSpace knows but
	// the splitter did not.
	for _, s := range []string{"SELECT 1; SELECT 2", "SELECT 'a;b' -- c\n;", "/* x */ `a` \"b\" 'c\\'d'", "'", "--", "/*", "\v", "\u00a0--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := SplitStatements(sql)
		if err != nil {
			return
		}
		for _, s := range stmts {
			if s == "" || s != strings.Trim(s, sqlSpace) {
				t.Fatalf("statement %q is empty or not trimmed", s)
			}
			if !strings.Contains(sql, s) {
				t.Fatalf("statement %q is not a piece of the input", s)
			}
			// Splitting a statement again yields itself.
			again, err := SplitStatements(s)
			if err != nil || len(again) != 1 || again[0] != s {
				t.Fatalf("statement %q splits again into %q, %v", s, again, err)
			}
		}
	})
}

func TestParseMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string // String() of each migration
		wantErr string
	}{
		{
			name:  "sorted by version",
			files: fstest.MapFS{"m/0002_b.sql": file("SELECT 2"), "m/0001_a.sql": file("SELECT 1; SELECT 11")},
			want:  []string{"0001_a", "0002_b"},
		},
		{name: "bad name", files: fstest.MapFS{"m/1_a.sql": file("SELECT 1")}, wantErr: "name is not NNNN_name.sql"},
		{name: "not sql", files: fstest.MapFS{"m/0001_a.txt": file("SELECT 1")}, wantErr: "name is not NNNN_name.sql"},
		{name: "gap", files: fstest.MapFS{"m/0001_a.sql": file("SELECT 1"), "m/0003_c.sql": file("SELECT 3")}, wantErr: "want version 2"},
		{name: "repeat", files: fstest.MapFS{"m/0001_a.sql": file("SELECT 1"), "m/0001_b.sql": file("SELECT 1")}, wantErr: "want version 2"},
		{name: "starts at zero", files: fstest.MapFS{"m/0000_a.sql": file("SELECT 1")}, wantErr: "want version 1"},
		{name: "empty file", files: fstest.MapFS{"m/0001_a.sql": file("-- nothing\n")}, wantErr: "no statements"},
		{name: "bad sql", files: fstest.MapFS{"m/0001_a.sql": file("SELECT 'x")}, wantErr: "unterminated"},
		{name: "no directory", files: fstest.MapFS{}, wantErr: "read migrations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			migs, err := ParseMigrations(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range migs {
				got = append(got, m.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuoteIdentifier(t *testing.T) {
	tests := []struct{ in, want string }{
		{"trailwatch", "`trailwatch`"},
		{"a`b", "`a\\`b`"},
		{`a\b`, "`a\\\\b`"},
	}
	for _, tc := range tests {
		if got := QuoteIdentifier(tc.in); got != tc.want {
			t.Errorf("QuoteIdentifier(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
