#!/bin/bash
# SPDX-License-Identifier: LicenseRef-Proprietary
#
# Real-systemd tests of payram-updater: boots systemd as PID 1 of a
# systemd-nspawn container holding the project's units, and runs
# check-in-container.sh there as a oneshot unit.
#
#   run-systemd-tests.sh BUILD_DIR [RESULTS_DIR]
#
# BUILD_DIR is a configured and built meson build directory (built with
# -Dtest_hooks=true for the watchdog check; without it that check is
# skipped).  Nothing is built here.  RESULTS_DIR (default
# BUILD_DIR/meson-logs/systemd-tests) receives check.log, journal.json,
# nspawn.log and the container's persistent journal (journal/), which the
# host can query afterwards:  journalctl -D RESULTS_DIR/journal -u payram-updater
#
# Exit status: the check's (0 = all passed), 77 = skipped (not root, no
# systemd-nspawn, the container cannot boot here), 124 = the container hung.
#
# The container's root is an overlayfs: this machine's / below, a tmpfs
# above, mounted inside a private mount namespace so nothing is mounted in
# the machine's own one.  Its /etc/systemd/system is opaque: it holds only
# the project's units (unchanged, as installed, with the built binary bound
# at their ExecStart= path), the test drop-ins and the runner unit.
set -u

SKIP=77
TIMEOUT=${SYSTEMD_TEST_TIMEOUT:-240}
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [RESULTS_DIR]" >&2; exit 2; }
build=$(realpath "$1")
out=${2:-$build/meson-logs/systemd-tests}

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (systemd-nspawn, overlayfs, cgroups)"
        exit $SKIP
fi
if ! command -v systemd-nspawn >/dev/null; then
        echo "systemd-nspawn missing: installing systemd-container"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 \
                systemd-container >/dev/null 2>&1
        command -v systemd-nspawn >/dev/null || { echo "SKIP: systemd-nspawn unavailable"; exit $SKIP; }
fi
for t in unshare timeout /lib/systemd/systemd /usr/bin/python3 curl; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit $SKIP; }
done

bin=$build/src/payram-updater
service=$build/units/payram-updater.service
for f in "$bin" "$service" "$srcdir/units/payram-updater.socket" "$srcdir/units/payram-updater.catalog"; do
        [ -e "$f" ] || { echo "missing $f: build first (ninja -C $build)" >&2; exit 2; }
done
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$service" | head -1)
case $exec_path in /*) ;; *) echo "cannot read ExecStart= of $service" >&2; exit 2;; esac
test_hooks=0
grep -q '^#define PAYRAM_TEST_HOOKS 1' "$build/build-config.h" 2>/dev/null && test_hooks=1

mkdir -p "$out" && out=$(realpath "$out") && rm -rf "${out:?}"/* && mkdir -p "$out/journal"
w=$(mktemp -d /tmp/payram-systemd-test.XXXXXX)
trap 'rm -rf "$w"' EXIT
name=payram-it-$(basename "$w" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')

# ---- the container's upper layer, staged here and copied onto the tmpfs
u=$w/upper
sys=$u/etc/systemd/system
mkdir -p "$sys/sockets.target.wants" "$sys/multi-user.target.wants" \
         "$sys/payram-updater.service.d" "$sys/payram-updater.socket.d" \
         "$u/etc/payram" "$u/usr/lib/systemd/catalog"
cp "$service" "$srcdir/units/payram-updater.socket" "$sys/"
ln -s ../payram-updater.socket "$sys/sockets.target.wants/payram-updater.socket"
# The documented Docker bridge drop-in, as shipped: in the container no
# interface has 172.17.0.1 at boot, exactly as before dockerd starts.
cp "$srcdir/units/payram-updater.socket.d-docker-bridge.conf.example" \
   "$sys/payram-updater.socket.d/docker-bridge.conf"
cat > "$sys/payram-updater.service.d/test.conf" <<'EOF'
# Test only: a watchdog and a restart the test can wait for, no core files.
[Service]
WatchdogSec=2s
RestartSec=1
LimitCORE=0
EOF
cp "$srcdir/units/payram-updater.catalog" "$u/usr/lib/systemd/catalog/"
cp "$srcdir/examples/upgrade-policy.json" "$srcdir/examples/runtime-manifest.json" \
   "$srcdir/tests/data/payram-scripts/upgrade-policy.breakpoint-2.0.0-bf2fca9.json" "$u/etc/payram/"
cat > "$u/etc/payram/updater.env" <<'EOF'
POLICY_URL=file:///etc/payram/upgrade-policy.json
RUNTIME_MANIFEST_URL=file:///etc/payram/runtime-manifest.json
FETCH_TIMEOUT_SECONDS=10
EOF
printf 'TEST_HOOKS=%s\nEXEC_PATH=%s\n' "$test_hooks" "$exec_path" > "$u/etc/payram/test-params"

cat > "$sys/payram-test-runner.service" <<'EOF'
[Unit]
Description=payram-updater real-systemd checks
After=multi-user.target

[Service]
Type=oneshot
StandardOutput=file:/results/check.log
StandardError=inherit
ExecStart=/bin/bash /payram-test/check-in-container.sh
# Hand the results out, then stop the container with the check's status.
ExecStopPost=/bin/bash -c 'journalctl --sync; journalctl -o json --no-pager > /results/journal.json; \
  systemctl list-units --all --no-pager > /results/units.txt 2>&1; \
  if [ "$SERVICE_RESULT" = success ]; then systemctl exit 0; \
  elif [ "$EXIT_CODE" = exited ]; then systemctl exit "$EXIT_STATUS"; else systemctl exit 1; fi'
EOF
ln -s ../payram-test-runner.service "$sys/multi-user.target.wants/payram-test-runner.service"

# ---- boot, in a private mount namespace and a cgroup of our own
cat > "$w/boot" <<'EOF'
#!/bin/bash
set -u
# Refuse to mount anything unless this is a namespace of our own.
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/$PPID/ns/mnt)" ] || { echo "boot: not in a private mount namespace" >&2; exit 2; }
mount -t tmpfs -o mode=755 tmpfs /run/systemd || exit 3
# nspawn --keep-unit puts the container under its own cgroup: give it a fresh
# child of ours in the hierarchies systemd tracks, removed afterwards.
created=() origin=()
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then hier=("/sys/fs/cgroup 0::")
else hier=("/sys/fs/cgroup/unified 0::" "/sys/fs/cgroup/systemd [0-9]*:name=systemd:"); fi
for h in "${hier[@]}"; do
        read -r root prefix <<< "$h"
        [ -d "$root" ] || continue
        cur=$(sed -n "s/^$prefix//p" /proc/self/cgroup)
        d=$root${cur%/}/$NAME
        mkdir -p "$d" && echo $$ > "$d/cgroup.procs" && created+=("$d") && origin+=("$root${cur%/}")
done
cleanup() {
        for o in "${origin[@]}"; do echo $$ > "$o/cgroup.procs"; done
        for d in "${created[@]}"; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
}
mkdir -p "$W/t" "$W/root"
mount -t tmpfs -o size=512m tmpfs "$W/t" || { cleanup; exit 3; }
mkdir -p "$W/t/work"
cp -a "$W/upper" "$W/t/upper"
/usr/bin/python3 -c 'import os,sys; os.setxattr(sys.argv[1], "trusted.overlay.opaque", b"y")' \
        "$W/t/upper/etc/systemd/system" || { cleanup; exit 3; }
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/t/upper,workdir=$W/t/work" "$W/root" || { cleanup; exit 3; }
timeout -k 10 "$T" systemd-nspawn -D "$W/root" -M "$NAME" -b \
        --register=no --keep-unit --private-network --console=pipe $BPF_ARGS \
        --bind-ro="$BIN:$EXEC_PATH" --bind-ro="$HERE:/payram-test" \
        --bind="$OUT:/results" --bind="$OUT/journal:/var/log/journal" \
        < /dev/null > "$OUT/nspawn.log" 2>&1
rc=$?
cleanup
exit $rc
EOF
chmod 755 "$w/boot"

export W=$w NAME=$name T=$TIMEOUT BIN=$bin EXEC_PATH=$exec_path HERE=$here OUT=$out
# systemd's IPAddressAllow=/IPAddressDeny= are cgroup-v2 BPF programs: boot
# the container on the unified hierarchy (also when this machine is hybrid)
# and let its systemd use bpf().  If that cannot boot here, fall back to
# nspawn's defaults; the check then skips the IP filter assertion.
t0=$(date +%s%N)
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 BPF_ARGS="--system-call-filter=bpf --capability=CAP_BPF" \
        unshare -m --propagation private "$w/boot"
rc=$?
if [ ! -s "$out/check.log" ] && [ $rc != 124 ]; then
        echo "container did not boot on the unified cgroup hierarchy (rc $rc), retrying with nspawn's defaults"
        mv "$out/nspawn.log" "$out/nspawn-unified.log"
        BPF_ARGS= unshare -m --propagation private "$w/boot"
        rc=$?
fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))

cat "$out/check.log" 2>/dev/null
if [ ! -s "$out/check.log" ] && [ $rc != 124 ]; then
        # The checks never ran: the container could not boot on this machine.
        echo "--- nspawn.log"; tail -20 "$out/nspawn.log" 2>/dev/null
        echo "SKIP: the container did not boot (rc $rc) in $ms ms"
        exit $SKIP
fi
echo "systemd tests: rc=$rc in $ms ms; results in $out"
exit $rc
