#!/usr/bin/env bash
# samverkanctl plan against remind(1) on the same generated workload (issue 5, "Benchmarks").
#
#   scripts/bench/planner-vs-remind.sh [N]          N agreements × 6 obligations, default 10000
#
# Times the whole commands as a user runs them, so reading the config and writing the output
# count too, RUNS times each (default 3), with /usr/bin/time:
#
#   samverkanctl plan DIR --from 2027-01-01 --to 2027-12-31 --json > /dev/null   (release build)
#   remind -q -r -s12 FILE 2027-01-01 > /dev/null
#
# at N/4, N/2 and N, and prints the median wall time and peak RSS of each, the ratio at N and
# how each tool's time grows with N (linear growth: 2× from N/2 to N, 4× from N/4 to N).
#
# Installs what is missing (remind, time, python3-dateutil) with apt-get, as root or via sudo.
# Environment: RUNS (3), SCRATCH_PATH (a --scratch-path for the release build, e.g.
# .build-bench when .build is busy), SAMVERKANCTL (a prebuilt binary: skips the build),
# KEEP=1 keeps the generated workload. Not part of the test suite: it takes a few minutes.
set -euo pipefail

N=${1:-10000}
RUNS=${RUNS:-3}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]  (N a number of agreements)" >&2; exit 2 ;; esac
[ "$N" -ge 4 ] || { echo "$0: N must be at least 4" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$ROOT/scripts/common.sh"
ensure_packages remind time python3 python3-dateutil

if [ -z "${SAMVERKANCTL:-}" ]; then
    build=(swift build -c release)
    [ -n "${SCRATCH_PATH:-}" ] && build+=(--scratch-path "$SCRATCH_PATH")
    echo "==> ${build[*]} --product samverkanctl" >&2
    (cd "$ROOT" && "${build[@]}" --product samverkanctl >&2)
    SAMVERKANCTL="$(cd "$ROOT" && "${build[@]}" --show-bin-path)/samverkanctl"
fi
[ -x "$SAMVERKANCTL" ] || { echo "$0: no samverkanctl at $SAMVERKANCTL" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/samverkan-vs-remind.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "==> workload kept in $WORK" >&2
else
    trap 'rm -rf "$WORK"' EXIT
fi

SIZES=($((N / 4)) $((N / 2)) "$N")
for size in "${SIZES[@]}"; do
    /usr/bin/python3 "$ROOT/scripts/bench/gen_workload.py" "$size" "$WORK/$size" 2> /dev/null
done

# The deadlines of one config, checked once so that a failing command is never timed as fast.
"$SAMVERKANCTL" check-config "$WORK/$N/config" >&2

# run_timed LABEL CMD... : RUNS runs; prints "median_seconds peak_kb all_seconds" on stdout.
run_timed() {
    local label=$1 out=$WORK/time.out secs=() kbs=() i
    shift
    for ((i = 1; i <= RUNS; i++)); do
        if ! /usr/bin/time -f "%e %M" -o "$out" "$@" > /dev/null; then
            echo "$0: $label failed: $*" >&2
            cat "$out" >&2
            exit 1
        fi
        read -r s kb < <(tail -n 1 "$out")
        secs+=("$s")
        kbs+=("$kb")
        echo "    $label run $i: $s s, $kb KB" >&2
    done
    local median peak
    median=$(printf '%s\n' "${secs[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    peak=$(printf '%s\n' "${kbs[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    echo "$median $peak $(IFS=/; echo "${secs[*]}")"
}

declare -A T M ALL
for size in "${SIZES[@]}"; do
    dir=$WORK/$size
    echo "==> $size agreements ($((6 * size)) obligations)" >&2
    read -r "T[s$size]" "M[s$size]" "ALL[s$size]" < <(run_timed "samverkanctl" \
        "$SAMVERKANCTL" plan "$dir/config" --from 2027-01-01 --to 2027-12-31 --json)
    read -r "T[r$size]" "M[r$size]" "ALL[r$size]" < <(run_timed "remind" \
        remind -q -r -s12 "$dir/reminders.rem" 2027-01-01)
done

echo
echo "samverkanctl plan --json vs remind -s12, 12 months from 2027-01-01 (median of $RUNS runs)"
echo "$(remind -v 2>&1 | sed -n 2p | cut -d' ' -f1-2); samverkanctl $("$SAMVERKANCTL" --version 2>/dev/null); $(nproc) cores"
echo
printf '%-12s %-13s %10s %10s %-26s\n' "agreements" "tool" "wall s" "peak MB" "runs (s)"
for size in "${SIZES[@]}"; do
    for tool in s r; do
        name=$([ $tool = s ] && echo samverkanctl || echo remind)
        printf '%-12s %-13s %10s %10.1f %-26s\n' "$size" "$name" "${T[$tool$size]}" \
            "$(awk -v k="${M[$tool$size]}" 'BEGIN {print k / 1024}')" "${ALL[$tool$size]}"
    done
done
echo
q=${SIZES[0]}
h=${SIZES[1]}
awk -v n="$N" -v ts="${T[s$N]}" -v tr="${T[r$N]}" -v ms="${M[s$N]}" -v mr="${M[r$N]}" \
    -v sq="${T[s$q]}" -v sh="${T[s$h]}" -v rq="${T[r$q]}" -v rh="${T[r$h]}" 'BEGIN {
    ratio = (ts > 0) ? tr / ts : 0
    printf "at %d agreements: remind / samverkanctl = %.1fx wall time, %.2fx peak memory\n", n, ratio, mr / ms
    printf "growth N/4 -> N (linear = 4.0x): samverkanctl %.1fx, remind %.1fx\n", (sq > 0 ? ts / sq : 0), (rq > 0 ? tr / rq : 0)
    printf "growth N/2 -> N (linear = 2.0x): samverkanctl %.1fx, remind %.1fx\n", (sh > 0 ? ts / sh : 0), (rh > 0 ? tr / rh : 0)
    printf "goal (>= 20x faster, less memory): %s\n", (ratio >= 20 && ms < mr) ? "met" : "NOT met"
}'
echo "(/usr/bin/time has 10 ms resolution: a time of 0.00-0.05 s gives only a rough ratio.)"
