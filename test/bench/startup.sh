#!/bin/sh
# Start-up (issue 14): the C hello world (test/fixtures/hello.c) as a fresh process each run,
# natively (clang-19 -O2), through zvm from a manifest, and through zvsh from the .wasm.  hello
# imports no zvm_fork (no snapshot) and is too small for the cache's validation marker, so by
# default the cache is only looked at; with --no-snapshot nothing at all is kept between runs but
# the page cache (fully cold).  The cache is a scratch directory here, so the user's is left
# alone.  The runs are interleaved (one of
# each in turn) so that a machine getting busier slows every column alike; best and median of
# STARTUP_RUNS (default 100) wall times, measured here with Python's perf_counter around each
# process, and the shared libraries each maps.  Target: zvm at most 1.5 ms.  Never a test.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench/startup
rm -rf "$out" && mkdir -p "$out"
cd "$top"
runs=${STARTUP_RUNS:-100}
[ -x build/zvm ] && [ -x build/zvsh ] || { echo "start-up bench: build/zvm or build/zvsh missing; run make first"; exit 1; }
make -s build/fixtures/hello.wasm
clang-19 -O2 test/fixtures/hello.c -o "$out/hello.native"
cat > "$out/hello.manifest" <<M
Version = 20130611
Program = $top/build/fixtures/hello.wasm
Memory = 67108864,0
Timeout = 10
Channel = /dev/null,/dev/stdin,0,0,1000,1048576,0,0
Channel = /dev/stdout,/dev/stdout,0,0,0,0,1000,1048576
Channel = /dev/null,/dev/stderr,0,0,0,0,1000,1048576
M
export ZVSH_CONFIG="$out/none.cfg"   # no host zvsh.cfg changes what zvsh does
export ZVM_CACHE_DIR="$out/cache"    # a cache of the bench's own

# libs CMD...: how many shared libraries CMD maps (the dynamic loader's own log), vdso aside
libs() {
    LD_DEBUG=files LD_DEBUG_OUTPUT="$out/ld" "$@" > /dev/null 2>&1 < /dev/null || true
    n=$(cat "$out"/ld.* | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u | wc -l)
    rm -f "$out"/ld.*
    echo "$n"
}

n_native=$(libs "$out/hello.native")
n_zvm=$(libs build/zvm "$out/hello.manifest")
n_zvsh=$(libs build/zvsh build/fixtures/hello.wasm)
python3 - "$runs" "$out" "$top" "$n_native" "$n_zvm" "$n_zvm" "$n_zvsh" "$n_zvsh" <<'PY'
import os, statistics, subprocess, sys, time
runs, out, top = int(sys.argv[1]), sys.argv[2], sys.argv[3]
nlibs = sys.argv[4:9]
zvm, zvsh, wasm = top + "/build/zvm", top + "/build/zvsh", top + "/build/fixtures/hello.wasm"
cases = [
    ("native (clang-19 -O2)", [out + "/hello.native"], ""),
    ("zvm MANIFEST", [zvm, out + "/hello.manifest"], "<= 1.5 ms"),
    ("zvm --no-snapshot", [zvm, "--no-snapshot", out + "/hello.manifest"], "<= 1.5 ms (cold)"),
    ("zvsh hello.wasm", [zvsh, wasm], ""),
    ("zvsh --zvm-no-snapshot", [zvsh, "--zvm-no-snapshot", wasm], ""),
]
times = [[] for _ in cases]
with open(os.devnull, "wb") as null:
    for _ in range(runs + 1):                      # the first round warms the page cache, uncounted
        for i, (_, cmd, _) in enumerate(cases):
            t0 = time.perf_counter()
            rc = subprocess.call(cmd, stdin=null, stdout=null, stderr=null)
            t1 = time.perf_counter()
            if rc != 0:
                print("start-up bench: %s FAILED (exit %d)" % (" ".join(cmd), rc))
                sys.exit(0)
            times[i].append((t1 - t0) * 1e3)
print("start-up: C hello world, a fresh process each run (%d runs each, interleaved)" % runs)
print("%-24s %8s %10s %6s  %s" % ("", "best_ms", "median_ms", "libs", "target"))
for (name, _, target), t, n in zip(cases, times, nlibs):
    t = t[1:]
    print("%-24s %8.2f %10.2f %6s  %s" % (name, min(t), statistics.median(t), n, target))
PY
