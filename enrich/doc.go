// Package enrich adds identity, account and geo/ASN context to events; it
// consumes the events topic and produces the enriched topic, keyed like its
// input (by principal for CloudTrail, by source address for flows), so that
// the detect workers downstream see every event of a key on one partition.
//
// Enrichment never drops an event: context that cannot be found (an
// address no database knows, a service name in sourceIPAddress, an account
// missing from Organizations) leaves the matching field empty.
//
// # Geo and ASN
//
// [Geo] answers where an address is and who routes it, from MaxMind DB
// (.mmdb) files read with github.com/oschwald/maxminddb-golang/v2. It reads
// both record layouts found in the wild, detected per file when it is
// opened:
//
//   - MaxMind GeoIP2 / GeoLite2 City and Country (city.names.en,
//     country.iso_code, location.latitude), which is what production
//     deployments point it at, and which DB-IP's own downloads also use;
//   - the flat ip-location-db layout (city, country_code, latitude,
//     longitude at the top level) of the databases that
//     deploy/local/geoip.sh installs for development and tests;
//   - GeoLite2-ASN (autonomous_system_number,
//     autonomous_system_organization), which is also the layout of the
//     asn.mmdb that [WriteASNDB] builds from ip-location-db's CSV files.
//
// The development databases are DB-IP's IP to City Lite and ASN Lite data
// (CC BY 4.0, https://db-ip.com: "IP Geolocation by DB-IP"), RouteViews and
// NRO data (CC BY 4.0) and geo-whois-asn-country (CC0), as packaged by
// ip-location-db. Anything that shows their results must credit DB-IP.
package enrich
