#!/bin/sh
# zvm's own benchmark (called by test/bench/run.sh), printed as a ratio with the host tool:
# 1 GiB through a guest cat (stdin -> stdout channels) vs the host's cat (target <= 1.2x).
# (Start-up, the hello world natively, through zvm and through zvsh: startup.sh.)
# BENCH_RUNS=N (default 5): the best of N runs, wall time and CPU time (user + system).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/bench/zvm
mkdir -p $out
runs=${BENCH_RUNS:-5}
[ -x build/zvm ] || { echo "zvm bench: build/zvm missing; run make first"; exit 1; }
make -s build/fixtures/s_cat.wasm

# best_us CMD...: "WALL CPU" in microseconds: the smallest wall time over $runs runs, and the
# smallest user+system CPU time (less disturbed than wall time on a busy machine)
best_us() {
    python3 - "$runs" "$@" <<'PY'
import os, resource, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
wall = cpu = None
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t1 = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        print("FAILED FAILED"); sys.exit(0)
    w = (t1 - t0) * 1e6
    c = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1e6
    wall = w if wall is None else min(wall, w)
    cpu = c if cpu is None else min(cpu, c)
print("%d %d" % (wall, cpu))
PY
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

t_host=$(best_us sh -c "cat $big > /dev/null")
t_zvm=$(best_us build/zvm $out/cat.manifest)

printf '%-26s %10s %10s %10s %10s %8s %8s  %s\n' "zvm bench" host_ms zvm_ms host_cpu zvm_cpu wall_x cpu_x target
row() {
    echo "$2 $3" | awk -v name="$1" -v target="$4" '{
        if ($1 == "FAILED" || $3 == "FAILED") { printf "%-26s FAILED\n", name; exit }
        printf "%-26s %10.2f %10.2f %10.2f %10.2f %8.2f %8.2f  %s\n", name, $1/1000, $3/1000, $2/1000, $4/1000,
               $3/$1, ($2 > 0 ? $4/$2 : 0), target }'
}
row "1 GiB cat stdin->stdout" "$t_host" "$t_zvm" "ratio <= 1.20"
