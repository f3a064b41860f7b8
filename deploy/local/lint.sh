#!/usr/bin/env bash
# What `make lint` runs: gofmt, go vet, staticcheck (pinned) and a check
# that go.mod and go.sum are tidy (make test runs the same checks).
#
#   bash deploy/local/lint.sh [--no-tidy]
#
# Every check runs even when an earlier one fails; the exit status is
# non-zero when any failed.
#
# Environment:
#   TRAILWATCH_PACKAGES  the packages to vet and check (default ./...)
set -euo pipefail

# Staticcheck 2026.2 (v0.8.x) analyses Go 1.26 code (its go.mod needs Go
# 1.26.0); `go run pkg@version` builds it once into the module and build
# caches, so later runs start at once.
readonly staticcheck="honnef.co/go/tools/cmd/staticcheck@v0.8.2"

tidy=1
case "${1:-}" in
"") ;;
--no-tidy) tidy=0 ;;
*)
	echo "usage: $0 [--no-tidy]" >&2
	exit 2
	;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

failed=()
step() {
	local name="$1"
	shift
	echo "==> ${name}: $*" >&2
	if ! "$@"; then
		failed+=("${name}")
	fi
}

# gofmt lists files whose formatting differs; any output is a failure.
gofmt_clean() {
	local out
	out="$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './.state/*'))"
	if [[ -n "${out}" ]]; then
		printf 'not gofmt-formatted:\n%s\n' "${out}" >&2
		return 1
	fi
}

read -r -a packages <<<"${TRAILWATCH_PACKAGES:-./...}"
step gofmt gofmt_clean
step vet go vet "${packages[@]}"
step staticcheck go run "${staticcheck}" "${packages[@]}"
if ((tidy)); then
	step tidy go mod tidy -diff
fi

if ((${#failed[@]})); then
	echo "lint: failed: ${failed[*]}" >&2
	exit 1
fi
echo "lint: ok" >&2
