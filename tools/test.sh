#!/usr/bin/env bash
# Installs the dependencies, builds and runs every test of payram-updater:
#   1. a normal build: unit, integration and real-systemd (nspawn) tests,
#      plus the source checks;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build: unit and
#      integration tests;
#   3. a clang libFuzzer build: each fuzzer for FUZZ_SECONDS (default 60).
# Ends with one line "N passed, M failed".  Exit status 0 only when nothing
# failed.  Skipped tests (e.g. the systemd suite when not root) are counted
# apart.
#
# Usage: tools/test.sh            (as root on Debian 12 for the full run)
#        SKIP_FUZZ=1 SKIP_ASAN=1 tools/test.sh   for a quicker pass
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/setup-deps.sh --tests || exit 1

out=${TEST_BUILD_ROOT:-$top/build-tests}
mkdir -p "$out"
failed_steps=0

run_suite() { # NAME BUILD_DIR MESON_SETUP_ARGS... -- MESON_TEST_ARGS...
        local name=$1 dir=$2; shift 2
        local setup=() testargs=()
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
        [ $# -gt 0 ] && shift
        testargs=("$@")

        echo "=== $name: build ($dir)"
        if [ ! -f "$dir/build.ninja" ]; then
                meson setup "$dir" "${setup[@]}" >"$dir.setup.log" 2>&1 ||
                        { cat "$dir.setup.log"; failed_steps=$((failed_steps + 1)); return; }
        fi
        if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
                tail -50 "$dir.build.log"
                failed_steps=$((failed_steps + 1))
                return
        fi
        echo "=== $name: test"
        meson test -C "$dir" --print-errorlogs --no-rebuild "${testargs[@]}"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export PAYRAM_FUZZ_SECONDS=${FUZZ_SECONDS:-${PAYRAM_FUZZ_SECONDS:-60}}

run_suite "default" "$out/default" -Dtest_hooks=true -Dwerror=true

if [ "${SKIP_ASAN:-0}" != 1 ]; then
        run_suite "asan+ubsan" "$out/asan" -Dtest_hooks=true -Db_sanitize=address,undefined \
                -Dc_args=-fno-sanitize-recover=undefined -Db_lundef=false -- --suite unit --suite integration
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
        CC=clang run_suite "fuzz" "$out/fuzz" -Dfuzzers=true -Db_sanitize=address,undefined \
                -Db_lundef=false -- --suite fuzz
fi

# One closing line over every suite that ran.
python3 - "$out" "$failed_steps" <<'PY'
import json, pathlib, sys
root, steps = pathlib.Path(sys.argv[1]), int(sys.argv[2])
passed = failed = skipped = 0
for log in sorted(root.glob("*/meson-logs/testlog.json")):
    for line in log.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        res = r.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
        else:
            failed += 1
failed += steps
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
