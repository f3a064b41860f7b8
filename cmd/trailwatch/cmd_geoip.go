package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/enrich"
	"github.com/trailwatch/trailwatch/schemas"
)

// runGeoIP builds and inspects GeoIP databases: asn-mmdb turns
// ip-location-db's ASN CSV files into a GeoLite2-ASN layout MMDB, lookup
// prints what the databases say about addresses.
func runGeoIP(ctx context.Context, inv *invocation) error {
	fs := inv.flags("<asn-mmdb|lookup> [flags] args...")
	fs.Usage = func() {
		fmt.Fprint(inv.stderr, "Usage: trailwatch geoip <subcommand> [flags] args...\n\nSubcommands:\n"+
			"  asn-mmdb --out FILE CSV...   build a GeoLite2-ASN layout MMDB from start_ip,end_ip,asn,org CSV files\n"+
			"  lookup [--dir DIR | --city F --asn F --country F] IP...   print each address's geo and AS as JSON\n")
	}
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"missing subcommand: asn-mmdb or lookup"}
	}
	sub := &invocation{name: inv.name + " " + fs.Arg(0), args: fs.Args()[1:], stdout: inv.stdout, stderr: inv.stderr}
	switch fs.Arg(0) {
	case "asn-mmdb":
		return runGeoIPASN(ctx, sub)
	case "lookup":
		return runGeoIPLookup(ctx, sub)
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q: want asn-mmdb or lookup", fs.Arg(0))}
	}
}

// runGeoIPASN is `trailwatch geoip asn-mmdb --out FILE CSV...`. It writes
// the database next to FILE and renames it into place, so a reader never
// sees half a file.
func runGeoIPASN(_ context.Context, inv *invocation) error {
	fs := inv.flags("--out FILE CSV...")
	out := fs.String("out", "", "the MMDB file to write (required)")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return usageError{"need --out and at least one CSV file"}
	}
	start := time.Now()
	var sources []enrich.ASNSource
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("open asn csv: %w", err)
		}
		defer f.Close()
		sources = append(sources, enrich.ASNSource{Name: name, Reader: f})
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
	if err != nil {
		return fmt.Errorf("create asn mmdb: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	stats, err := enrich.WriteASNDB(tmp, start, sources...)
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write asn mmdb %s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod asn mmdb: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("install asn mmdb: %w", err)
	}
	fmt.Fprintf(inv.stdout, "wrote %s: %d rows, %d networks, %d skipped (IPv4-aliased), %.1f MB in %s\n",
		*out, stats.Rows, stats.Networks, stats.Skipped, float64(stats.Bytes)/1e6, time.Since(start).Round(time.Millisecond))
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// runGeoIPLookup is `trailwatch geoip lookup [--dir DIR | --city F --asn F
// --country F] IP...`: one JSON object per argument on stdout.
func runGeoIPLookup(_ context.Context, inv *invocation) error {
	fs := inv.flags("[--dir DIR | --city FILE... --asn FILE --country FILE] IP...")
	var cfg enrich.GeoConfig
	fs.StringVar(&cfg.Dir, "dir", os.Getenv("TRAILWATCH_GEOIP_DIR"), "folder holding the databases under their usual names (default $TRAILWATCH_GEOIP_DIR)")
	fs.Var((*stringList)(&cfg.CityFiles), "city", "city database; repeat for separate IPv4 and IPv6 files")
	fs.StringVar(&cfg.ASNFile, "asn", "", "ASN database (GeoLite2-ASN layout)")
	fs.StringVar(&cfg.CountryFile, "country", "", "country database, asked when no city database has a country")
	verbose := fs.Bool("v", false, "list the databases and their detected layouts on stderr")
	if err := fs.Parse(inv.args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"need at least one address"}
	}
	if !cfg.Enabled() {
		return usageError{"no databases: give --dir (or set TRAILWATCH_GEOIP_DIR) or --city/--asn/--country"}
	}
	geo, err := enrich.NewGeo(cfg)
	if err != nil {
		return fmt.Errorf("open geoip databases: %w", err)
	}
	defer geo.Close()
	if *verbose {
		for _, db := range geo.Databases() {
			fmt.Fprintf(inv.stderr, "%-7s %s (type %q, layout %s, IPv%d, built %s)\n",
				db.Role, db.Path, db.Type, db.Layout, db.IPVersion, db.Built.Format(time.DateOnly))
		}
	}
	enc := json.NewEncoder(inv.stdout)
	var errs []error
	for _, arg := range fs.Args() {
		var g schemas.Geo
		err := geo.LookupString(&g, arg)
		if err != nil {
			errs = append(errs, err)
		}
		if err := enc.Encode(geoJSON{
			IP: arg, CountryCode: g.CountryCode, City: g.City,
			Latitude: g.Latitude, Longitude: g.Longitude, ASN: g.ASN, ASOrg: g.ASOrg,
		}); err != nil {
			return fmt.Errorf("write lookup result: %w", err)
		}
	}
	return errors.Join(errs...)
}

// geoJSON is how geoip lookup prints a schemas.Geo: snake_case keys, every
// field present.
type geoJSON struct {
	IP          string  `json:"ip"`
	CountryCode string  `json:"country_code"`
	City        string  `json:"city"`
	Latitude    float64 `json:"latitude"`
	Longitude   float64 `json:"longitude"`
	ASN         uint32  `json:"asn"`
	ASOrg       string  `json:"as_org"`
}

var _ flag.Value = (*stringList)(nil)
