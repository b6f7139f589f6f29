#!/usr/bin/env bash
# Load on the control socket (issue 8): the real daemon (release build) on the bundled Config/,
# and Benchmarks' SocketLoad, a SwiftNIO HTTP/1.1 client, with keep-alive connections over the
# Unix socket. Prints requests per second and latency percentiles per route, and the goals.
#
#   scripts/bench/socket-load.sh [REQUESTS]      default 50000 per route, 32 connections
#
# Environment: CONNECTIONS (32), SCRATCH_PATH (a --scratch-path for the daemon's release build,
# e.g. .build-release when .build is busy). Not part of the test suite.
set -euo pipefail

REQUESTS=${1:-50000}
CONNECTIONS=${CONNECTIONS:-32}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$ROOT/scripts/common.sh"
ensure_packages "${RUN_PACKAGES[@]}"

build=(swift build -c release)
[ -n "${SCRATCH_PATH:-}" ] && build+=(--scratch-path "$SCRATCH_PATH")
echo "==> ${build[*]} --product samverkand" >&2
(cd "$ROOT" && "${build[@]}" --product samverkand >&2)
DAEMON="$(cd "$ROOT" && "${build[@]}" --show-bin-path)/samverkand"
echo "==> swift build -c release --product SocketLoad (Benchmarks/)" >&2
(cd "$ROOT/Benchmarks" && swift build -c release --product SocketLoad >&2)
LOAD="$(cd "$ROOT/Benchmarks" && swift build -c release --show-bin-path)/SocketLoad"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/samverkan-load.XXXXXX")
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
"$DAEMON" --config "$ROOT/Config" --state "$WORK/state" --socket "$WORK/control.sock" 2> "$WORK/daemon.log" &
PID=$!
for _ in $(seq 100); do
    [ -S "$WORK/control.sock" ] && break
    sleep 0.1
done
[ -S "$WORK/control.sock" ] || { cat "$WORK/daemon.log" >&2; echo "$0: the daemon did not start" >&2; exit 1; }

echo
echo "samverkand control socket, $CONNECTIONS keep-alive connections, $REQUESTS requests per route ($(nproc) cores)"
printf '%-34s %10s %10s %10s %10s\n' "route" "req/s" "p50 ms" "p99 ms" "max ms"
met=yes
for route in /v1/status "/v1/deadlines?within=30d" "/v1/deadlines/exempel/lagesbild/2026-12-31" /metrics; do
    # A warm-up pass, then the measured one.
    "$LOAD" "$WORK/control.sock" --connections "$CONNECTIONS" --requests $((REQUESTS / 10)) --path "$route" > /dev/null
    line=$("$LOAD" "$WORK/control.sock" --connections "$CONNECTIONS" --requests "$REQUESTS" --path "$route")
    read -r rps p50 p99 max < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["rps"], d["p50_ms"], d["p99_ms"], d["max_ms"])' "$line")
    printf '%-34s %10.0f %10.2f %10.2f %10.2f\n' "$route" "$rps" "$p50" "$p99" "$max"
    if [ "$route" = /v1/status ]; then
        awk -v r="$rps" -v p="$p99" 'BEGIN { exit !(r > 5000 && p < 5) }' || met=no
    fi
done
echo
echo "goal (GET /v1/status: more than 5000 req/s, p99 under 5 ms): $([ $met = yes ] && echo met || echo 'NOT met')"
