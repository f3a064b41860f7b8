package enrich

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/trailwatch/trailwatch/schemas"
)

// FuzzGeoFile mutates whole database files (seeded with the synthetic
// ones in both layouts) and runs the layout probe and the record decoders
// over what still opens: a corrupt or hostile file may make a lookup fail,
// never panic or hang.
func FuzzGeoFile(f *testing.F) {
	for _, cfg := range syntheticGeo(f) {
		paths, err := filepath.Glob(filepath.Join(cfg.Dir, "*.mmdb"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	var addrs []netip.Addr
	for _, cases := range syntheticCases() {
		for _, tc := range cases {
			if a, ok := ParsePublicAddr(tc.addr); ok {
				addrs = append(addrs, a)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := maxminddb.OpenBytes(data)
		if err != nil {
			return
		}
		defer r.Close()
		for _, role := range []geoRole{roleCity, roleCountry, roleASN} {
			gf, err := newGeoFile(geoSpec{field: "fuzz", path: "fuzz.mmdb", role: role}, r)
			if err != nil {
				continue
			}
			for _, addr := range addrs {
				var g schemas.Geo
				_, _ = gf.decode(&g, addr)
			}
		}
	})
}
