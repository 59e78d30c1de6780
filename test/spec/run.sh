#!/bin/sh
# test/spec/run.sh — make check's spec suite: every test/spec/*.wast, converted by wabt's
# wast2json into build/spec/ at test time, run through build/zvm-spec; one TAP line per file
# ("ok 3 - i32.wast: 119 passed"), the failing commands of a failed file below it as comments.
#   ZVM_SPEC=path/to/zvm-spec overrides the runner (make SAN=1 builds one in build/asan/).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
runner=${ZVM_SPEC:-build/zvm-spec}
out=build/spec
mkdir -p "$out"

set -- test/spec/*.wast
echo "1..$#"
if [ ! -x "$runner" ]; then
    echo "not ok 1 - $runner is not built (run make first)"
    exit 1
fi

n=0 status=0
for wast in "$@"; do
    n=$((n + 1))
    name=$(basename "$wast" .wast)
    rm -f "$out/$name".*
    if ! wast2json --enable-tail-call --enable-exceptions "$wast" -o "$out/$name.json" > "$out/$name.wast2json.log" 2>&1; then
        echo "not ok $n - $name.wast: wast2json could not convert it"
        sed 's/^/# /' "$out/$name.wast2json.log" | head -20
        status=1
        continue
    fi
    # A timeout well above the runner's own per-call one (20 s): a hang is a failure, not a stuck make check.
    timeout 300 "$runner" "$out/$name.json" > "$out/$name.log" 2>&1
    rc=$?
    summary=$(tail -n 1 "$out/$name.log")
    if [ $rc -eq 0 ]; then
        echo "ok $n - $name.wast: $summary"
    else
        case $rc in
            124) why="timed out after 300 s";;
            1) why=$summary;;
            *) why="zvm-spec exited with status $rc${summary:+ ($summary)}";;
        esac
        echo "not ok $n - $name.wast: $why"
        sed '$d; s/^/# /' "$out/$name.log" | head -60
        [ $rc -gt 1 ] && [ $rc -ne 124 ] && tail -n 1 "$out/$name.log" | sed 's/^/# /'
        status=1
    fi
done
exit $status
