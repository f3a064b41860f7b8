package enrich

import (
	"math"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"

	"github.com/trailwatch/trailwatch/schemas"
)

// layout is the shape of the records of one MaxMind DB file. The zero
// layout is a file whose records carry none of the fields below, such as a
// GeoIP2 Anonymous IP or Domain database.
type layout uint8

const (
	// layoutFlat is ip-location-db's flat layout: city, country_code,
	// latitude and longitude at the top level of the record (any may be
	// missing: the country files carry only country_code).
	layoutFlat layout = iota + 1
	// layoutGeoIP2 is MaxMind's GeoIP2 / GeoLite2 City and Country layout:
	// city.names.en, country.iso_code, registered_country.iso_code,
	// location.latitude, location.longitude. DB-IP's own downloads and
	// GeoIP2 Enterprise use it too.
	layoutGeoIP2
	// layoutASN is the GeoLite2-ASN layout: autonomous_system_number and
	// autonomous_system_organization at the top level. GeoIP2-ISP records
	// carry the same two fields.
	layoutASN
)

// String names the layout as Geo.Databases reports it.
func (l layout) String() string {
	switch l {
	case layoutFlat:
		return "ip-location-db"
	case layoutGeoIP2:
		return "geoip2"
	case layoutASN:
		return "geolite2-asn"
	default:
		return "unknown"
	}
}

// The record decoders below are schemas.Geo under other names, so that a
// *schemas.Geo converts to them for free and decoding into the caller's
// value allocates nothing. Each one walks the record's map once, reads the
// few fields it knows and skips the rest (in MaxMind files the skipped
// values are mostly pointers, so a skip is a few byte reads). Each sets
// only the fields it finds, leaving the others as they were.

// walkMap calls field for each entry of the map at c; field reads or
// skips the value and returns its successor. walkMap returns the map's
// successor. field does not escape, so a closure passed here stays on the
// stack.
func walkMap(c mmdbdata.Cursor, field func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error)) (mmdbdata.Cursor, error) {
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[map[string]any](err)
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		if next, err = field(key, v); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

// flatRecord decodes the flat ip-location-db layout.
type flatRecord schemas.Geo

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (g *flatRecord) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	return walkMap(c, func(key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
		switch string(key) {
		case "country_code":
			g.CountryCode, next, err = v.ReadString()
		case "city":
			g.City, next, err = v.ReadString()
		case "latitude", "longitude":
			next, err = readCoordField((*schemas.Geo)(g), key, v)
		default:
			next, err = v.Skip()
		}
		return next, err
	})
}

// geoip2Record decodes the GeoIP2 / GeoLite2 City and Country layout.
type geoip2Record schemas.Geo

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (g *geoip2Record) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	var country, registered string
	next, err := walkMap(c, func(key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
		switch string(key) {
		case "country":
			country, next, err = readSubfieldString(v, "iso_code")
		case "registered_country":
			registered, next, err = readSubfieldString(v, "iso_code")
		case "city":
			// city.names.en
			next, err = walkMap(v, func(key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
				if string(key) != "names" {
					return v.Skip()
				}
				var name string
				if name, next, err = readSubfieldString(v, "en"); name != "" {
					g.City = name
				}
				return next, err
			})
		case "location":
			next, err = walkMap(v, func(key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
				if string(key) != "latitude" && string(key) != "longitude" {
					return v.Skip()
				}
				return readCoordField((*schemas.Geo)(g), key, v)
			})
		default:
			next, err = v.Skip()
		}
		return next, err
	})
	// Anycast and satellite networks often have no located country; the
	// country the network is registered in is the best answer left.
	switch {
	case country != "":
		g.CountryCode = country
	case registered != "":
		g.CountryCode = registered
	}
	return next, err
}

// readCoordField reads the latitude or the longitude, as key says, into g.
func readCoordField(g *schemas.Geo, key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
	dst := &g.Latitude
	if string(key) == "longitude" {
		dst = &g.Longitude
	}
	*dst, next, err = readCoord(v)
	return next, err
}

// readCoord reads a latitude or longitude. DB-IP stores them as float32,
// whose widening to float64 prints as 37.422000885009766: they are rounded
// to 5 decimals (1.1 m), finer than a float32 resolves at 180 degrees and
// far finer than any IP geolocation. float64 values are kept as they are.
func readCoord(c mmdbdata.Cursor) (float64, mmdbdata.Cursor, error) {
	if kind, err := c.Kind(); err == nil && kind == mmdbdata.KindFloat32 {
		f, next, err := c.ReadFloat32()
		if err != nil {
			return 0, mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[float64](err)
		}
		return math.Round(float64(f)*1e5) / 1e5, next, nil
	}
	f, next, err := c.ReadFloat()
	if err != nil {
		return 0, mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[float64](err)
	}
	return f, next, nil
}

// readSubfieldString reads the string field name of the map at c, and
// returns "" when the map has no such field.
func readSubfieldString(c mmdbdata.Cursor, name string) (s string, next mmdbdata.Cursor, err error) {
	next, err = walkMap(c, func(key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
		if string(key) != name {
			return v.Skip()
		}
		s, next, err = v.ReadString()
		return next, err
	})
	return s, next, err
}

// asnRecord decodes the GeoLite2-ASN layout.
type asnRecord schemas.Geo

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (g *asnRecord) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	return walkMap(c, func(key []byte, v mmdbdata.Cursor) (next mmdbdata.Cursor, err error) {
		switch string(key) {
		case "autonomous_system_number":
			var n uint64
			n, next, err = v.ReadUint()
			switch {
			case err != nil:
				err = mmdbdata.NormalizeUnmarshalError[uint32](err)
			case n > math.MaxUint32:
				err = mmdbdata.NewUnmarshalTypeError[uint32](n)
			default:
				g.ASN = uint32(n)
			}
		case "autonomous_system_organization":
			g.ASOrg, next, err = v.ReadString()
		default:
			next, err = v.Skip()
		}
		return next, err
	})
}

// layoutProbe records which known top-level fields a record has, as a
// set of layouts (bit 1<<layout) the record can be read with.
type layoutProbe struct{ layouts uint8 }

// has reports whether the probed records can be read with layout l.
func (p *layoutProbe) has(l layout) bool { return p.layouts&(1<<l) != 0 }

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (p *layoutProbe) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	if kind, err := c.Kind(); err != nil || kind != mmdbdata.KindMap {
		// Not a map: no layout we know.
		return c.Skip()
	}
	return walkMap(c, func(key []byte, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		kind, err := v.Kind()
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		switch k := string(key); {
		case k == "autonomous_system_number" && kind != mmdbdata.KindMap:
			p.layouts |= 1 << layoutASN
		case (k == "country" || k == "registered_country" || k == "location" || k == "city") && kind == mmdbdata.KindMap:
			p.layouts |= 1 << layoutGeoIP2
		case (k == "country_code" || k == "city") && kind == mmdbdata.KindString:
			p.layouts |= 1 << layoutFlat
		}
		return v.Skip()
	})
}
