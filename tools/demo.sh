#!/usr/bin/env bash
# The main job on the bundled example data, from a fresh Debian 12 machine:
# installs the build dependencies, builds, publishes examples/ over HTTP on
# 127.0.0.1 (answering slowly, as a distant server would), starts the
# service socket-activated with systemd-socket-activate and walks through
# the dry-run scenarios of the SPEC with the command-line client and curl.
#
# Usage: tools/demo.sh   (run from the repository; it installs the build
# dependencies with apt-get, builds in ./build-demo and keeps its service state
# in a temporary directory that it removes at the end)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/setup-deps.sh

build=${BUILD_DIR:-$top/build-demo}
[ -d "$build" ] || meson setup "$build" >/dev/null
ninja -C "$build" src/payram-updater >/dev/null
bin=$build/src/payram-updater

work=$(mktemp -d /tmp/payram-demo.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$work"
}
trap cleanup EXIT

# The policy and manifest, published the way a host fetches them.
python3 tools/serve-files.py examples --delay 1 --port-file "$work/files.port" >/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/files.port" ] && break; sleep 0.1; done
files="http://127.0.0.1:$(cat "$work/files.port")"

port=${DEMO_PORT:-23590}
# examples/updater.env with the address the example files are served at,
# and state kept in the temporary directory.
sed "s|@EXAMPLES_URL@|$files|" examples/updater.env > "$work/updater.env"
printf 'STATE_DIR=%s\nLOG_DIR=%s\n' "$work/state" "$work/log" >> "$work/updater.env"

systemd-socket-activate -l "127.0.0.1:$port" "$bin" --config "$work/updater.env" 2>"$work/service.log" &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export PAYRAM_UPDATER_URL="http://127.0.0.1:$port"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
post() { curl -sS -o "$work/answer" -w '%{http_code}' -X POST "$PAYRAM_UPDATER_URL/upgrade" \
        -H 'Content-Type: application/json' "$@" -d @-; echo " $(cat "$work/answer")"; }

say "Service socket-activated on 127.0.0.1:$port (started by the first connection)"
"$bin" health

say "DASHBOARD latest, current 2.0.5: expect 201 READY 3.3.0"
echo '{"mode":"DASHBOARD","requested_target":"latest","current_version":"2.0.5"}' | post

say "DASHBOARD latest, current 1.9.1: expect 422 MANUAL_UPGRADE_REQUIRED (breakpoint 2.0.0)"
echo '{"mode":"DASHBOARD","requested_target":"latest","current_version":"1.9.1"}' | post

say "MANUAL latest, current 1.9.1: expect 201 READY (the operator takes responsibility)"
"$bin" upgrade --mode MANUAL --target latest --current-version 1.9.1

say "A POST while a job runs: expect 202 for the first (respond-async), 409 for the second"
echo '{"mode":"MANUAL","requested_target":"3.2.0"}' | post -H 'Prefer: respond-async'
echo '{"mode":"MANUAL","requested_target":"3.3.0"}' | post

say "Status while it runs, then when it is done"
"$bin" status
for _ in $(seq 100); do
        curl -s "$PAYRAM_UPDATER_URL/upgrade/status" | grep -q '"state":"READY"' && break
        sleep 0.1
done
"$bin" status

say "Logs of the last job"
"$bin" logs

say "Job records in STATE_DIR and per-job logs in LOG_DIR"
ls "$work/state/jobs" "$work/log"
