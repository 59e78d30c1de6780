#!/bin/sh
# diff-check.sh ENGINE FILE.wasm — one module through both drivers of the differential fuzzer;
# prints "agree", "mismatch" or "crash" (and exits 0, 1, 2).  wasm-reduce runs it to minimise a
# finding: it keeps a smaller module only while this says what it said for the original.
engine=$1 wasm=$2
dir=$(mktemp -d) || exit 3
trap 'rm -rf "$dir"' EXIT
if ! "$engine" -s "$wasm" > "$dir/sig" 2>/dev/null || ! timeout 30 "$engine" "$wasm" > "$dir/zvm" 2>/dev/null; then
    echo crash; exit 2
fi
echo "$wasm $dir/sig $dir/v8" > "$dir/list"
node "$(dirname "$0")/v8-fuzz-exec.mjs" "$dir/list" 2>/dev/null
# logs are compared as diff.py does: up to the call that timed out or exhausted the stack, without
# that call's own log lines (how deep it got is each engine's limit)
cut_log() {
    awk '/^call /{ keep = keep pending; pending = $0 "\n"; next }
         /^(exhausted|timeout)$/{ printf "%s%s", keep, pending ? substr(pending, 1, index(pending, "\n")) : ""; done = 1; exit }
         { pending = pending $0 "\n" }
         END { if (!done) printf "%s%s", keep, pending }' "$1"
}
if [ "$(cut_log "$dir/zvm")" = "$(cut_log "$dir/v8")" ]; then echo agree; exit 0; fi
echo mismatch; exit 1
