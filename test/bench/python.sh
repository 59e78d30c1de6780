#!/bin/sh
# python.tar: start-up (`python -c pass`) and a small json/re script, through zvsh, against the
# host's python3.11 and against node 20 running the same python.wasm with node:wasi.  Each runs
# cold (--zvm-no-snapshot) and warm (resuming the snapshot python's zvm_fork saved in a cache of
# the bench's own: docs/Snapshots.md).  Best of 5 wall times.  Skipped with a note when build/images/python.tar is absent (make images).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
img=$top/build/images/python.tar
if [ ! -f "$img" ]; then
    echo "python.tar bench: n/a (no build/images/python.tar; run 'make images')"
    exit 0
fi
out=$top/build/bench/python
rm -rf "$out" && mkdir -p "$out/root" "$out/tmp" && mkdir -m 700 "$out/cache"
tar -C "$out/root" -xf "$img"
cat > "$out/script.py" <<'PY'
import json, re
data = [{"id": i, "name": f"item-{i}", "tags": ["a", "b", str(i % 7)]} for i in range(2000)]
text = json.dumps(data)
back = json.loads(text)
words = re.findall(r"item-(\d+)", text)
print(len(back), sum(int(w) for w in words), len(re.sub(r"\d", "#", text)))
PY
cp "$out/script.py" "$out/root/script.py"

best() {   # best CMD...: the smallest wall time over 5 runs, in microseconds
    b=""
    for i in 1 2 3 4 5; do
        t0=$(date +%s%N); "$@" > "$out/last.out" 2>&1 || { echo FAILED; return; }; t1=$(date +%s%N)
        t=$(( (t1 - t0) / 1000 ))
        if [ -z "$b" ] || [ $t -lt $b ]; then b=$t; fi
    done
    echo $b
}
node_run="node $top/pkg/images/python/node-run.mjs $out/root $out/tmp --"
# Debian's python3.11 (the source python.tar is built from) by its path: a python3.11 found on
# PATH may be a version manager's shim, a shell script that costs more than python itself.
host_python=/usr/bin/python3.11
[ -x "$host_python" ] || host_python=python3.11
printf '%-24s %10s %10s %10s %12s %12s\n' "python.tar" zvsh_ms host_ms node_ms zvsh/host zvsh/node
cold="$top/build/zvsh --zvm-no-snapshot --zvm-image $img"
warm="$top/build/zvsh --zvm-cache $out/cache --zvm-image $img"
$warm python -c pass > /dev/null 2>&1      # saves the snapshot the warm runs resume
for case in pass-cold pass-warm script-cold script-warm; do
    zvsh=$cold; [ "${case#*-}" = warm ] && zvsh=$warm
    if [ "${case%-*}" = pass ]; then
        z=$(best $zvsh python -c pass)
        h=$(best $host_python -c pass)
        n=$(best $node_run python -c pass)
        label="python -c pass, ${case#*-}"
    else
        z=$(best $zvsh python "@$out/script.py")
        h=$(best $host_python "$out/script.py")
        n=$(best $node_run python /script.py)
        label="json/re script, ${case#*-}"
    fi
    echo "$label $z $h $n" | awk '{
        n = split($0, f, " "); z = f[n-2]; h = f[n-1]; v = f[n]; sub(/ [^ ]+ [^ ]+ [^ ]+$/, "", $0)
        if (z !~ /^[0-9]+$/ || h !~ /^[0-9]+$/ || v !~ /^[0-9]+$/) { printf "%-24s a run FAILED (%s %s %s)\n", $0, z, h, v; next }
        printf "%-24s %10.1f %10.1f %10.1f %12.2f %12.2f\n", $0, z / 1000, h / 1000, v / 1000, z / h, z / v }'
done
