#!/usr/bin/env bats
# Network channels between two zvm processes on loopback (man/zvm-manifest.5, NETWORK CHANNELS):
# s_cat copies its stdin to its stdout, and either end may be a tcp:// or tcp-listen:// channel.
# Every zvm runs under `timeout`, so a hang fails the test instead of stalling the suite.

load zvm_helpers

setup() {
    zvm_setup
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

teardown() { zvm_teardown; }

# net_manifest FILE STDIN-URI STDOUT-URI [PROGRAM]: an s_cat session whose stdin and stdout are the
# given uris (etags on), stderr in FILE.err; Timeout from $TIMEOUT (default 20).
net_manifest() {
    local f=$1 in=$2 out=$3 prog=${4:-$fx/s_cat.wasm}
    local in_fields="0,1,1000000,${IN_BYTES:-1000000000000},0,0" out_fields="0,1,0,0,1000000,1000000000000"
    cat > "$f" <<EOF
Version = 20130611
Program = $prog
Memory = 67108864,0
Timeout = ${TIMEOUT:-20}
Channel = $in,/dev/stdin,$in_fields
Channel = $out,/dev/stdout,$out_fields
Channel = $f.err,/dev/stderr,0,0,0,0,1000,100000
EOF
}

# run_pair: starts the reader session ($tmp/r) in the background, then the writer ($tmp/w) after
# an optional pause ($1 s), and waits for both; their exit codes in $r_rc and $w_rc.
run_pair() {
    timeout 60 "$zvm" "$tmp/r" > "$tmp/r.report" 2> "$tmp/r.stderr" &
    local reader=$!
    sleep "${1:-0}"
    w_rc=0 r_rc=0
    timeout 60 "$zvm" "$tmp/w" > "$tmp/w.report" 2> "$tmp/w.stderr" || w_rc=$?
    wait $reader || r_rc=$?
    for f in r w; do echo "--- $f: exit $( [ $f = r ] && echo $r_rc || echo $w_rc)"; cat "$tmp/$f.report" "$tmp/$f.err" 2> /dev/null; done
}

@test "zvm net: 20 MB through a tcp channel between two sessions, etag carried to the reader" {
    head -c 20000000 /dev/urandom > "$tmp/data"
    net_manifest "$tmp/w" "$tmp/data" "tcp://127.0.0.1:$port/job-a"
    net_manifest "$tmp/r" "tcp-listen://127.0.0.1:$port/job-a" "$tmp/copy"
    run_pair
    [ "$w_rc" -eq 0 ]; [ "$r_rc" -eq 0 ]
    cmp "$tmp/data" "$tmp/copy"
    md5=$(md5sum < "$tmp/data" | cut -d' ' -f1)
    [[ "$(sed -n 4p "$tmp/w.report")" == *"/dev/stdout $md5"* ]]
    [[ "$(sed -n 4p "$tmp/r.report")" == *"/dev/stdin $md5"* ]]
    # network counters: the writer's puts, the reader's gets (fields 7-10 of line 5)
    read -r _ _ _ _ _ _ nr nrb nw nwb <<< "$(sed -n 5p "$tmp/w.report")"
    [ "$nw" -gt 0 ]; [ "$nwb" -eq 20000000 ]; [ "$nr" -eq 0 ]
    read -r _ _ _ _ _ _ nr nrb nw nwb <<< "$(sed -n 5p "$tmp/r.report")"
    [ "$nr" -gt 0 ]; [ "$nrb" -eq 20000000 ]; [ "$nw" -eq 0 ]
    [ "$(sed -n 6p "$tmp/r.report")" = ok ]
}

@test "zvm net: the writer may listen and the reader connect, in either starting order" {
    printf 'the other way round\n' > "$tmp/data"
    net_manifest "$tmp/r" "tcp://127.0.0.1:$port/tok" "$tmp/copy"
    net_manifest "$tmp/w" "$tmp/data" "tcp-listen://127.0.0.1:$port/tok"
    run_pair 0.5      # the reader starts first and retries its refused connects
    [ "$w_rc" -eq 0 ]; [ "$r_rc" -eq 0 ]
    [ "$(cat "$tmp/copy")" = "the other way round" ]
}

@test "zvm net: a connection with another job's token never reaches the reader" {
    printf 'secret of job b\n' > "$tmp/other"
    printf 'data of job a\n' > "$tmp/data"
    net_manifest "$tmp/r" "tcp-listen://127.0.0.1:$port/token-a" "$tmp/copy"
    net_manifest "$tmp/stranger" "$tmp/other" "tcp://127.0.0.1:$port/token-b"
    net_manifest "$tmp/w" "$tmp/data" "tcp://127.0.0.1:$port/token-a"
    timeout 60 "$zvm" "$tmp/r" > "$tmp/r.report" 2>&1 &
    reader=$!
    timeout 60 "$zvm" "$tmp/stranger" > /dev/null 2>&1 || true
    timeout 60 "$zvm" "$tmp/w" > "$tmp/w.report" 2>&1
    wait $reader
    [ "$(cat "$tmp/copy")" = "data of job a" ]
}

@test "zvm net: a reader whose writer never comes ends at its Timeout, saying why" {
    TIMEOUT=1 net_manifest "$tmp/r" "tcp-listen://127.0.0.1:$port/lonely" "$tmp/copy"
    run timeout 30 "$zvm" "$tmp/r"
    echo "$output"
    [ "$status" -eq 4 ]
    [[ "$(sed -n 6p <<< "$output")" == "session timeout (channel /dev/stdin: no peer connected to tcp-listen://127.0.0.1:$port"*"Timeout passed))" ]]
}

@test "zvm net: a writer with nobody listening ends at its Timeout, saying why" {
    printf 'x' > "$tmp/data"
    TIMEOUT=1 net_manifest "$tmp/w" "$tmp/data" "tcp://127.0.0.1:$port/lonely"
    run timeout 30 "$zvm" "$tmp/w"
    echo "$output"
    [ "$status" -eq 4 ]
    [[ "$(sed -n 6p <<< "$output")" == "session timeout (channel /dev/stdout: cannot connect to tcp://127.0.0.1:$port: nobody listened there before the session's Timeout)" ]]
}

@test "zvm net: a writer that traps makes its reader fail at once, not take a partial stream" {
    printf 'x' > "$tmp/data"
    net_manifest "$tmp/w" "$tmp/data" "tcp://127.0.0.1:$port/t" "$fx/s_trap.wasm"
    net_manifest "$tmp/r" "tcp-listen://127.0.0.1:$port/t" "$tmp/copy"
    run_pair
    [ "$w_rc" -eq 4 ]
    [ "$r_rc" -eq 32 ]
    [[ "$(sed -n 6p "$tmp/r.report")" == *"channel /dev/stdin"*"ended without its end frame"* ]]
    grep -q "s_cat: read: I/O error" "$tmp/r.err"
}

@test "zvm net: a reader that exits early gives its writer EPIPE, and nothing hangs" {
    head -c 30000000 /dev/zero > "$tmp/data"
    net_manifest "$tmp/w" "$tmp/data" "tcp://127.0.0.1:$port/p"
    # the reader's stdin quota stops it after 1 MB: s_cat's next read fails and it exits 1
    IN_BYTES=1000000 net_manifest "$tmp/r" "tcp-listen://127.0.0.1:$port/p" "$tmp/copy"
    run_pair
    [ "$(sed -n 3p "$tmp/r.report")" = 1 ]
    [ "$(stat -c %s "$tmp/copy")" -eq 1000000 ]
    grep -q "s_cat: write: Broken pipe" "$tmp/w.err"
    [ "$(sed -n 3p "$tmp/w.report")" = 1 ]
    [[ "$(sed -n 6p "$tmp/w.report")" == *"channel /dev/stdout: sending data: the reader is gone"* ]]
}
