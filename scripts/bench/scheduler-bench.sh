#!/usr/bin/env bash
# The daemon's store, scheduler and reload, measured through the real samverkand and samverkanctl
# (README, "Benchmarks").
#
#   scripts/bench/scheduler-bench.sh [store] [precision] [atd] [cases]   default: the first three
#
#   store      about 1,000,000 pending notices (502 agreements, each a weekly collection round of
#              17 respondents with reminders 2d and 1d): the first start that fills the store,
#              then a restart: exec -> READY=1 (goal < 1 s) and peak RSS at READY (< 64 MiB);
#              GET /v1/status; `samverkanctl reload` after 1% of the agreement files changed
#              (median of 3, goal < 2 s) and the peak RSS after it.
#   precision  1,000 notices due at the same second, then 1,000 spread over a minute, file sink:
#              p50/p99/max of (the moment the file appears under its final name, seen by an
#              inotify watcher - due instant), goal p99 < 50 ms; also of (file ctime - due).
#   atd        10,000 one-off jobs queued with `echo true | at -t TIME` and removed with one atrm,
#              against 10,000 one-off deadlines added to the config + `samverkanctl reload` and
#              removed + reload: goal at least 100x faster on both.
#   cases      issue 8: 10,000 SMADIT cases opened and closed through the control socket, one
#              request per case as a script would (one `samverkanctl case open|close` process
#              per case; then one keep-alive connection), beside the same 10,000 at jobs (the
#              at figures are shared with the atd part when both run).
#
# The work is in scripts/bench/scheduler_bench.py (python3, stdlib only); this script installs
# what is missing with apt-get (python3, tzdata, procps; `at` for the atd part), builds the
# release binaries, starts atd for the atd part when it is not running (and stops it again), and
# runs the parts. Each prints its table and whether each goal is met; the last lines repeat every
# goal.
#
# Environment: SCRATCH_PATH (a --scratch-path for the release build, e.g. .build-release),
# SAMVERKAND and SAMVERKANCTL (prebuilt binaries: skip the build), AGREEMENTS (store: default
# 502; fewer to scale the store down), PERF=1 (store: perf record the daemon during the first 1%
# reload; keeps the work directory, where the profile is), OURS_ONLY=1 (atd and cases: samverkand
# alone, without running at: seconds instead of ten minutes), CASES (cases: how many, default
# 10000), KEEP=1 (keeps the work directory:
# stores, configs, daemon logs). The store part needs about 1 GB of disk under TMPDIR and takes
# one or two minutes, precision about three, atd about ten (most of it atrm). Not part of the
# test suite.
set -euo pipefail

PARTS=()
for part in "$@"; do
    case $part in
        store | precision | atd | cases) PARTS+=("$part") ;;
        *) echo "usage: $0 [store] [precision] [atd] [cases]   (default: the first three)" >&2; exit 2 ;;
    esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(store precision atd)
wants() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$ROOT/scripts/common.sh"
packages=(python3 tzdata procps "${RUN_PACKAGES[@]}")
needs_at() { { wants atd || wants cases; } && [ "${OURS_ONLY:-0}" != 1 ]; }
needs_at && packages+=(at)
[ "${PERF:-0}" = 1 ] && ! command -v perf > /dev/null && packages+=(linux-perf)
ensure_packages "${packages[@]}"

if [ -z "${SAMVERKAND:-}" ] || [ -z "${SAMVERKANCTL:-}" ]; then
    # As `make build` builds them: samverkanctl with the Swift runtime linked in (it starts in
    # 5 ms instead of 12, which counts in the add and cases parts), samverkand without (see the
    # Makefile).
    build=(swift build -c release)
    [ -n "${SCRATCH_PATH:-}" ] && build+=(--scratch-path "$SCRATCH_PATH")
    echo "==> ${build[*]} --product samverkand" >&2
    (cd "$ROOT" && "${build[@]}" --product samverkand >&2)
    echo "==> ${build[*]} --static-swift-stdlib --product samverkanctl" >&2
    (cd "$ROOT" && "${build[@]}" --static-swift-stdlib --product samverkanctl >&2)
    bin=$(cd "$ROOT" && "${build[@]}" --show-bin-path)
    SAMVERKAND=$bin/samverkand
    SAMVERKANCTL=$bin/samverkanctl
fi
for binary in "$SAMVERKAND" "$SAMVERKANCTL"; do
    [ -x "$binary" ] || { echo "$0: no executable $binary" >&2; exit 1; }
done

[ "${PERF:-0}" = 1 ] && KEEP=1 # the profile is in the work directory
WORK=$(mktemp -d "${TMPDIR:-/tmp}/samverkan-scheduler-bench.XXXXXX")
ATD_PID=
cleanup() {
    # atd only if this script started it, by its pid.
    if [ -n "$ATD_PID" ]; then
        echo "==> stopping the atd this script started (pid $ATD_PID)" >&2
        as_root kill "$ATD_PID" 2> /dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        echo "==> work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# The pid of a running (not zombie) atd, if any.
running_atd() { ps -C atd -o pid=,stat= | awk '$2 !~ /^Z/ {print $1; exit}'; }
if needs_at && [ -z "$(running_atd)" ]; then
    # No systemd as PID 1 in a container: start the daemon by hand (it forks into the background).
    echo "==> starting atd" >&2
    as_root atd
    for _ in $(seq 50); do
        ATD_PID=$(running_atd)
        [ -n "$ATD_PID" ] && break
        sleep 0.1
    done
    [ -n "$ATD_PID" ] || { echo "$0: atd did not start" >&2; exit 1; }
fi

echo "samverkand $("$SAMVERKAND" --version | awk '{print $2}'), $(nproc) cores, $(uname -sr)," \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), work directory on" \
    "$(df --output=source "$WORK" | tail -n 1)"
needs_at && echo "at $(dpkg-query -W -f='${Version}' at)"
options=(--samverkand "$SAMVERKAND" --samverkanctl "$SAMVERKANCTL" --work "$WORK" --agreements "${AGREEMENTS:-502}")
[ "${PERF:-0}" = 1 ] && options+=(--perf)
[ -n "${CASES:-}" ] && options+=(--cases "$CASES")
[ "${OURS_ONLY:-0}" = 1 ] && options+=(--ours-only)
/usr/bin/python3 "$ROOT/scripts/bench/scheduler_bench.py" "${options[@]}" "${PARTS[@]}"
