#!/usr/bin/env bash
# Source checks run as a test: the functions this project does not call
# (unbounded or unchecked string and number handling), lines wider than
# 109 columns, and files that do not open with a comment saying what they
# are for.
# Usage: tools/check-source.sh [SOURCE_ROOT]
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 1
status=0

banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|gets|atoi|atol|atoll|strtok|tmpnam|mktemp)[[:space:]]*\('
if grep -rnE --include='*.[ch]' "$banned" src tests tools; then
        echo "error: banned function call(s) above" >&2
        status=1
fi

if grep -rnE --include='*.[ch]' '^.{110,}' src; then
        echo "error: lines above are wider than 109 columns" >&2
        status=1
fi

for f in $(find src -name '*.[ch]'); do
        first=$(grep -m1 -vE '^[[:space:]]*$' "$f")
        case "$first" in
        "/*"*) ;;
        *) echo "error: $f does not open with a comment on what it is for" >&2; status=1 ;;
        esac
done

[ $status -eq 0 ] && echo "source checks passed"
exit $status
