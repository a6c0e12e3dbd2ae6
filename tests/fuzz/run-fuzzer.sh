#!/bin/sh
# Runs one libFuzzer binary for a bounded time on a scratch copy of its seed
# corpus, so the seeds in the tree stay as committed.  Used by the meson
# tests in suite 'fuzz' and by tools/fuzz.sh.
#
#   run-fuzzer.sh FUZZER SEED_CORPUS_DIR ARTIFACT_DIR
#
# PAYRAM_FUZZ_SECONDS sets the run time (default 60).  PAYRAM_FUZZ_JOBS runs
# that many fuzzing processes in parallel (default 1).  A crash leaves its
# input as ARTIFACT_DIR/crash-* and makes the script fail.
set -eu

# Absolute paths: the fuzzer runs inside the scratch directory.
fuzzer=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
seeds=$2
artifacts=$(mkdir -p "$3" && cd "$3" && pwd)
seconds=${PAYRAM_FUZZ_SECONDS:-60}
jobs=${PAYRAM_FUZZ_JOBS:-1}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$artifacts"
if [ -d "$seeds" ]; then
        cp -R "$seeds"/. "$scratch/corpus/"
fi

set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$artifacts/" -print_final_stats=1
if [ "$jobs" -gt 1 ]; then
        set -- "$@" -jobs="$jobs" -workers="$jobs"
fi

cd "$scratch"
"$fuzzer" "$@" "$scratch/corpus"
