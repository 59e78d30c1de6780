#!/bin/sh
# Network channels and connected jobs, measured (never asserted):
#   1. throughput of one stream between two zvm sessions on this machine: 200 MB from a file
#      through s_cat -> channel -> s_cat -> /dev/null, over tcp:// (a network channel) and over a
#      FIFO (a host channel), against the host's own `cat file | cat > /dev/null`; with etags off,
#      and with them on (an MD5 at every channel end);
#   2. the latency of a connected job on a 3-object-server Swift (test/cluster/start) as its node
#      count grows: N-1 writers (z_mapreduce "flood 0") connected to one reducer; N=1 is a single
#      unconnected node.  Median of BENCH_RUNS (default 5) POSTs each.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench/channels
rm -rf "$out" && mkdir -p "$out"
cd "$top"
runs=${BENCH_RUNS:-5}
mb=200

now_us() { echo $(( $(date +%s%N) / 1000 )); }

s_cat_manifest() {   # s_cat_manifest FILE IN OUT [ETAG]: an s_cat session from IN to OUT
    local etag=${4:-0}
    cat > "$1" <<M
Version = 20130611
Program = $top/build/fixtures/s_cat.wasm
Memory = 67108864,0
Timeout = 120
Channel = $2,/dev/stdin,0,$etag,100000000,100000000000,0,0
Channel = $3,/dev/stdout,0,$etag,0,0,100000000,100000000000
Channel = /dev/null,/dev/stderr,0,0,0,0,1000,100000
M
}

# best_pair_us READER-MANIFEST WRITER-MANIFEST: the best wall time of the two sessions together
best_pair_us() {
    local best="" t0 t1
    for _ in 1 2 3; do
        t0=$(now_us)
        build/zvm "$1" > "$out/r.report" & local r=$!
        build/zvm "$2" > "$out/w.report"
        wait $r
        t1=$(now_us)
        grep -qx ok <(sed -n 6p "$out/r.report") || { echo FAILED; return; }
        [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ] && best=$((t1 - t0))
    done
    echo "$best"
}

head -c $((mb * 1000000)) /dev/zero > "$out/data"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$out/fifo"
declare -A t
for etag in 0 1; do
    s_cat_manifest "$out/tcp-r" "tcp-listen://127.0.0.1:$port/bench" /dev/null $etag
    s_cat_manifest "$out/tcp-w" "$out/data" "tcp://127.0.0.1:$port/bench" $etag
    s_cat_manifest "$out/fifo-r" "$out/fifo" /dev/null $etag
    s_cat_manifest "$out/fifo-w" "$out/data" "$out/fifo" $etag
    t[tcp$etag]=$(best_pair_us "$out/tcp-r" "$out/tcp-w")
    t[fifo$etag]=$(best_pair_us "$out/fifo-r" "$out/fifo-w")
done
t_host=""
for _ in 1 2 3; do
    t0=$(now_us); cat "$out/data" | cat > /dev/null; t1=$(now_us)
    [ -z "$t_host" ] || [ $((t1 - t0)) -lt "$t_host" ] && t_host=$((t1 - t0))
done
echo "channel throughput between two sessions on one machine ($mb MB, best of 3):"
printf '  %-44s %10s %8s\n' path ms MB/s
for row in "host pipe (cat | cat):$t_host" "zvm -> FIFO channel -> zvm:${t[fifo0]}" \
           "zvm -> tcp:// network channel -> zvm:${t[tcp0]}" "zvm -> FIFO -> zvm, etags on:${t[fifo1]}" \
           "zvm -> tcp:// -> zvm, etags on:${t[tcp1]}"; do
    name=${row%:*} t=${row##*:}
    if [ "$t" = FAILED ]; then printf '  %-44s %10s %8s\n' "$name" FAILED -; continue; fi
    awk -v n="$name" -v t="$t" -v mb=$mb 'BEGIN { printf "  %-44s %10.0f %8.0f\n", n, t / 1000, mb / (t / 1e6) }'
done

# --- connected-job latency on a 3-object-server Swift with ZeroCloud
echo
BATS_TEST_DIRNAME=$top/test/bats
. test/bats/zerocloud_helpers.bash
export ZC_OBJECT_SERVERS=3 ZC_REPLICAS=2 ZC_TIMEOUT=30
if ! zc_start_cluster > "$out/cluster.log" 2>&1; then
    echo "connected-job latency: n/a (the test cluster did not start; see $out/cluster.log)"
    exit 0
fi
trap zc_stop_cluster EXIT
tmp=$out
echo "connected-job latency, 3 object servers (median of $runs POSTs; N-1 writers -> 1 reader):"
printf '  %-6s %10s %s\n' nodes ms status
for n in 1 4 16 32; do
    if [ "$n" -eq 1 ]; then
        job='[{"name": "one", "exec": {"path": "file://tools:mr", "args": "flood 0"}}]'
    else
        job='[{"name": "w", "exec": {"path": "file://tools:mr", "args": "flood 0"}, "count": '$((n - 1))', "connect": ["r"]},
              {"name": "r", "exec": {"path": "file://tools:mr", "args": "reduce"}, "devices": [{"name": "stdout"}]}]'
    fi
    echo "$job" > "$out/job$n"
    times="" status=ok
    for _ in $(seq "$runs"); do
        t0=$(now_us)
        code=$(curl -s -o /dev/null -D "$out/hdrs" -w '%{http_code}' -X POST -H "X-Auth-Token: $OS_AUTH_TOKEN" \
            -H "X-Zerovm-Execute: 1.0" -H "Content-Type: application/json" --data-binary @"$out/job$n" "$OS_STORAGE_URL")
        t1=$(now_us)
        tr -d '\r' < "$out/hdrs" | grep -q "^X-Nexe-Status: ok\(,ok\)*$" && [ "$code" = 200 ] || status="FAILED ($code)"
        times="$times $((t1 - t0))"
    done
    echo $times | tr ' ' '\n' | sort -n | awk -v n=$n -v s="$status" '{ a[NR] = $1 } END { printf "  %-6d %10.1f %s\n", n, a[int((NR + 1) / 2)] / 1000, s }'
done
