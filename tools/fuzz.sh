#!/bin/sh
# Builds the fuzzing configuration (clang, libFuzzer, ASan + UBSan) and runs
# one or all fuzzers for a number of hours, for soak runs before a release or
# after touching a parser.
#
#   tools/fuzz.sh HOURS [FUZZER]
#
#   HOURS   run time per fuzzer; fractions work ("0.5")
#   FUZZER  http-parser, http-chunked, policy or manifest; all of them, one
#           after another, when left out
#
# Environment:
#   BUILD_DIR         build directory (default: build-fuzz in the source tree)
#   PAYRAM_FUZZ_JOBS  parallel fuzzing processes per fuzzer (default 1)
#
# Example: a night on the HTTP parser with 4 processes:
#   PAYRAM_FUZZ_JOBS=4 tools/fuzz.sh 8 http-parser
#
# Seeds come from tests/fuzz/corpus/<name>/ and are copied, never modified;
# crashes are kept as $BUILD_DIR/tests/fuzz/artifacts-<name>/crash-*.  Replay
# one with `$BUILD_DIR/tests/fuzz/fuzz-<name> crash-...`, then add the input
# as a regression case to tests/unit/http-cases.h or the part's unit test.
set -eu

usage() {
        echo "usage: $0 HOURS [http-parser|http-chunked|policy|manifest]" >&2
        exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
hours=$1
only=${2:-}

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-fuzz}
all="http-parser http-chunked policy manifest"

seconds=$(awk -v h="$hours" \
        'BEGIN { if (h !~ /^[0-9]+(\.[0-9]+)?$/ || h <= 0) exit 1; printf "%d", h * 3600 }') || usage

if [ -n "$only" ]; then
        case " $all " in
        *" $only "*) all=$only ;;
        *) usage ;;
        esac
fi

if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" "$top" -Dfuzzers=true -Db_sanitize=address,undefined \
                -Db_lundef=false -Dbuildtype=debugoptimized
fi
ninja -C "$build" $(for f in $all; do printf 'tests/fuzz/fuzz-%s ' "$f"; done)

export PAYRAM_FUZZ_SECONDS="$seconds"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
status=0
for f in $all; do
        echo "== fuzz-$f for $seconds s"
        "$top/tests/fuzz/run-fuzzer.sh" "$build/tests/fuzz/fuzz-$f" "$top/tests/fuzz/corpus/$f" \
                "$build/tests/fuzz/artifacts-$f" || status=1
done
exit $status
