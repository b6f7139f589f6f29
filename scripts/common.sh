# Shared by scripts/run and scripts/test: install Debian packages, as root or with sudo.
# shellcheck shell=bash

# The packages samverkand needs to build and run (used by the scripts that source this file).
# shellcheck disable=SC2034
RUN_PACKAGES=(libsystemd-dev libsqlite3-dev pkg-config tzdata)
# What the test suite needs on top: a real journald, systemd-analyze and systemd-nspawn
# (systemd, systemd-container), socket activation and clients (systemd, curl, socat), and
# the Python oracles (python3-dateutil).
TEST_PACKAGES=(systemd systemd-container curl socat procps python3 python3-dateutil python3-icalendar python3-prometheus-client python3-aiosmtpd msmtp openssl)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs what is missing; runs apt-get update first when anything is.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
