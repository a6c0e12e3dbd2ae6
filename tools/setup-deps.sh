#!/usr/bin/env bash
# Installs what building and testing payram-updater needs on Debian 12.
# Usage: tools/setup-deps.sh [--tests]   (as root, or with sudo available)
set -euo pipefail

packages=(meson ninja-build pkg-config gcc libsystemd-dev libcurl4-openssl-dev libjson-c-dev
          systemd curl python3 man-db groff-base ca-certificates)
if [ "${1:-}" = "--tests" ]; then
        packages+=(libcmocka-dev clang libclang-rt-14-dev systemd-container)
fi

missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
