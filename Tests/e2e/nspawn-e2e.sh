#!/bin/bash
# nspawn-e2e.sh OUT_DIR BIN_DIR
#
# Proves the units under a real systemd 252 as PID 1 (platform.md 7.7): boots this host's own
# root with `systemd-nspawn --boot` on a throw-away overlay (tmpfs upper layer) into which
# `make install DESTDIR=… PREFIX=/usr BUILD_DIR=BIN_DIR` has put exactly what a user gets,
# enabled with `systemctl --root=… enable`. Inside, e2e.service runs container/checks.sh and
# powers the container off. Nothing on the host changes: every mount lives in a private mount
# namespace and disappears with it.
#
# OUT_DIR receives verdict (`PASS name` / `FAIL name: detail` lines, then `DONE`),
# journal.json (the unit's journal, `journalctl -o json`), status.json, boot.log (the whole
# container journal) and nspawn.log (the console). Exit 0 only if every check passed.
# BIN_DIR holds samverkand and samverkanctl, e.g. .build/debug; swift is never run.
# SAMVERKAN_E2E_PREFIX=/usr/local proves the PREFIX=/usr/local layout instead (default /usr).
# Needs root and systemd-nspawn (apt-get install --no-install-recommends systemd-container).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 OUT_DIR BIN_DIR" >&2
    exit 2
fi

# Everything below runs in a private mount namespace: the overlay, the tmpfs and nspawn's own
# bookkeeping mounts vanish when this script exits, however it exits.
if [ -z "${SAMVERKAN_E2E_IN_NAMESPACE:-}" ]; then
    exec env SAMVERKAN_E2E_IN_NAMESPACE=1 unshare --mount --propagation private -- "$BASH" "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out_dir=$(mkdir -p "$1" && cd "$1" && pwd)
bin_dir=$(cd "$2" && pwd)
machine=samverkan-e2e-$$
prefix=${SAMVERKAN_E2E_PREFIX:-/usr}
started=$SECONDS
rm -f "$out_dir"/{verdict,journal.json,status.json,boot.log,nspawn.log}

# The scratch directory is on the host's disk only as an empty mount point; the tmpfs on it
# holds the overlay's upper layer. Not under /tmp: nspawn mounts its own /tmp in the container.
work=$(mktemp -d /var/tmp/samverkan-e2e.XXXXXX)
cleanup() {
    # The namespace would drop the mounts anyway; unmounting explicitly frees the tmpfs at once
    # and leaves no empty mount point behind.
    umount -R "$work" 2> /dev/null || umount -R -l "$work" 2> /dev/null || true
    rmdir "$work" 2> /dev/null || true
}
trap cleanup EXIT

mount -t tmpfs -o mode=0755 samverkan-e2e "$work"
mkdir "$work/upper" "$work/work" "$work/root"
root=$work/root
# Only the root file system is the lower layer: /proc, /sys, /dev and other mounts below /
# are not part of it, and nspawn provides its own.
mount -t overlay samverkan-e2e -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$root"
# nspawn keeps per-machine directories under /run/systemd/nspawn; keep them in the namespace.
mkdir -p /run/systemd/nspawn
mount -t tmpfs -o mode=0755 samverkan-e2e-nspawn /run/systemd/nspawn

# --- Prepare the image (all writes land in the tmpfs upper layer).
# The host admin's enabled units (databases, timers, gettys, ...) stay off: drop every
# enablement symlink under /etc. Vendor defaults in /usr/lib/systemd stay, so the boot is a
# normal one into multi-user.target.
find "$root/etc/systemd/system" -mindepth 1 -maxdepth 1 \
    \( -name '*.wants' -o -name '*.requires' -o -name '*.upholds' \) -exec rm -rf {} +
# Anything samverkan-related from an earlier install on the host would shadow or pre-empt what
# make install puts in /usr: units and drop-ins in /etc or /usr/local, a sysusers override,
# config and state, and the user itself (which must come from systemd-sysusers at this boot).
rm -rf "$root"/etc/systemd/system/samverkand.* "$root"/usr/local/lib/systemd/system/samverkand.* \
    "$root"/etc/sysusers.d/samverkan.conf "$root"/usr/local/lib/sysusers.d/samverkan.conf \
    "$root"/usr/local/bin/samverkan{d,ctl} "$root"/usr/local/lib/systemd/catalog/samverkan.catalog \
    "$root/etc/samverkan" "$root/var/lib/samverkan" \
    "$root/run/samverkan"
for db in passwd group shadow gshadow; do
    if [ -e "$root/etc/$db" ]; then
        sed -i '/^samverkan\(-admin\)\?:/d' "$root/etc/$db"
    fi
done

if ! log=$(make -s -C "$repo" install DESTDIR="$root" PREFIX="$prefix" BUILD_DIR="$bin_dir" 2>&1); then
    printf '%s\n' "$log"
    echo "FAIL: make install" >&2
    exit 1
fi
# Exactly what `systemctl enable samverkand.service samverkand.socket` does on a real system.
systemctl --root="$root" enable samverkand.service samverkand.socket 2>&1 | sed 's/^/enable: /'

install -D -m 0755 "$here/container/checks.sh" "$root/usr/lib/samverkan-e2e/checks.sh"
install -D -m 0644 "$here/container/e2e.service" "$root/etc/systemd/system/e2e.service"
systemctl --root="$root" enable e2e.service > /dev/null 2>&1

# --- Boot. The unified-hierarchy variable and the BPF capability give the container a pure
# cgroup2 tree in which IPAddressDeny= and friends are enforced (platform.md 7.7). The
# container's /results is OUT_DIR. `timeout` is the last resort: e2e.service itself gives up
# after 200 s and powers off.
echo "booting $machine ($(systemd-nspawn --version | head -n 1)), installed with PREFIX=$prefix"
boot_start=$SECONDS
status=0
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout --kill-after=15 240 \
    systemd-nspawn --quiet --directory="$root" --machine="$machine" --boot \
    --register=no --keep-unit --capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf \
    --bind="$out_dir":/results --console=pipe \
    -- systemd.unit=multi-user.target \
    < /dev/null > "$out_dir/nspawn.log" 2>&1 || status=$?
echo "container ran $((SECONDS - boot_start)) s, systemd-nspawn exit $status; total $((SECONDS - started)) s"
# The checks' notes (state, timings) from the container's journal.
sed -n 's/^.* checks\.sh\[[0-9]*\]: \(e2e: \)/\1/p' "$out_dir/boot.log" 2> /dev/null || true

# --- Verdict.
if [ ! -s "$out_dir/verdict" ]; then
    echo "FAIL: no verdict; last lines of the console:" >&2
    tail -n 40 "$out_dir/nspawn.log" >&2
    exit 1
fi
echo "--- verdict"
cat "$out_dir/verdict"
expected="sysusers active-at-boot socket-listening status reload watchdog stop-and-activation config-invalid journal catalog unit-warnings"
ok=1
for name in $expected; do
    grep -qx "PASS $name" "$out_dir/verdict" || ok=0
done
if grep -q '^FAIL' "$out_dir/verdict" || ! grep -qx DONE "$out_dir/verdict"; then
    ok=0
fi
if [ "$ok" -ne 1 ]; then
    echo "e2e: FAILED (details in $out_dir/nspawn.log and $out_dir/boot.log)" >&2
    exit 1
fi
echo "e2e: all checks passed"
