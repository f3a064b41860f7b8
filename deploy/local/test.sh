#!/usr/bin/env bash
# What `make test` (and CI, through .ci/run) runs: start the local stack,
# point the tests at it, run go vet and staticcheck, run every test with
# the race detector, and stop the stack again on the way out.
#
# Integration tests find the stack through internal/testenv, which reads
# the variables of .state/env. Under CI (CI set) a test whose service is
# missing fails instead of skipping, so CI never passes by skipping.
#
# The exit status is the tests' own when they fail, else non-zero when vet
# or staticcheck found something, else 0.
#
# Environment:
#   TRAILWATCH_PACKAGES      the packages to check and test (default ./...)
#   TRAILWATCH_TEST_TIMEOUT  go test -timeout (default 20m: -race on two cores)
#   TRAILWATCH_KEEP_STACK    set to 1 to leave the stack running afterwards
#   TRAILWATCH_STATE_DIR, TRAILWATCH_CACHE_DIR  as for deploy/local/stack.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${root}"
state="${TRAILWATCH_STATE_DIR:-${root}/.state}"

stop_stack() {
	if [[ "${TRAILWATCH_KEEP_STACK:-0}" == 1 ]]; then
		echo "==> leaving the stack running (TRAILWATCH_KEEP_STACK=1); make down stops it" >&2
		return
	fi
	echo "==> stopping the stack" >&2
	bash deploy/local/stack.sh down >&2 || true
}
# Installed before up, so that a stack that comes up only partly is
# stopped too.
trap stop_stack EXIT

echo "==> starting the stack" >&2
bash deploy/local/stack.sh up

# The env file exports what it sets.
# shellcheck source=/dev/null
source "${state}/env"

lint_status=0
bash deploy/local/lint.sh || lint_status=$?

read -r -a packages <<<"${TRAILWATCH_PACKAGES:-./...}"
echo "==> go test -race ${packages[*]}" >&2
test_status=0
go test -race -count=1 -timeout "${TRAILWATCH_TEST_TIMEOUT:-20m}" "${packages[@]}" || test_status=$?

if ((test_status != 0)); then
	echo "test: tests failed (status ${test_status})" >&2
	exit "${test_status}"
fi
if ((lint_status != 0)); then
	echo "test: tests passed, but vet or staticcheck did not" >&2
	exit "${lint_status}"
fi
echo "test: ok" >&2
