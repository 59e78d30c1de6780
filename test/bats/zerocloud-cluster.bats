#!/usr/bin/env bats
# Connected jobs (map-reduce, pipelines) on a distributed Swift: three object servers on
# 127.0.0.2-4, two replicas of each object, ZeroCloud in every one of them.  The guest is
# z_mapreduce (/mr in the tools image, test/fixtures/z_mapreduce.c).

load zerocloud_helpers

setup_file() {
    export ZC_OBJECT_SERVERS=3 ZC_REPLICAS=2 ZC_TIMEOUT=${ZC_CLUSTER_TIMEOUT:-20}
    # twenty more accounts for the load test: acctN, user u, key kN
    ZVM_TEMPAUTH_USERS=$(for i in $(seq 1 20); do echo "user_acct${i}_u = k$i .admin"; done)
    export ZVM_TEMPAUTH_USERS
    zc_start_cluster
}

teardown_file() {
    zc_stop_cluster
}

setup() {
    zc_setup
}

teardown() {
    rm -rf "$tmp"
}

# word_count_job CONTAINER OUTPUT: mappers over every object of CONTAINER, one reducer writing
# swift://~/results/OUTPUT
word_count_job() {
    cat <<EOF
[{"name": "map", "exec": {"path": "file://tools:mr", "args": "map"},
  "devices": [{"name": "stdin", "path": "swift://~/$1/*"}, {"name": "stderr"}],
  "connect": ["reduce"]},
 {"name": "reduce", "exec": {"path": "file://tools:mr", "args": "reduce"},
  "devices": [{"name": "stdout", "path": "swift://~/results/$2", "content_type": "text/plain"},
              {"name": "stderr"}]}]
EOF
}

# servers_holding MARKER: the ip of every object server that stores an object holding the line
# MARKER (a line unique to one object)
servers_holding() {
    local i=0 ip
    for ip in $ZVM_OBJECT_SERVERS; do
        i=$((i + 1))
        if find "$ZVM_CLUSTER_DIR/srv/obj$i" -name '*.data' -print0 |
            xargs -0 -r grep -l -F -x -- "$1" > /dev/null; then
            echo "${ip%:*}"
        fi
    done
}

# host_word_count FILES...: what the reducer must print
host_word_count() {
    cat "$@" | tr -s ' \t\n' '\n' | grep -v '^$' | LC_ALL=C sort | uniq -c | awk '{print $2, $1}'
}

@test "zerocloud cluster: a word count over 12 objects, each mapper next to its object, one reducer" {
    zc_need_zvm
    zc_mkcontainer results
    words=(alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu)
    for i in $(seq 1 12); do
        # a unique first line, so each object's copies can be found on disk
        printf 'object%02d-marker\n' "$i" > "$tmp/o$i"
        for j in $(seq 1 $((i * 3))); do echo "${words[$(( (i * j) % 12 ))]} ${words[$((j % 12))]}"; done >> "$tmp/o$i"
        zc_put "wc/part$(printf %02d "$i")" "$(cat "$tmp/o$i")"
    done
    word_count_job wc count.txt > "$tmp/job"
    zc_post / application/json "$tmp/job"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = "map-1,map-2,map-3,map-4,map-5,map-6,map-7,map-8,map-9,map-10,map-11,map-12,reduce" ]
    [ "$(zc_hdr X-Nexe-Status)" = "$(printf 'ok,%.0s' $(seq 12))ok" ]
    [ -z "$(zc_hdr X-Nexe-Error)" ]
    # the result equals the host's count (the objects' contents as Swift holds them)
    for i in $(seq 1 12); do zc_get "wc/part$(printf %02d "$i")" > "$tmp/got$i"; echo >> "$tmp/got$i"; done
    host_word_count "$tmp"/got{1..12} > "$tmp/expected"
    zc_get results/count.txt > "$tmp/result"
    diff "$tmp/expected" "$tmp/result"
    # each mapper ran on an object server holding a replica of its object (X-Nexe-Server is in
    # X-Nexe-System's order, and map-N read partNN: the listing's order)
    IFS=, read -r -a servers <<< "$(zc_hdr X-Nexe-Server)"
    [ "${#servers[@]}" -eq 13 ]
    used=""
    for i in $(seq 1 12); do
        ip=${servers[$((i - 1))]%:*}
        holders=$(servers_holding "$(printf 'object%02d-marker' "$i")")
        echo "map-$i ran on $ip; part$i is on: $holders"
        [ "$(echo "$holders" | wc -l)" -eq 2 ]            # two replicas, on two of the three
        echo "$holders" | grep -qx "$ip"
        used="$used $ip"
    done
    # the objects are spread, so the mappers ran on more than one server
    [ "$(echo $used | tr ' ' '\n' | sort -u | wc -l)" -ge 2 ]
    # the reports: the mappers wrote, the reducer read, over the network
    cdr=$(zc_hdr X-Nexe-Cdr-Line)
    echo "$cdr"
}

@test "zerocloud cluster: a pipeline split -> upper x3 -> merge moves 50 MB, fan-out and fan-in, etag checked" {
    zc_need_zvm
    zc_mkcontainer big
    zc_mkcontainer results
    head -c 37500000 /dev/urandom | base64 -w 100 | head -c 50000000 > "$tmp/big"
    curl -s -f -X PUT -H "X-Auth-Token: $OS_AUTH_TOKEN" -T "$tmp/big" "$OS_STORAGE_URL/big/data"
    cat > "$tmp/job" <<'JOB'
[{"name": "split", "exec": {"path": "file://tools:mr", "args": "split"},
  "devices": [{"name": "stdin", "path": "swift://~/big/data"}], "connect": ["upper"]},
 {"name": "upper", "exec": {"path": "file://tools:mr", "args": "upper"}, "count": 3,
  "connect": ["merge"]},
 {"name": "merge", "exec": {"path": "file://tools:mr", "args": "merge"},
  "devices": [{"name": "stdout", "path": "swift://~/results/big.upper"}]}]
JOB
    zc_post / application/json "$tmp/job"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = "split,upper-1,upper-2,upper-3,merge" ]
    [ "$(zc_hdr X-Nexe-Status)" = "ok,ok,ok,ok,ok" ]
    md5=$(tr a-z A-Z < "$tmp/big" | md5sum | cut -d' ' -f1)
    etags=$(zc_hdr X-Nexe-Etag)
    cdr=$(zc_hdr X-Nexe-Cdr-Line)
    [[ "$etags" == *"/dev/stdout $md5"* ]]
    # the stored object is the host's computation; Swift checked it against zvm's etag
    zc_head results/big.upper
    [ "$(zc_hdr Etag)" = "$md5" ]
    # each channel's etag is the same at both ends: split's /dev/out/upper-2 is upper-2's /dev/in/split
    split_out=$(echo "$etags" | cut -d, -f1 | grep -o '/dev/out/upper-2 [0-9a-f]*' | cut -d' ' -f2)
    upper_in=$(echo "$etags" | cut -d, -f3 | grep -o '/dev/in/split [0-9a-f]*' | cut -d' ' -f2)
    [ -n "$split_out" ] && [ "$split_out" = "$upper_in" ]
    # 50 MB crossed the network channels: split's network writes, merge's network reads
    read -r -a f <<< "$(echo "$cdr" | cut -d, -f3)"
    [ "${f[9]}" -eq 50000000 ]
    read -r -a f <<< "$(echo "$cdr" | cut -d, -f11)"
    [ "${f[7]}" -eq 50000000 ]
}

# greet NAME CONNECT [STDOUT [MORE JSON]]: a node of the greet role (z_mapreduce) writing to the
# nodes CONNECT names, its stdout stored at swift://~/results/STDOUT or, without it, in the answer
greet() {
    local stdout=${3:+, \"path\": \"swift://~/results/$3\"}
    printf '{"name": "%s", "exec": {"path": "file://tools:mr", "args": "greet"}, "connect": %s,
      "devices": [{"name": "stdout"%s}]%s}' "$1" "$2" "$stdout" "${4:-}"
}

@test "zerocloud cluster: two nodes that send each other a message (a cycle) both get it" {
    zc_need_zvm
    echo "[$(greet a '["b"]'), $(greet b '["a"]')]" > "$tmp/job"
    zc_post / application/json "$tmp/job"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = "a,b" ]
    [ "$(zc_hdr X-Nexe-Status)" = "ok,ok" ]
    [ "$(zc_hdr X-Nexe-Retcode)" = "0,0" ]
    [ "$body" = "$(printf 'b: hello from b\na: hello from a')" ]
}

@test "zerocloud cluster: a ring of three nodes, each storing what its neighbour sent" {
    zc_need_zvm
    zc_mkcontainer results
    echo "[$(greet r1 '["r2"]' ring-1.txt), $(greet r2 '["r3"]' ring-2.txt),
           $(greet r3 '["r1"]' ring-3.txt)]" > "$tmp/job"
    zc_post / application/json "$tmp/job"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = "ok,ok,ok" ]
    [ "$(zc_get results/ring-1.txt)" = "r3: hello from r3" ]
    [ "$(zc_get results/ring-2.txt)" = "r1: hello from r1" ]
    [ "$(zc_get results/ring-3.txt)" = "r2: hello from r2" ]
}

@test "zerocloud cluster: a master and its three workers talk both ways (a cycle through a group)" {
    zc_need_zvm
    echo "[$(greet master '["work"]'), $(greet work '["master"]' '' ', "count": 3')]" > "$tmp/job"
    zc_post / application/json "$tmp/job"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = "master,work-1,work-2,work-3" ]
    [ "$(zc_hdr X-Nexe-Retcode)" = "0,0,0,0" ]
    expected="work-1: hello from work-1
work-2: hello from work-2
work-3: hello from work-3
master: hello from master
master: hello from master
master: hello from master"
    [ "$body" = "$expected" ]
}

@test "zerocloud cluster: a cycle with a node that cannot start runs no node, stores nothing, per node" {
    zc_need_zvm
    zc_mkcontainer results
    cat > "$tmp/job" <<'JOB'
[{"name": "a", "exec": {"path": "file://tools:mr", "args": "greet"}, "connect": ["b"],
  "devices": [{"name": "stdout", "path": "swift://~/results/cycle-a.txt"}]},
 {"name": "b", "exec": {"path": "file://tools:no-such-program"}, "connect": ["a"]}]
JOB
    zc_post / application/json "$tmp/job"
    [ "$code" = 400 ]
    errors=$(zc_hdr X-Nexe-Error)
    [[ "$errors" == *'b: program "no-such-program" not found in system image "tools"'* ]]
    [[ "$errors" == *"a: not run: node b of the job could not start"* ]]
    [ "$(zc_hdr X-Nexe-Retcode)" = "-,-" ]
    run zc_get results/cycle-a.txt
    [ "$status" -ne 0 ]
}

@test "zerocloud cluster: a mapper that traps fails the job at once, per node, and nothing is stored" {
    zc_need_zvm
    zc_mkcontainer results
    zc_put trapwc/a "some words"
    zc_put trapwc/b "more __trap__ words"
    zc_put trapwc/c "last words"
    word_count_job trapwc trapped.txt > "$tmp/job"
    zc_post / application/json "$tmp/job"
    [ "$(zc_hdr X-Nexe-System)" = "map-1,map-2,map-3,reduce" ]
    errors=$(zc_hdr X-Nexe-Error)
    [[ "$errors" == *"map-2: trap: unreachable"* ]]
    [[ "$errors" == *"reduce: channel /dev/in/map-2: the writer's stream ended without its end frame"* ]]
    [[ "$errors" == *"job: no output was stored"* ]]
    [ "$(zc_hdr X-Nexe-Status | cut -d, -f1)" = ok ]
    run zc_get results/trapped.txt
    [ "$status" -ne 0 ]
}

@test "zerocloud cluster: a reducer that exits early while mappers write: EPIPE, no hang, nothing stored" {
    zc_need_zvm
    zc_mkcontainer results
    cat > "$tmp/job" <<'JOB'
[{"name": "map", "exec": {"path": "file://tools:mr", "args": "flood 64"}, "count": 3,
  "connect": ["reduce"]},
 {"name": "reduce", "exec": {"path": "file://tools:mr", "args": "early"},
  "devices": [{"name": "stdout", "path": "swift://~/results/early.txt"}]}]
JOB
    zc_post / application/json "$tmp/job"
    [ "$(zc_hdr X-Nexe-Retcode)" = "1,1,1,0" ]
    [ "$(zc_hdr X-Nexe-Status)" = "$(printf 'channel /dev/out/reduce: sending data: the reader is gone (it ended or failed),%.0s' 1 2 3)ok" ]
    [[ "$(zc_hdr X-Nexe-Error)" == *"job: no output was stored"* ]]
    run zc_get results/early.txt
    [ "$status" -ne 0 ]
}

@test "zerocloud cluster: 20 concurrent map-reduce jobs from 20 accounts, each gets its own result" {
    zc_need_zvm
    for i in $(seq 1 20); do
        (
            token=$(zc_token "acct$i:u" "k$i")
            url=$ZVM_SWIFT_URL/v1/AUTH_acct$i
            for c in in results; do curl -s -f -X PUT -H "X-Auth-Token: $token" "$url/$c"; done
            for j in 1 2 3; do
                printf 'account%s %s account%s\n' "$i" "word$j" "$i" |
                    curl -s -f -X PUT -H "X-Auth-Token: $token" --data-binary @- "$url/in/o$j"
            done
            echo "$token" > "$tmp/token$i"
        ) &
    done
    wait
    word_count_job in count.txt > "$tmp/job"
    for i in $(seq 1 20); do
        curl -s -o "$tmp/body$i" -D "$tmp/hdrs$i" -X POST -H "X-Auth-Token: $(cat "$tmp/token$i")" \
            -H "X-Zerovm-Execute: 1.0" -H "Content-Type: application/json" --data-binary @"$tmp/job" \
            "$ZVM_SWIFT_URL/v1/AUTH_acct$i" &
    done
    wait
    for i in $(seq 1 20); do
        grep -i '^X-Nexe-Status' "$tmp/hdrs$i"
        tr -d '\r' < "$tmp/hdrs$i" | grep -qx 'X-Nexe-Status: ok,ok,ok,ok'
        got=$(curl -s -f -H "X-Auth-Token: $(cat "$tmp/token$i")" "$ZVM_SWIFT_URL/v1/AUTH_acct$i/results/count.txt")
        [ "$got" = "$(printf 'account%s 6\nword1 1\nword2 1\nword3 1' "$i")" ]
    done
}

# The last two tests kill object servers: they run last, on what the others left.

@test "zerocloud cluster: an object server killed before the job: mappers use the other replica" {
    zc_need_zvm
    set -- $ZVM_OBJECT_SERVER_PIDS
    kill -KILL "$1"
    dead=$(echo $ZVM_OBJECT_SERVERS | cut -d' ' -f1)
    word_count_job wc after-kill.txt > "$tmp/job"
    zc_post / application/json "$tmp/job"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = "$(printf 'ok,%.0s' $(seq 12))ok" ]
    [[ ",$(zc_hdr X-Nexe-Server)," != *",$dead,"* ]]
    IFS=, read -r -a servers <<< "$(zc_hdr X-Nexe-Server)"
    for i in $(seq 1 12); do
        holders=$(servers_holding "$(printf 'object%02d-marker' "$i")")
        echo "$holders" | grep -qx "${servers[$((i - 1))]%:*}"
    done
    [ "$(zc_get results/after-kill.txt)" = "$(zc_get results/count.txt)" ]
}

@test "zerocloud cluster: an object server killed during the job: it fails in its timeout, per node, nothing stored" {
    zc_need_zvm
    cat > "$tmp/job" <<'JOB'
[{"name": "spin", "exec": {"path": "file://tools:mr", "args": "spin"}, "connect": ["reduce"]},
 {"name": "reduce", "exec": {"path": "file://tools:mr", "args": "reduce"},
  "devices": [{"name": "stdout", "path": "swift://~/results/killed.txt"}]}]
JOB
    zc_post / application/json "$tmp/job" > "$tmp/log" 2>&1 &
    post=$!
    # the spinning node's zvm runs in a session directory of its object server's device (its
    # manifest is zvm's last argument, after the cache options)
    victim=""
    for _ in $(seq 1 100); do
        for pid in $(pgrep -f "^$PWD/build/zvm .*$ZVM_CLUSTER_DIR/srv/obj" || true); do
            manifest=$(tr '\0' '\n' < /proc/$pid/cmdline | tail -1)
            if grep -q '^args = spin spin$' "$(dirname "$manifest")/nvram" 2> /dev/null; then
                victim=$(echo "$manifest" | sed 's|.*/srv/obj\([0-9]*\)/.*|\1|')
            fi
        done
        [ -n "$victim" ] && break
        sleep 0.1
    done
    [ -n "$victim" ]
    set -- $ZVM_OBJECT_SERVER_PIDS
    eval "kill -KILL -- -\${$victim}"   # the server and its sessions, as when a machine dies
    wait $post
    cat "$tmp/log"
    [ "${code:-$(sed -n 's/^POST .* -> //p' "$tmp/log")}" -ge 500 ]
    errors=$(tr -d '\r' < "$tmp/hdrs" | sed -n 's/^X-Nexe-Error: //p')
    [[ "$errors" == *"spin: node spin on 127.0.0.$((victim + 1)):"*"failed"* ]]
    [[ ",$(tr -d '\r' < "$tmp/hdrs" | sed -n 's/^X-Nexe-Server: //p')," == *",127.0.0.$((victim + 1)):"* ]]
    [[ "$errors" == *"job: no output was stored"* ]]
    run zc_get results/killed.txt
    [ "$status" -ne 0 ]
}
