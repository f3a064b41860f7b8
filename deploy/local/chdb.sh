#!/usr/bin/env bash
# Installs the ClickHouse engine that `trailwatch devclickhouse` loads:
# libchdb.so from the npm package @chdb/lib-linux-x64-gnu, pinned by version
# and checked by sha256, into the trailwatch cache. A second run finds it
# there and returns at once. The library's path is printed on the last line
# of the output, for scripts: lib=$(bash deploy/local/chdb.sh | tail -n1).
#
# The version is pinned on purpose: the npm "latest" (26.5) rejects
# --listen_host, which devclickhouse needs to serve the native and HTTP
# protocols.
#
# Environment:
#   TRAILWATCH_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch)
set -euo pipefail

readonly package="@chdb/lib-linux-x64-gnu"
readonly version="26.7.3-stable.1"
readonly sha256="36ad4e999882821ef13cf2d0f52c93f48e6ee1b4498b35a201c23ce4b8d15bf5"
# npm pack names the tarball after the package: scope and name joined by "-".
readonly tarball="chdb-lib-linux-x64-gnu-${version}.tgz"

cache="${TRAILWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch}"
dest_dir="${cache}/chdb/${version}"
dest="${dest_dir}/libchdb.so"

if [[ -f "${dest}" ]]; then
	echo "${dest}"
	exit 0
fi

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*)
	echo "chdb.sh: ${package} is built for Linux x86_64 only, not $(uname -s)/$(uname -m); use compose.yaml's clickhouse-server instead" >&2
	exit 1
	;;
esac

mkdir -p "${dest_dir}"
tmp="$(mktemp -d "${dest_dir}/.install.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

# A tarball already fetched into the cache (by an earlier run or by a
# machine's provisioning) is used as is; its content is checked below
# either way.
if [[ -f "${cache}/npm/${tarball}" ]]; then
	echo "chdb.sh: using ${cache}/npm/${tarball}" >&2
	cp "${cache}/npm/${tarball}" "${tmp}/${tarball}"
else
	command -v npm >/dev/null || {
		echo "chdb.sh: npm is needed to fetch ${package}@${version} (apt-get install npm)" >&2
		exit 1
	}
	echo "chdb.sh: fetching ${package}@${version} with npm pack (about 180 MB)" >&2
	(cd "${tmp}" && npm pack --silent "${package}@${version}" >/dev/null)
	mkdir -p "${cache}/npm"
	cp "${tmp}/${tarball}" "${cache}/npm/${tarball}.tmp.$$"
	mv -f "${cache}/npm/${tarball}.tmp.$$" "${cache}/npm/${tarball}"
fi

tar -xzf "${tmp}/${tarball}" -C "${tmp}" package/libchdb.so
got="$(sha256sum "${tmp}/package/libchdb.so" | cut -d' ' -f1)"
if [[ "${got}" != "${sha256}" ]]; then
	echo "chdb.sh: libchdb.so from ${package}@${version} has sha256 ${got}, want ${sha256}" >&2
	exit 1
fi

# Same filesystem as the destination, so the rename is atomic: a reader
# sees either no library or the whole verified one.
mv -f "${tmp}/package/libchdb.so" "${dest}"
echo "chdb.sh: installed ${dest}" >&2
echo "${dest}"
