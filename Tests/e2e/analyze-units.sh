#!/bin/bash
# analyze-units.sh ROOT_TMPDIR BIN_DIR
#
# Installs the units with `make install` into ROOT_TMPDIR (a scratch root, created if missing
# and emptied first), then:
#   1. `systemd-analyze verify` on samverkand.service and samverkand.socket: ANY output fails,
#      because verify exits 0 on typos such as `Type=notfy` or unknown keys (platform.md 7.4);
#   2. `systemd-analyze security --offline=true`: fails above exposure 1.5 (--threshold=15,
#      the threshold being on a 0-100 scale).
# The last line printed is `SECURITY_SCORE=<n.n>`. BIN_DIR holds samverkand and samverkanctl
# (e.g. .build/debug); swift is never run. Needs no systemd as PID 1 and no root.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 ROOT_TMPDIR BIN_DIR" >&2
    exit 2
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mkdir -p "$1" && cd "$1" && pwd)
bin_dir=$(cd "$2" && pwd)
# The root is emptied first, so refuse any directory that is neither empty nor one this script
# made before (marked): a mistyped argument must not wipe real files.
marker="$root/.samverkan-analyze-root"
if [ -n "$(ls -A "$root")" ] && [ ! -e "$marker" ]; then
    echo "refusing ROOT_TMPDIR=$root: not empty and not made by $0" >&2
    exit 2
fi
find "$root" -mindepth 1 -delete
touch "$marker"

if ! log=$(make -s -C "$repo" install DESTDIR="$root" PREFIX=/usr BUILD_DIR="$bin_dir" 2>&1); then
    printf '%s\n' "$log"
    echo "FAIL: make install" >&2
    exit 1
fi

# verify loads the units' dependencies (sysinit.target, sockets.target, ...) from the root, and
# checks that every Exec*= command is executable there: ExecReload= runs /bin/sh.
mkdir -p "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
[ -e "$root/bin" ] || ln -s usr/bin "$root/bin"
cp /bin/sh "$root/usr/bin/sh"

status=0
# --man=no: Documentation=man:samverkand(8) is not installed here.
out=$(systemd-analyze verify --man=no --root="$root" samverkand.service samverkand.socket 2>&1) || status=$?
if [ -n "$out" ] || [ "$status" -ne 0 ]; then
    printf '%s\n' "$out"
    echo "FAIL: systemd-analyze verify printed output or exited $status" >&2
    exit 1
fi
echo "verify: silent"

status=0
security=$(systemd-analyze security --offline=true --root="$root" --threshold=15 samverkand.service 2>&1) || status=$?
score_line=$(printf '%s\n' "$security" | grep 'Overall exposure level' || true)
# "→ Overall exposure level for samverkand.service: 1.2 OK 🙂"
score=$(printf '%s\n' "$score_line" | sed -n 's/.*: \([0-9][0-9]*\.[0-9]\) .*/\1/p')
if [ "$status" -ne 0 ] || [ -z "$score" ]; then
    printf '%s\n' "$security"
    echo "FAIL: systemd-analyze security exited $status (threshold 1.5)" >&2
    [ -n "$score" ] && echo "SECURITY_SCORE=$score"
    exit 1
fi
echo "$score_line"
echo "SECURITY_SCORE=$score"
