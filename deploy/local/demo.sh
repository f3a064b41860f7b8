#!/usr/bin/env bash
# What `make demo` runs: the pipeline end to end on the local stack.
#
#  1. start the local stack (broker, MinIO, ClickHouse, GeoIP data),
#     installing what is missing on the first run;
#  2. create the topics and the ClickHouse schema;
#  3. generate one day of a multi-account organisation's CloudTrail and VPC
#     flow logs (some flow logs delivering Parquet, the rest gzipped text),
#     attacks included, into the MinIO log buckets: MinIO
#     announces every new object on the objects topic, as S3 event
#     notifications would through SQS;
#  4. run an ingest worker that reads the announced objects into the
#     events topic, and show objects, events and rates as they flow;
#  5. show where the data is and how to query ClickHouse.
#
# Environment:
#   DEMO_EVENTS     CloudTrail events to generate (default 200000)
#   DEMO_FLOWS      VPC flow records to generate (default 200000)
#   DEMO_ACCOUNTS   accounts in the organisation (default 8)
#   DEMO_FLOW_FORMAT  flow log files: text, parquet or mixed (default mixed)
#   DEMO_SEED       generator seed (default: a new one each run, so the
#                   objects are new and MinIO announces them again)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${root}"
state="${TRAILWATCH_STATE_DIR:-${root}/.state}"
tw="${root}/bin/trailwatch"
events="${DEMO_EVENTS:-200000}"
flows="${DEMO_FLOWS:-200000}"
accounts="${DEMO_ACCOUNTS:-8}"
flow_format="${DEMO_FLOW_FORMAT:-mixed}"
seed="${DEMO_SEED:-$(date +%s)}"
admin_port=19464

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "starting the local stack"
bash deploy/local/stack.sh up
# shellcheck source=/dev/null
source "${state}/env"
mkdir -p "${state}/logs" "${state}/pids"

say "creating topics"
"${tw}" topics

say "applying the ClickHouse schema"
"${tw}" migrate

say "starting an ingest worker (logs: ${state}/logs/ingest.log, metrics: http://127.0.0.1:${admin_port}/metrics)"
TRAILWATCH_ADMIN_ADDR="127.0.0.1:${admin_port}" TRAILWATCH_INGEST_TRANSACTIONAL_ID="trailwatch-ingest-demo" \
	"${tw}" ingest >"${state}/logs/ingest.log" 2>&1 &
ingest_pid=$!
echo "${ingest_pid}" >"${state}/pids/demo-ingest.pid"
stop_ingest() {
	if kill -0 "${ingest_pid}" 2>/dev/null; then
		kill -TERM "${ingest_pid}" 2>/dev/null || true
		wait "${ingest_pid}" 2>/dev/null || true
	fi
	rm -f "${state}/pids/demo-ingest.pid"
}
trap stop_ingest EXIT

say "generating a ${accounts}-account organisation day: ${events} CloudTrail events, ${flows} flow records (${flow_format} flow log files), every attack scenario (seed ${seed})"
"${tw}" gen --seed "${seed}" --accounts "${accounts}" --events "${events}" --flow-records "${flows}" \
	--flow-format "${flow_format}" --scenario all --digests --ground-truth "${state}/ground-truth-${seed}.json"

# metric NAME [LABEL_FILTER] sums a counter from the ingest worker.
metric() {
	curl -fsS "http://127.0.0.1:${admin_port}/metrics" 2>/dev/null |
		awk -v name="$1" -v filter="${2:-}" '$1 ~ "^"name"({|$)" && index($1, filter) { sum += $2 } END { printf "%d", sum }'
}

say "ingesting: objects and events as they flow (Ctrl-C stops the demo)"
printf '%8s %10s %12s %12s %14s\n' "seconds" "objects" "events" "events/s" "dead letters"
start=$(date +%s)
last_events=0
idle=0
while :; do
	sleep 2
	objects=$(metric trailwatch_ingest_objects_total)
	evs=$(metric trailwatch_ingest_events_total)
	dlq=$(metric trailwatch_ingest_dead_letters_total)
	now=$(date +%s)
	printf '%8d %10d %12d %12d %14d\n' "$((now - start))" "${objects}" "${evs}" "$(((evs - last_events) / 2))" "${dlq}"
	if ((evs == last_events && objects > 0)); then
		idle=$((idle + 1))
	else
		idle=0
	fi
	last_events=${evs}
	if ((idle >= 3)); then
		break
	fi
	if ((now - start > 600)); then
		echo "demo: still ingesting after 10 minutes; see ${state}/logs/ingest.log" >&2
		break
	fi
done

say "what ingest did, by object kind and result"
curl -fsS "http://127.0.0.1:${admin_port}/metrics" | grep -E '^trailwatch_ingest_(objects|dead_letters)_total' | sed 's/^/  /'

say "a few events as they sit on the events topic (bin/trailwatch tail events)"
# head stops reading early; the writer's SIGPIPE is expected here.
("${tw}" tail -n 3 events | head -4 | cut -c1-400) || true

say "ClickHouse tables (the sink stage, which fills them, comes with a later version)"
curl -fsS "http://${TRAILWATCH_CLICKHOUSE_HTTP_ADDR}/" --data-binary "SELECT name, engine FROM system.tables WHERE database = 'trailwatch' ORDER BY name FORMAT PrettyCompactMonoBlock"

cat <<MSG

Where things are:
  events topic      trailwatch.events on ${TRAILWATCH_KAFKA_BROKERS} (protobuf, see schemas/CODEC.md)
  dead letters      trailwatch.dlq (JSON, with the object and the reason)
  source heartbeats trailwatch.sources (JSON: when each account/region/kind last delivered)
  ground truth      ${state}/ground-truth-${seed}.json (the attacks the generator injected)
  ingest log        ${state}/logs/ingest.log

Query ClickHouse (HTTP on ${TRAILWATCH_CLICKHOUSE_HTTP_ADDR}, native on ${TRAILWATCH_CLICKHOUSE_ADDR}):
  curl http://${TRAILWATCH_CLICKHOUSE_HTTP_ADDR}/ --data-binary "SELECT event_name, count() FROM trailwatch.events GROUP BY event_name ORDER BY 2 DESC LIMIT 10"

Read any topic as NDJSON:        bin/trailwatch tail [-n N] [--follow] events|dlq|sources|...
Decode local log files offline:  bin/trailwatch parse <file.json.gz | file.log.parquet>
Stop the stack:                  make down
MSG
