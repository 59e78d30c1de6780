#!/bin/sh
# What zvsh adds over zvm: the same hello-world session, run 20 times each way, best time kept.
# (zvsh writes manifest.1/nvram.1 and runs in-process; zvm reads the saved manifest.)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench/zvsh
rm -rf "$out" && mkdir -p "$out"
cd "$out"
"$top/pkg/sdk/zvm-cc" -O2 "$top/test/fixtures/zvsh_echo.c" -o echo.wasm
"$top/build/zvsh" --zvm-save-dir saved "$out/echo.wasm" hello > /dev/null

best() {   # best CMD...: the smallest wall time over 20 runs, in microseconds
    b=""
    for i in $(seq 20); do
        t0=$(date +%s%N); "$@" > /dev/null 2>&1 || true; t1=$(date +%s%N)
        t=$(( (t1 - t0) / 1000 ))
        if [ -z "$b" ] || [ $t -lt $b ]; then b=$t; fi
    done
    echo $b
}
tz=$(best "$top/build/zvm" saved/manifest.1)
ts=$(best "$top/build/zvsh" "$out/echo.wasm" hello)
echo "zvsh overhead (hello world, best of 20):"
awk -v z=$tz -v s=$ts 'BEGIN { printf "  zvm %.2f ms, zvsh %.2f ms: zvsh adds %.2f ms (target < 2 ms)\n", z / 1000, s / 1000, (s - z) / 1000 }'
