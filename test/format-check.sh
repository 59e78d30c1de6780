#!/bin/sh
# format-check — does every C file of the tree match .clang-format?  TAP, one line:
#   ok 1 - N files match .clang-format
#   not ok 1 - M of N files differ from .clang-format; run 'make format' (each listed as "# path")
# CLANG_FORMAT names the program (default clang-format-19, from Debian's package of that name).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cf=${CLANG_FORMAT:-clang-format-19}
echo "1..1"
if ! command -v "$cf" > /dev/null; then
    echo "not ok 1 - $cf is not installed; run 'make deps' (Debian package clang-format-19)"
    exit 1
fi
n=0 differ=""
for f in $(find cmd libzvm test pkg -name '*.[ch]' | sort); do
    n=$((n + 1))
    "$cf" --style=file "$f" | cmp -s - "$f" || differ="$differ $f"
done
if [ -z "$differ" ]; then
    echo "ok 1 - $n files match .clang-format"
    exit 0
fi
set -- $differ
echo "not ok 1 - $# of $n files differ from .clang-format; run 'make format'"
for f in "$@"; do echo "# $f"; done
exit 1
