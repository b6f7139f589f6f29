#!/bin/bash
# checks.sh: the end-to-end checks that e2e.service runs inside the container booted by
# nspawn-e2e.sh, as root, with systemd 252 as PID 1.
#
# Writes one line per check to /results/verdict, `PASS name` or `FAIL name: detail`, then
# `DONE`; copies the unit's journal to /results/journal.json. Exits 0 only if all passed.
# Details and timings go to stdout, which is the container console (nspawn.log on the host).

# No `set -e`: every check runs and reports, whatever the earlier ones did.
set -uo pipefail

readonly results=/results
readonly verdict=$results/verdict
readonly sock=/run/samverkan/control.sock
readonly unit=samverkand.service
readonly started_id=48425e9ac6fa4580a0e28df5f0e74b99
failures=0
: > "$verdict"

pass() { echo "PASS $1" | tee -a "$verdict"; }
# One line per check: a multi-line detail is folded.
fail() {
    echo "FAIL $1: $(printf '%s' "$2" | tr '\n' ' ')" | tee -a "$verdict"
    failures=$((failures + 1))
}
note() { echo "e2e: $*"; }

prop() { systemctl show -p "$2" --value "$1"; }
# Blocking systemctl calls get a bound, so one hang still ends in a verdict.
sctl() { timeout 60 systemctl "$@"; }
# The polling below names the socket through SAMVERKAN_SOCKET, so that the systemd mechanics
# are judged apart from the command line; check d runs the documented `--socket` form.
ctl_status() { SAMVERKAN_SOCKET=$sock timeout 15 samverkanctl status --json; }
# The config generation from `status --json` (the first "generation" key, which is
# config.generation), or nothing. (No `grep -q` or `head` in pipelines: under pipefail, the
# writer's SIGPIPE would turn a match into a failure.)
generation() { ctl_status 2> /dev/null | grep -o '"generation" *: *[0-9]*' | sed -n '1s/.*: *//p'; }

# wait_until SECONDS CMD...: polls CMD every 0.2 s until it succeeds or SECONDS have passed.
# `systemctl reload` and the watchdog act asynchronously, so there is nothing to wait on but
# the observable state.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# --- a. sysusers: nspawn-e2e.sh removed any samverkan entry from the image's /etc/passwd and
# /etc/group, so the user exists only if systemd-sysusers created it at this boot.
check_sysusers() {
    local entry home shell
    if ! entry=$(getent passwd samverkan); then
        fail sysusers "no user samverkan (systemd-sysusers.service: $(prop systemd-sysusers.service Result))"
        return
    fi
    IFS=: read -r _ _ _ _ _ home shell <<< "$entry"
    if [ "$home" != /var/lib/samverkan ] || [ "$shell" != /usr/sbin/nologin ]; then
        fail sysusers "unexpected passwd entry: $entry"
    elif ! getent group samverkan-admin > /dev/null; then
        fail sysusers "no group samverkan-admin"
    else
        pass sysusers
    fi
}

# --- b. Started at boot by multi-user.target, before any client connected (this is the
# first thing that touches it), and enabled the way `systemctl enable` leaves it.
check_active_at_boot() {
    local state enabled wanted_by
    state=$(prop "$unit" ActiveState)/$(prop "$unit" SubState)
    enabled=$(systemctl is-enabled "$unit" samverkand.socket | paste -sd ' ')
    wanted_by=$(prop "$unit" WantedBy)
    note "at boot: $state, enabled: $enabled, WantedBy: $wanted_by, status: $(prop "$unit" StatusText)"
    if [ "$state" != active/running ]; then
        fail active-at-boot "samverkand.service is $state after boot"
    elif [ "$enabled" != "enabled enabled" ]; then
        fail active-at-boot "is-enabled service/socket: $enabled"
    elif [[ " $wanted_by " != *" multi-user.target "* ]]; then
        fail active-at-boot "not wanted by multi-user.target: '$wanted_by'"
    else
        pass active-at-boot
    fi
}

# --- c. The socket unit listens on the path, with the owner and mode of the unit file.
check_socket() {
    local state perms
    state=$(prop samverkand.socket ActiveState)/$(prop samverkand.socket SubState)
    perms=$(stat -c '%a %U %G' "$sock" 2> /dev/null)
    note "socket: $state, $(prop samverkand.socket Listen), $perms"
    # SubState is "running" while the service holds the fd, "listening" otherwise.
    if [ "${state%/*}" != active ]; then
        fail socket-listening "samverkand.socket is $state"
    elif [ ! -S "$sock" ]; then
        fail socket-listening "$sock is not a socket"
    elif [ "$perms" != "660 samverkan samverkan" ]; then
        fail socket-listening "$sock has mode/owner '$perms', want '660 samverkan samverkan'"
    else
        pass socket-listening
    fi
}

# --- d. The client answers through the socket, called as design.md documents it.
check_status() {
    local out rc=0
    out=$(timeout 15 samverkanctl --socket "$sock" status --json 2>&1) || rc=$?
    printf '%s\n' "$out" > "$results/status.json"
    if [ "$rc" -ne 0 ]; then
        fail status "samverkanctl status --json exited $rc: $(head -c 300 <<< "$out")"
    elif ! grep -q '"generation"' <<< "$out"; then
        fail status "no \"generation\" in: $(head -c 300 <<< "$out")"
    else
        pass status
    fi
}

# --- e. `systemctl reload` (SIGHUP) bumps the config generation, without a restart.
unit_active() { [ "$(prop "$unit" ActiveState)" = active ]; }

generation_above() {
    local now
    now=$(generation) && [ -n "$now" ] && [ "$now" -gt "$1" ]
}
check_reload() {
    local before pid_before start=$SECONDS
    before=$(generation)
    pid_before=$(prop "$unit" MainPID)
    if [ -z "$before" ]; then
        fail reload "no generation before the reload"
    elif ! sctl reload "$unit"; then
        fail reload "systemctl reload failed"
    elif ! wait_until 20 generation_above "$before"; then
        fail reload "generation still '$(generation)' (was $before) after 20 s"
    elif [ "$(prop "$unit" MainPID)" != "$pid_before" ]; then
        fail reload "the main pid changed: the service restarted instead of reloading"
    else
        note "reload: generation $before -> $(generation) in $((SECONDS - start)) s"
        pass reload
    fi
}

# --- f. A wedged scheduler withholds WATCHDOG=1; systemd kills the daemon (SIGABRT) and
# Restart=on-failure brings it back. A runtime drop-in (test only) enables the fault
# injection route and shortens the watchdog.
restarted() {
    [ "$(prop "$unit" NRestarts)" -gt "$1" ] &&
        [ "$(prop "$unit" ActiveState)" = active ] &&
        [ "$(prop "$unit" MainPID)" != "$2" ] &&
        ctl_status > /dev/null 2>&1
}
check_watchdog() {
    local dropin=/run/systemd/system/$unit.d
    local restarts pid out start journal
    mkdir -p "$dropin"
    printf '[Service]\nEnvironment=SAMVERKAN_FAULT_INJECTION=1\nWatchdogSec=4s\n' > "$dropin/90-e2e-watchdog.conf"
    systemctl daemon-reload
    if ! sctl restart "$unit"; then
        fail watchdog "restart with the watchdog drop-in failed: $(prop "$unit" Result)"
        return
    fi
    restarts=$(prop "$unit" NRestarts)
    pid=$(prop "$unit" MainPID)
    start=$SECONDS
    if ! out=$(curl -sS --fail --max-time 10 --unix-socket "$sock" -X POST \
        http://localhost/v1/_test/wedge-scheduler 2>&1); then
        fail watchdog "POST /v1/_test/wedge-scheduler: $out"
    elif ! wait_until 30 restarted "$restarts" "$pid"; then
        fail watchdog "no watchdog restart within 30 s (NRestarts $(prop "$unit" NRestarts), was $restarts; $(prop "$unit" ActiveState))"
    elif ! journal=$(journalctl -b -u "$unit" -o cat --no-pager) || [[ $journal != *"Watchdog timeout"* ]]; then
        fail watchdog "restarted, but the journal has no 'Watchdog timeout'"
    elif [[ $journal == *"State 'stop-watchdog' timed out"* ]]; then
        # SIGABRT did not end the process; systemd had to wait for TimeoutAbortSec= and SIGKILL.
        fail watchdog "restarted only after SIGKILL: the process survived the watchdog's SIGABRT"
    else
        note "watchdog: wedged -> active again in $((SECONDS - start)) s, NRestarts $restarts -> $(prop "$unit" NRestarts)"
        pass watchdog
    fi
    # Back to the shipped unit for what follows.
    rm -rf "$dropin"
    systemctl daemon-reload
}

# --- g. A stop is clean (exit 0 on SIGTERM), the socket file survives it
# (RuntimeDirectoryPreserve=yes), and the next client starts the daemon again.
check_stop_and_activation() {
    local result code status rc=0 out
    if ! sctl stop "$unit"; then
        fail stop-and-activation "systemctl stop failed"
        return
    fi
    result=$(prop "$unit" Result)
    code=$(prop "$unit" ExecMainCode)
    status=$(prop "$unit" ExecMainStatus)
    note "stop: Result=$result ExecMainCode=$code ExecMainStatus=$status"
    # ExecMainCode 1 is CLD_EXITED: a death by SIGTERM also gives Result=success, but code 2.
    if [ "$result" != success ] || [ "$code" != 1 ] || [ "$status" != 0 ]; then
        fail stop-and-activation "unclean stop: Result=$result ExecMainCode=$code ExecMainStatus=$status"
        return
    fi
    if [ ! -S "$sock" ]; then
        fail stop-and-activation "$sock is gone after the stop"
        return
    fi
    out=$(ctl_status 2>&1) || rc=$?
    # The socket is served from the moment the daemon takes it, a moment before READY=1 makes
    # the unit active: the answer comes first, "active" follows.
    if [ "$rc" -ne 0 ] || ! grep -q '"generation"' <<< "$out"; then
        fail stop-and-activation "status after the stop exited $rc: $(head -c 300 <<< "$out")"
    elif ! wait_until 10 unit_active; then
        fail stop-and-activation "answered, but samverkand.service is $(prop "$unit" ActiveState)"
    else
        pass stop-and-activation
    fi
}

# --- A config that cannot be loaded: the daemon exits 78 and RestartPreventExitStatus=78 keeps
# systemd from restarting it in a loop (a restart would leave the unit "activating
# (auto-restart)", not "failed"); the configInvalid event is in the journal. Then the good
# config comes back and the service starts again.
check_config_invalid() {
    local config=/etc/samverkan/samverkand.yaml saved=/run/e2e-samverkand.yaml
    local restarts state status invalid
    cp -p "$config" "$saved"
    restarts=$(prop "$unit" NRestarts)
    printf 'timezone: Mars/Olympus_Mons\n' > "$config"
    sctl restart "$unit" 2> /dev/null
    state=$(prop "$unit" ActiveState)/$(prop "$unit" SubState)
    status=$(prop "$unit" ExecMainStatus)
    invalid=$(journalctl -b -o json -u "$unit" --no-pager MESSAGE_ID=f8548bff66d043b09168319fd440bd76 | wc -l)
    note "invalid config: $state, ExecMainStatus=$status, NRestarts $(prop "$unit" NRestarts), $invalid configInvalid events"
    cp -p "$saved" "$config"
    systemctl reset-failed "$unit"
    if [ "$state" != failed/failed ] || [ "$status" != 78 ]; then
        fail config-invalid "want failed/failed with status 78, got $state with status $status"
    elif [ "$(prop "$unit" NRestarts)" != "$restarts" ]; then
        fail config-invalid "systemd restarted the service after exit 78"
    elif [ "$invalid" -eq 0 ]; then
        fail config-invalid "no configInvalid (f8548bff66d043b09168319fd440bd76) entry in the journal"
    elif ! sctl start "$unit" || ! ctl_status > /dev/null 2>&1; then
        fail config-invalid "the service did not come back with the good config"
    else
        pass config-invalid
    fi
}

# --- h. Structured entries in the journal: the `started` event with MESSAGE_ID, PRIORITY
# and SAMVERKAN_GENERATION. journal.json is what the Swift test reads.
check_journal() {
    local json=$results/journal.json started complete
    journalctl --sync
    journalctl -b -o json -u "$unit" --no-pager > "$json"
    # journalctl -o json prints one entry per line.
    started=$(grep -E "\"MESSAGE_ID\" *: *\"$started_id\"" "$json")
    complete=$(grep -E '"PRIORITY" *: *"[0-7]"' <<< "$started" | grep -E '"SAMVERKAN_GENERATION" *: *"[0-9]')
    note "journal: $(wc -l < "$json") entries, $(grep -c . <<< "$started") started events"
    if [ -z "$started" ]; then
        fail journal "no entry with MESSAGE_ID=$started_id"
    elif [ -z "$complete" ]; then
        fail journal "the started entries lack PRIORITY or SAMVERKAN_GENERATION: $(head -c 400 <<< "$started")"
    elif ! grep -q '"_SYSTEMD_UNIT" *: *"samverkand.service"' <<< "$complete"; then
        fail journal "the started entries are not attributed to samverkand.service"
    else
        pass journal
    fi
}

# --- The catalog installed by make install compiles, has all twelve ids, and `journalctl -x`
# explains a started event with its fields filled in.
check_catalog() {
    local count want explained
    if ! journalctl --update-catalog; then
        fail catalog "journalctl --update-catalog failed"
        return
    fi
    count=$(journalctl --list-catalog --no-pager | grep -c ' samverkan: ')
    # One English entry per MESSAGE_ID (the Swedish ones are translations of the same ids).
    want=$(cat /usr/lib/systemd/catalog/samverkan.catalog /usr/local/lib/systemd/catalog/samverkan.catalog 2> /dev/null | grep -cE '^-- [0-9a-f]{32}$')
    explained=$(journalctl -b -x --no-pager -n 1 MESSAGE_ID="$started_id")
    if [ "$count" -ne "$want" ]; then
        fail catalog "$count samverkan entries in the catalog, want $want"
    elif ! grep -q 'Subject: samverkand started with config generation [0-9]' <<< "$explained"; then
        fail catalog "journalctl -x shows no filled-in explanation: $(head -c 300 <<< "$explained")"
    else
        pass catalog
    fi
}

# --- systemd logged no complaint about our unit files while loading them (unknown keys, bad
# values: the same class of problem `systemd-analyze verify` catches offline).
check_unit_warnings() {
    local warnings
    warnings=$(journalctl -b -o cat --no-pager | grep -E '/samverkand\.(service|socket)(\.d/[^:]*)?:[0-9]+:')
    if [ -n "$warnings" ]; then
        fail unit-warnings "$(head -n 3 <<< "$warnings" | paste -sd '|')"
    else
        pass unit-warnings
    fi
}

note "checks start $(date -Is), $(systemctl --version | head -n 1)"
check_sysusers
check_active_at_boot
check_socket
check_status
check_reload
check_watchdog
check_stop_and_activation
check_config_invalid
check_journal
check_catalog
check_unit_warnings
# The online view of the sandbox, for the record (the offline score is the gate).
systemd-analyze security "$unit" --no-pager 2>&1 | grep 'Overall exposure' | sed 's/^/e2e: online /'
echo DONE >> "$verdict"
journalctl -b -o short-monotonic --no-pager > "$results/boot.log" 2>&1
note "checks done, $failures failed"
[ "$failures" -eq 0 ]
