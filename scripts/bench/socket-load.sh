#!/usr/bin/env bash
# Load on the control socket (issue 8): the real daemon (release build) on a store of about
# 100,000 deadlines (scripts/bench/gen_workload.py: 840 agreements of six obligations each,
# planned over the daemon's window), and Benchmarks' SocketLoad, a SwiftNIO HTTP/1.1 client
# with keep-alive connections over the Unix socket. Prints requests per second and latency
# percentiles per route, the daemon's CPU time per request, and the goals.
#
#   scripts/bench/socket-load.sh [REQUESTS]      default 50000 per route, 16 connections
#
# Environment: CONNECTIONS (16), AGREEMENTS (840), SCRATCH_PATH (a --scratch-path for the
# daemon's release build, e.g. .build-release when .build is busy), SAMVERKAND (a prebuilt
# daemon: skip its build). The first start fills the store (about 100,000 deadlines and 180,000
# notices; some seconds). Not part of the test suite.
set -euo pipefail

REQUESTS=${1:-50000}
CONNECTIONS=${CONNECTIONS:-16}
AGREEMENTS=${AGREEMENTS:-840}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$ROOT/scripts/common.sh"
ensure_packages python3 python3-dateutil curl "${RUN_PACKAGES[@]}"

if [ -z "${SAMVERKAND:-}" ]; then
    build=(swift build -c release)
    [ -n "${SCRATCH_PATH:-}" ] && build+=(--scratch-path "$SCRATCH_PATH")
    echo "==> ${build[*]} --product samverkand" >&2
    (cd "$ROOT" && "${build[@]}" --product samverkand >&2)
    SAMVERKAND="$(cd "$ROOT" && "${build[@]}" --show-bin-path)/samverkand"
fi
echo "==> swift build -c release --product SocketLoad (Benchmarks/)" >&2
(cd "$ROOT/Benchmarks" && swift build -c release --product SocketLoad >&2)
LOAD="$(cd "$ROOT/Benchmarks" && swift build -c release --show-bin-path)/SocketLoad"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/samverkan-load.XXXXXX")
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
python3 "$ROOT/scripts/bench/gen_workload.py" "$AGREEMENTS" "$WORK/workload" > /dev/null
"$SAMVERKAND" --config "$WORK/workload/config" --state "$WORK/state" --socket "$WORK/control.sock" \
    2> "$WORK/daemon.log" &
PID=$!
for _ in $(seq 1200); do
    grep -q " ready: " "$WORK/daemon.log" && break
    kill -0 "$PID" 2> /dev/null || break
    sleep 0.1
done
grep -q " ready: " "$WORK/daemon.log" || { cat "$WORK/daemon.log" >&2; echo "$0: the daemon did not start" >&2; exit 1; }
planned=$(curl -sf --unix-socket "$WORK/control.sock" http://localhost/v1/status \
    | python3 -c 'import json,sys; d=json.load(sys.stdin)["deadlines"]; print(d["planned"], d["pending_notices"])')
detail=$(curl -sf --unix-socket "$WORK/control.sock" "http://localhost/v1/deadlines?within=30d&limit=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
hz=$(getconf CLK_TCK)

echo
echo "samverkand control socket: ${planned% *} deadlines planned, ${planned#* } notices pending"
echo "$CONNECTIONS keep-alive connections, $REQUESTS requests per route, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-50s %9s %9s %9s %9s %14s\n' "route" "req/s" "p50 ms" "p99 ms" "max ms" "daemon CPU/req"
verdicts=()
# state=upcoming is never kept between requests (ListingCache): the cost of building a listing.
for route in /v1/status "/v1/deadlines?within=30d&limit=50" "/v1/deadlines?within=30d&limit=50&state=upcoming" \
    "/v1/deadlines/$detail" /metrics; do
    # A warm-up pass, then the measured one.
    "$LOAD" "$WORK/control.sock" --connections "$CONNECTIONS" --requests $((REQUESTS / 10)) --path "$route" > /dev/null
    before=$(cpu_ticks)
    line=$("$LOAD" "$WORK/control.sock" --connections "$CONNECTIONS" --requests "$REQUESTS" --path "$route")
    after=$(cpu_ticks)
    read -r count rps p50 p99 max < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["requests"], d["rps"], d["p50_ms"], d["p99_ms"], d["max_ms"])' "$line")
    per=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$count" 'BEGIN { printf "%.0f us", t / hz / n * 1e6 }')
    printf '%-50s %9.0f %9.2f %9.2f %9.2f %14s\n' "$route" "$rps" "$p50" "$p99" "$max" "$per"
    case $route in
        /v1/status | "/v1/deadlines?within=30d&limit=50")
            if awk -v r="$rps" -v p="$p99" 'BEGIN { exit !(r > 5000 && p < 5) }'; then
                verdicts+=("$route: met")
            else
                verdicts+=("$route: NOT met")
            fi
            ;;
    esac
done
echo
echo "goal (more than 5000 req/s, p99 under 5 ms):"
printf '  %s\n' "${verdicts[@]}"
