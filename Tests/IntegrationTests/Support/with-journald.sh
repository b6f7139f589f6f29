#!/bin/bash
# with-journald.sh OUTDIR CMD...
# Runs CMD with a private, real systemd-journald listening on /run/systemd/journal/socket in a
# private mount namespace (platform.md 7.2); the host's /run is untouched. The journal files
# end up in OUTDIR/logs/journal. Needs root.
set -euo pipefail
W=$1
shift
[ -n "${_IN_NS:-}" ] || exec env _IN_NS=1 unshare -m --propagation private -- "$0" "$W" "$@"
mkdir -p "$W/logs"
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\nForwardToConsole=no\nRateLimitIntervalSec=0\nRuntimeMaxUse=64M\n' >"$W/journald.conf"
mkdir -p /run/systemd /run/log
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/journal
mount --bind "$W/logs" /run/log
mount --bind "$W/journald.conf" /etc/systemd/journald.conf
SYSTEMD_LOG_TARGET=console /lib/systemd/systemd-journald >"$W/journald.log" 2>&1 &
JP=$!
for _ in $(seq 500); do [ -S /run/systemd/journal/socket ] && break; sleep 0.01; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; cat "$W/journald.log" >&2; exit 1; }
set +e
"$@"
rc=$?
set -e
journalctl --sync || true
kill -TERM $JP
wait $JP || true
exit $rc
