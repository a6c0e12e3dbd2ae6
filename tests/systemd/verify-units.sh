#!/bin/bash
# SPDX-License-Identifier: LicenseRef-Proprietary
#
# Static checks of the units as configured in BUILD_DIR: `systemd-analyze
# verify` (with the documented Docker bridge drop-in applied) and the
# `systemd-analyze security` exposure, which must stay at or below
# MAX_EXPOSURE (x10: 20 = 2.0).  ExecStart= is pointed at the built binary,
# since verify needs it to exist.  Exit 77 without systemd-analyze.
set -u
MAX_EXPOSURE=${MAX_EXPOSURE:-20}
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
build=$(realpath "${1:?usage: $0 BUILD_DIR}")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }

w=$(mktemp -d /tmp/payram-verify.XXXXXX)
trap 'rm -rf "$w"' EXIT
sed -e "s#^ExecStart=.*#ExecStart=$build/src/payram-updater#" \
    -e "s#^ExecReload=[^ ]*payram-updater #ExecReload=$build/src/payram-updater #" \
    "$build/units/payram-updater.service" > "$w/payram-updater.service"
cp "$srcdir/units/payram-updater.socket" "$w/"
mkdir "$w/payram-updater.socket.d"
cp "$srcdir/units/payram-updater.socket.d-docker-bridge.conf.example" "$w/payram-updater.socket.d/docker-bridge.conf"

rc=0
out=$(cd "$w" && SYSTEMD_LOG_LEVEL=info systemd-analyze verify --man=no ./payram-updater.socket ./payram-updater.service 2>&1) || rc=1
[ -z "$out" ] || { echo "$out"; rc=1; }
[ $rc = 0 ] && echo "ok - systemd-analyze verify: clean" || echo "not ok - systemd-analyze verify"

if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
        sec=$(cd "$w" && systemd-analyze security --offline=true --threshold="$MAX_EXPOSURE" ./payram-updater.service 2>&1)
        src=$?
        echo "$sec" | grep "✗"
        level=$(echo "$sec" | sed -n 's/.*Overall exposure level for payram-updater.service: \([0-9.]*\).*/\1/p')
        if [ $src = 0 ]; then echo "ok - systemd-analyze security: exposure $level (threshold $MAX_EXPOSURE/10)"
        else echo "not ok - systemd-analyze security: exposure $level above $MAX_EXPOSURE/10"; rc=1; fi
fi
exit $rc
