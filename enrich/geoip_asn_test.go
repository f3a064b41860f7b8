package enrich

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/trailwatch/trailwatch/schemas"
)

func TestWriteASNDB(t *testing.T) {
	type lookup struct {
		addr string
		asn  uint32
		org  string
	}
	tests := []struct {
		name    string
		csv     []string // one source per element
		wantErr string   // substring; "" for success
		stats   ASNStats // Rows, Networks and Skipped are compared
		lookups []lookup
	}{
		{
			name: "ip-location-db rows",
			csv: []string{
				"1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n" +
					"2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n" +
					"8.8.8.0,8.8.8.255,15169,Google LLC\n",
				"2001:4:112::,2001:4:112:ffff:ffff:ffff:ffff:ffff,112,DNS-OARC\n" +
					"2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n",
			},
			// 2.26.200.0-2.26.215.255 is a /21 and a /22.
			stats: ASNStats{Rows: 5, Networks: 6},
			lookups: []lookup{
				{"1.0.0.1", 13335, "Cloudflare, Inc."},
				{"2.26.207.1", 201907, `LLC "SPUTNIK"`},
				{"2.26.215.255", 201907, `LLC "SPUTNIK"`},
				{"2.26.216.0", 0, ""},
				{"8.8.8.8", 15169, "Google LLC"},
				{"2001:4:112::1", 112, "DNS-OARC"}, // in reserved 2001::/23: kept
				{"2001:4860:4860::8888", 15169, "Google LLC"},
				{"2001:4861::1", 0, ""},
			},
		},
		{
			name:  "later rows win",
			csv:   []string{"9.9.0.0,9.9.255.255,1,Wide\n9.9.9.0,9.9.9.255,19281,Quad9\n"},
			stats: ASNStats{Rows: 2, Networks: 2},
			lookups: []lookup{
				{"9.9.9.9", 19281, "Quad9"},
				{"9.9.8.1", 1, "Wide"},
			},
		},
		{
			name:  "aliased networks are skipped",
			csv:   []string{"2001::,2001::ffff:ffff:ffff:ffff:ffff:ffff,6939,Hurricane Electric LLC\n2002::,2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff,6939,Hurricane Electric LLC\n"},
			stats: ASNStats{Rows: 2, Networks: 0, Skipped: 2},
		},
		{name: "empty", csv: []string{""}, stats: ASNStats{}},
		{name: "bad start", csv: []string{"1.0.0.0,1.0.0.255,1,a\n1.0.0.x,1.0.1.0,2,b\n"}, wantErr: "src0.csv:2: start_ip"},
		{name: "bad end", csv: []string{"1.0.0.0,,1,a\n"}, wantErr: "src0.csv:1: end_ip"},
		{name: "start after end", csv: []string{"1.0.1.0,1.0.0.0,1,a\n"}, wantErr: "start after end"},
		{name: "mixed families", csv: []string{"1.0.0.0,2001::,1,a\n"}, wantErr: "not one address family"},
		{name: "asn not a number", csv: []string{"1.0.0.0,1.0.0.255,AS13335,a\n"}, wantErr: "src0.csv:1: asn"},
		{name: "asn too large", csv: []string{"1.0.0.0,1.0.0.255,4294967296,a\n"}, wantErr: "asn"},
		{name: "three fields", csv: []string{"1.0.0.0,1.0.0.255,1\n"}, wantErr: "wrong number of fields"},
		{name: "second source", csv: []string{"1.0.0.0,1.0.0.255,1,a\n", "\n\nbad,row,1,a\n"}, wantErr: "src1.csv:3: start_ip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sources []ASNSource
			for i, s := range tc.csv {
				sources = append(sources, ASNSource{Name: "src" + string(rune('0'+i)) + ".csv", Reader: strings.NewReader(s)})
			}
			var buf bytes.Buffer
			built := time.Date(2026, 6, 17, 19, 0, 0, 0, time.UTC)
			stats, err := WriteASNDB(&buf, built, sources...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("WriteASNDB() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if stats.Rows != tc.stats.Rows || stats.Networks != tc.stats.Networks || stats.Skipped != tc.stats.Skipped {
				t.Errorf("stats = %+v, want rows %d, networks %d, skipped %d", stats, tc.stats.Rows, tc.stats.Networks, tc.stats.Skipped)
			}
			if stats.Bytes != int64(buf.Len()) {
				t.Errorf("stats.Bytes = %d, wrote %d", stats.Bytes, buf.Len())
			}
			r, err := maxminddb.OpenBytes(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := r.Verify(); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			md := r.Metadata
			if md.DatabaseType != ASNDatabaseType || md.IPVersion != 6 || !md.BuildTime().Equal(built) {
				t.Errorf("metadata = type %q, IPv%d, built %s", md.DatabaseType, md.IPVersion, md.BuildTime())
			}
			f := &geoFile{path: "asn.mmdb", role: roleASN, layout: layoutASN, reader: r}
			for _, l := range tc.lookups {
				var got schemas.Geo
				// The GeoLite2-ASN field types, as other readers decode them.
				var want struct {
					ASN uint32 `maxminddb:"autonomous_system_number"`
					Org string `maxminddb:"autonomous_system_organization"`
				}
				addr := netip.MustParseAddr(l.addr)
				if err := r.Lookup(addr).Decode(&want); err != nil {
					t.Fatalf("decode %s as GeoLite2-ASN: %v", addr, err)
				}
				if _, err := f.decode(&got, addr); err != nil {
					t.Fatal(err)
				}
				if got.ASN != l.asn || got.ASOrg != l.org || want.ASN != l.asn || want.Org != l.org {
					t.Errorf("%s: got %d %q (struct decode %d %q), want %d %q", addr, got.ASN, got.ASOrg, want.ASN, want.Org, l.asn, l.org)
				}
			}
		})
	}
}

// FuzzWriteASNDB feeds arbitrary CSV to WriteASNDB: it either fails or
// writes a database that opens and verifies.
func FuzzWriteASNDB(f *testing.F) {
	f.Add("1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n")
	f.Add("2002::,2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff,6939,HE\n::ffff:1.2.3.4,::ffff:1.2.3.4,1,mapped\n")
	f.Add("0.0.0.0,255.255.255.255,0,\n")
	f.Fuzz(func(t *testing.T, csv string) {
		var buf bytes.Buffer
		if _, err := WriteASNDB(&buf, time.Unix(0, 0), ASNSource{Name: "fuzz.csv", Reader: strings.NewReader(csv)}); err != nil {
			return
		}
		r, err := maxminddb.OpenBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("written database does not open: %v", err)
		}
		defer r.Close()
		if err := r.Verify(); err != nil {
			t.Fatalf("written database does not verify: %v", err)
		}
	})
}
