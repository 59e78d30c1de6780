#!/bin/sh
# make bench — speed, measured (never asserted): each kernel in kernels/ natively (clang-19 -O2),
# under zvm, and under node's V8 (node:wasi), as a table of times and ratios with their geometric
# means; then the engine's load speed on a generated 30 MiB module; then any extra bench scripts
# (test/bench/*.sh) other parts of the project add.
# BENCH_RUNS=N (default 3): the best of N runs is reported.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/bench
mkdir -p $out
runs=${BENCH_RUNS:-3}

ms_now() { date +%s%N; }

# best_of CMD...: the smallest wall time in ms over $runs runs (stdout to $out/last.out)
best_of() {
    best=""
    i=0
    while [ $i -lt $runs ]; do
        t0=$(ms_now)
        "$@" > $out/last.out 2> $out/last.err || { echo "FAILED"; return 0; }
        t1=$(ms_now)
        t=$(( (t1 - t0) / 1000 ))   # microseconds
        if [ -z "$best" ] || [ $t -lt $best ]; then best=$t; fi
        i=$((i + 1))
    done
    echo $best
}

manifest() {   # manifest WASM OUTFILE ARGS...: a zvm manifest running WASM with ARGS, stdout to OUTFILE
    wasm=$1 outfile=$2; shift 2
    name=$(basename "$wasm" .wasm)
    printf '[args]\nargs = %s %s\n' "$name" "$*" > $out/$name.nvram
    cat <<M
Version = 20130611
Program = $top/$wasm
Memory = 4294967296,0
Timeout = 600
Channel = /dev/null,/dev/stdin,0,0,1000000,1000000000,0,0
Channel = $top/$outfile,/dev/stdout,0,0,0,0,1000000,1000000000
Channel = $top/$out/$name.err,/dev/stderr,0,0,0,0,1000000,1000000000
Channel = $top/$out/$name.nvram,/dev/nvram,3,0,1000,1000000,0,0
M
}

have_zvm=0
if [ -x build/zvm ]; then
    pkg/sdk/zvm-cc -O2 test/bench/kernels/fib.c -o $out/probe.wasm
    manifest $out/probe.wasm $out/probe.out 10 > $out/probe.manifest
    if build/zvm $out/probe.manifest > /dev/null 2>&1 && grep -q 'fib(10) = 55' $out/probe.out; then have_zvm=1; fi
fi
[ $have_zvm -eq 1 ] || echo "note: build/zvm cannot run guests yet; the zvm column is n/a"

printf '%-10s %10s %10s %10s %10s %10s\n' kernel native_ms zvm_ms node_ms zvm/native node/native
rows=$out/rows.txt
: > $rows
for src in test/bench/kernels/*.c; do
    k=$(basename $src .c)
    clang-19 -O2 $src -o $out/$k.native -lm
    pkg/sdk/zvm-cc -O2 $src -o $out/$k.wasm
    tn=$(best_of $out/$k.native); cp $out/last.out $out/$k.expected
    tz=n/a
    if [ $have_zvm -eq 1 ]; then
        manifest $out/$k.wasm $out/$k.zvm.out > $out/$k.manifest
        tz=$(best_of build/zvm $out/$k.manifest)
        cmp -s $out/$k.zvm.out $out/$k.expected || tz="WRONG"
    fi
    tv=$(best_of node --no-warnings test/bench/node-wasi.mjs $out/$k.wasm)
    cmp -s $out/last.out $out/$k.expected || tv="WRONG"
    echo "$k $tn $tz $tv" >> $rows
    echo "$k $tn $tz $tv" | awk '{
        z = ($3 ~ /^[0-9]+$/) ? sprintf("%.2f", $3 / $2) : $3;
        v = ($4 ~ /^[0-9]+$/) ? sprintf("%.2f", $4 / $2) : $4;
        zm = ($3 ~ /^[0-9]+$/) ? sprintf("%.1f", $3 / 1000) : $3;
        vm = ($4 ~ /^[0-9]+$/) ? sprintf("%.1f", $4 / 1000) : $4;
        printf "%-10s %10.1f %10s %10s %10s %10s\n", $1, $2 / 1000, zm, vm, z, v }'
done
awk '{ if ($3 ~ /^[0-9]+$/) { z += log($3 / $2); nz++ } if ($4 ~ /^[0-9]+$/) { v += log($4 / $2); nv++ } }
     END { printf "%-10s %10s %10s %10s %10s %10s\n", "geomean", "", "", "",
           nz ? sprintf("%.2f", exp(z / nz)) : "n/a", nv ? sprintf("%.2f", exp(v / nv)) : "n/a" }' $rows

echo
echo "load speed (decode + validate + translate):"
[ -f $out/big30.wasm ] || python3 test/bench/gen-big.py $out/big30.wasm 30 > /dev/null
build/zvm-loadtime $out/big30.wasm 3 || echo "  n/a: the engine cannot load modules yet"
for w in build/images/python.tar; do
    if [ -f "$w" ]; then
        tar -xOf "$w" python > $out/python.wasm 2>/dev/null && { printf 'python.wasm: '; build/zvm-loadtime $out/python.wasm 3 || true; }
    fi
done

for extra in test/bench/*.sh; do
    [ -f "$extra" ] && [ "$extra" != test/bench/run.sh ] || continue
    echo
    sh "$extra"
done
