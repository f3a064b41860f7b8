#!/usr/bin/env bash
# Starts, stops and shows the local development stack: the Kafka-protocol
# broker, MinIO (S3, announcing new objects on the objects topic), the
# ClickHouse engine and the GeoIP databases, all on 127.0.0.1, with their
# data, pids and logs under the state folder.
#
#   bash deploy/local/stack.sh up       # install (first time), start, wait, print endpoints
#   bash deploy/local/stack.sh down     # stop by pid; data is kept
#   bash deploy/local/stack.sh status   # what runs, where, and its log
#
# `make up`, `make down` and `make status` call it. The work is done by
# `bin/trailwatch devstack` (internal/devstack), which checks each service
# for readiness with a timeout and names its log when it fails.
#
# Environment:
#   TRAILWATCH_STATE_DIR  state folder (default <repo>/.state)
#   TRAILWATCH_CACHE_DIR  installed tools (default ${XDG_CACHE_HOME:-$HOME/.cache}/trailwatch)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${root}/bin/trailwatch"

case "${1:-}" in
up | down | status) ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac

# `make up` builds first; down and status only need some build.
if [[ ! -x "${bin}" ]]; then
	(cd "${root}" && go build -o "${bin}" ./cmd/trailwatch)
fi

cd "${root}"
exec "${bin}" devstack "$1" --repo "${root}"
