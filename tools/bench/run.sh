#!/usr/bin/env bash
# Benchmarks of payram-updater on this machine.
#
#   tools/bench/run.sh [--out DIR|FILE.json] [--quick] [bench.py options]
#   tools/bench/run.sh --compare A.json B.json
#
# Installs what is missing (Debian/Ubuntu, apt-get, needs root), builds a
# release binary (-O3, NDEBUG) in tools/bench/build/, compiles the parser
# microbenchmark against the same static library, then runs bench.py, which
# prints a table and writes the figures as JSON (default
# tools/bench/results/<UTC date>-<host>.json).  About 2 minutes; only
# 127.0.0.1 ports 23700-23749 are used (--port to move them).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$HERE/build}

if [[ ${1:-} == --compare ]]; then
        shift
        exec python3 "$HERE/bench.py" --compare "$@"
fi

args=()
while (($#)); do
        case $1 in
        --quick) args+=(--duration 3 --requests 20000 --samples 10 --parser-runs 3 --policy-delay 8) ;;
        -h|--help) sed -n '2,12p' "$0"; exec python3 "$HERE/bench.py" --help ;;
        *) args+=("$1") ;;
        esac
        shift
done

# ---- dependencies
need_pkgs=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2"); }
need_cmd wrk wrk
need_cmd meson meson
need_cmd ninja ninja-build
need_cmd cc gcc
need_cmd pkg-config pkg-config
need_cmd python3 python3
need_cmd git git
need_cmd systemd-socket-activate systemd
if command -v pkg-config >/dev/null 2>&1; then
        pkg-config --exists libsystemd || need_pkgs+=(libsystemd-dev)
        pkg-config --exists libcurl || need_pkgs+=(libcurl4-openssl-dev)
        pkg-config --exists json-c || need_pkgs+=(libjson-c-dev)
else
        need_pkgs+=(libsystemd-dev libcurl4-openssl-dev libjson-c-dev)
fi
if ((${#need_pkgs[@]})); then
        echo "bench: installing ${need_pkgs[*]}" >&2
        if [[ $(id -u) -ne 0 ]]; then
                echo "bench: missing ${need_pkgs[*]} and not root; install them first" >&2
                exit 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

# ---- build: release, assertions off, no test suite (needs cmocka)
opts=(--buildtype=release -Db_ndebug=true -Dtests=false -Dtest_hooks=false)
if [[ -f $BUILD/build.ninja ]]; then
        meson configure "$BUILD" "${opts[@]/#--buildtype=/-Dbuildtype=}" >/dev/null
else
        meson setup "$BUILD" "$ROOT" "${opts[@]}" >/dev/null
fi
ninja -C "$BUILD" src/payram-updater >&2

# The parser microbenchmark links the very library the daemon links
# (src/http/libhttp.a, same flags), plus util in case the parser grows a
# dependency on it.
ninja -C "$BUILD" src/http/libhttp.a src/util/libutil.a >&2
cc -std=gnu11 -O3 -D_GNU_SOURCE -DNDEBUG -Wall -Wextra -Wno-unused-parameter \
        -I"$ROOT" -I"$ROOT/src" -I"$BUILD" \
        "$HERE/parser-bench.c" "$BUILD/src/http/libhttp.a" "$BUILD/src/util/libutil.a" \
        $(pkg-config --libs libsystemd json-c) -o "$BUILD/parser-bench"

# ---- file descriptors: 1000 held connections, 512 wrk connections
hard=$(ulimit -Hn)
if [[ $hard != unlimited && $hard -lt 65536 ]]; then
        ulimit -Hn 65536 2>/dev/null || true
fi
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || ulimit -Sn 65536 2>/dev/null || true

build_info="meson release (-O3) b_ndebug=true; $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"
exec python3 "$HERE/bench.py" --binary "$BUILD/src/payram-updater" --parser-bench "$BUILD/parser-bench" \
        --build-info "$build_info" "${args[@]}"
