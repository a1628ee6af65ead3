#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the one-node dev cluster needs (see slurm/README.md).
#
# Idempotent: does nothing when every package is already installed; otherwise runs
# `apt-get update` once and installs the missing ones.  Needs root (or sudo).
set -euo pipefail

PACKAGES=(slurm-wlm slurmdbd munge mariadb-server)

missing=()
for pkg in "${PACKAGES[@]}"; do
    # dpkg-query prints "install ok installed" only for fully installed packages.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install_dev_cluster: all packages already installed (${PACKAGES[*]})"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install_dev_cluster: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

echo "install_dev_cluster: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Bounded: a wedged mirror must not hang CI forever.
timeout 600 "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
timeout 1200 "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q "${missing[@]}"
echo "install_dev_cluster: done"
