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
