#!/usr/bin/env bats
# ZeroCloud's cap on concurrent sessions: an object server running zerovm_maxpool = 1 session with
# no queue (zerovm_maxqueue = 0) answers a second job, while the first runs, with 503 "busy".

load zerocloud_helpers

setup_file() {
    ZC_MAXPOOL=1 ZC_MAXQUEUE=0 ZC_TIMEOUT=3 zc_start_cluster
}

teardown_file() {
    zc_stop_cluster
}

setup() {
    zc_setup
    zc_need_zvm
}

teardown() {
    rm -rf "$tmp"
}

@test "zerocloud-limits: past zerovm_maxpool + zerovm_maxqueue sessions, a job gets 503 busy" {
    printf '#!file://tools:interp\nspin\n' > "$tmp/spin"
    curl -s -o "$tmp/first" -w '%{http_code}' -X POST -H "X-Auth-Token: $OS_AUTH_TOKEN" \
        -H "X-Zerovm-Execute: 1.0" -H "Content-Type: text/plain" --data-binary @"$tmp/spin" \
        "$OS_STORAGE_URL" > "$tmp/first-code" &
    sleep 1                      # the first session is running (it spins for zerovm_timeout = 3 s)
    printf '#!file://tools:interp\nprint second\n' > "$tmp/second"
    zc_post / text/plain "$tmp/second"
    [ "$code" = 503 ]
    [[ "$(zc_hdr X-Nexe-Error)" == *"busy"*"retry later"* ]]
    wait
    [ "$(cat "$tmp/first-code")" = 200 ]
    # once the slot is free, jobs run again
    zc_post / text/plain "$tmp/second"
    [ "$code" = 200 ]
    [ "$body" = second ]
}
