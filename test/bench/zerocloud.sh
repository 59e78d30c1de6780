#!/bin/sh
# ZeroCloud with snapshots, measured (never asserted): a python hello job (a script POSTed with
# `#!file://python:python`) end to end, from curl's POST to the end of its answer, on a one-object-
# server Swift (test/cluster/start): warm (the node resumes python's snapshot, X-Nexe-Cached: true)
# and with `zerovm_snapshots = no` (every node starts CPython; programs still kept in the cache).
# Median of BENCH_ZC_RUNS (default 11) POSTs each, after two that warm up.  Skipped with a note
# when build/images/python.tar is absent (make images).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
if [ ! -f build/images/python.tar ]; then
    echo "zerocloud python job: n/a (no build/images/python.tar; run 'make images')"
    exit 0
fi
out=$top/build/bench/zerocloud
rm -rf "$out" && mkdir -p "$out"
runs=${BENCH_ZC_RUNS:-11}
BATS_TEST_DIRNAME=$top/test/bats
. test/bats/zerocloud_helpers.bash
tmp=$out
printf '#!file://python:python\nprint("hello")\n' > "$out/hello"

now_us() { echo $(( $(date +%s%N) / 1000 )); }

# measure LABEL CACHED: median wall time of $runs POSTs; every answer must be ok with
# X-Nexe-Cached: CACHED, else the row says how it failed
measure() {
    local label=$1 cached=$2 times="" status=ok t0 t1 code
    for i in $(seq $((runs + 2))); do
        t0=$(now_us)
        code=$(curl -s -o "$out/body" -D "$out/hdrs" -w '%{http_code}' -X POST \
            -H "X-Auth-Token: $OS_AUTH_TOKEN" -H "X-Zerovm-Execute: 1.0" \
            -H "Content-Type: application/python" --data-binary @"$out/hello" "$OS_STORAGE_URL")
        t1=$(now_us)
        [ "$i" -gt 2 ] || continue
        if [ "$code" != 200 ] || [ "$(cat "$out/body")" != hello ] ||
            [ "$(zc_hdr X-Nexe-Cached)" != "$cached" ]; then
            status="FAILED ($code, X-Nexe-Cached: $(zc_hdr X-Nexe-Cached))"
        fi
        times="$times $((t1 - t0))"
    done
    echo $times | tr ' ' '\n' | sort -n | awk -v l="$label" -v s="$status" \
        '{ a[NR] = $1 } END { printf "  %-34s %8.1f %8.1f %8.1f  %s\n", l, a[1] / 1000, a[int((NR + 1) / 2)] / 1000, a[NR] / 1000, s }'
}

# cluster LABEL CACHED [VAR=value...]: a cluster configured by the ZC_* variables, measured, stopped
cluster() {
    local label=$1 cached=$2
    shift 2
    (
        for assignment in "$@"; do export "$assignment"; done
        if ! ZC_TIMEOUT=60 zc_start_cluster > "$out/cluster.log" 2>&1; then
            echo "  $label: n/a (the test cluster did not start; see $out/cluster.log)"
            rm -rf "${ZC_TMP:-}"
            exit 0
        fi
        trap zc_stop_cluster EXIT
        measure "$label" "$cached"
    )
}

echo "zerocloud: a python hello job end to end, one object server ($runs POSTs each; ms):"
printf '  %-34s %8s %8s %8s\n' "" min median max
cluster "warm (resumes the snapshot)" true ZC_SNAPSHOTS=yes
cluster "zerovm_snapshots = no" false ZC_SNAPSHOTS=no
