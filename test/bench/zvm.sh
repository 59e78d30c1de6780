#!/bin/sh
# zvm's own benchmarks (called by test/bench/run.sh), printed as ratios with the host tool:
#   1. 1 GiB through a guest cat (stdin -> stdout channels) vs the host's cat   (target <= 1.2x)
#   2. zvm on a hello-world manifest, end to end, vs the same C program native   (target < 5 ms)
# BENCH_RUNS=N (default 3): the best of N runs.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/bench/zvm
mkdir -p $out
runs=${BENCH_RUNS:-3}
[ -x build/zvm ] || { echo "zvm bench: build/zvm missing; run make first"; exit 1; }
make -s build/fixtures/s_cat.wasm build/fixtures/hello.wasm

# best_us CMD...: the smallest wall time in microseconds over $runs runs
best_us() {
    best=""
    i=0
    while [ $i -lt $runs ]; do
        t0=$(date +%s%N)
        "$@" > /dev/null 2>&1 || { echo FAILED; return 0; }
        t1=$(date +%s%N)
        t=$(( (t1 - t0) / 1000 ))
        if [ -z "$best" ] || [ $t -lt $best ]; then best=$t; fi
        i=$((i + 1))
    done
    echo $best
}

# The input: 1 GiB in a file (page cache), piped in as a FIFO would be, read by both cats.
big=$out/1g.bin
[ -f $big ] && [ "$(stat -c %s $big)" -eq 1073741824 ] || head -c 1073741824 /dev/zero | tr '\0' 'z' > $big
cat > $out/cat.manifest <<M
Version = 20130611
Program = $top/build/fixtures/s_cat.wasm
Memory = 67108864,0
Timeout = 600
Channel = $top/$big,/dev/stdin,0,0,10000000,2000000000,0,0
Channel = /dev/null,/dev/stdout,0,0,0,0,10000000,2000000000
Channel = /dev/null,/dev/stderr,0,0,0,0,1000,100000
M
cat > $out/hello.manifest <<M
Version = 20130611
Program = $top/build/fixtures/hello.wasm
Memory = 67108864,0
Timeout = 10
Channel = /dev/null,/dev/stdin,0,0,1000,1048576,0,0
Channel = /dev/null,/dev/stdout,0,0,0,0,1000,1048576
Channel = /dev/null,/dev/stderr,0,0,0,0,1000,1048576
M
clang-19 -O2 test/fixtures/hello.c -o $out/hello.native

cat_host() { cat $big > /dev/null; }
t_host=$(best_us cat_host)
t_zvm=$(best_us build/zvm $out/cat.manifest)
h_native=$(best_us $out/hello.native)
h_zvm=$(best_us build/zvm $out/hello.manifest)

printf '%-34s %12s %12s %8s %s\n' "zvm bench" "host_ms" "zvm_ms" "ratio" "target"
awk -v h="$t_host" -v z="$t_zvm" 'BEGIN { printf "%-34s %12.1f %12.1f %8.2f %s\n", "1 GiB cat stdin->stdout", h/1000, z/1000, z/h, "<= 1.20" }'
awk -v h="$h_native" -v z="$h_zvm" 'BEGIN { printf "%-34s %12.2f %12.2f %8.2f %s\n", "hello world end to end", h/1000, z/1000, z/h, "zvm < 5 ms" }'
