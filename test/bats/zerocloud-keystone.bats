#!/usr/bin/env bats
# ZeroCloud behind Keystone (authtoken + keystoneauth instead of tempauth): the same filter, the
# caller's Keystone identity authorising every read and write the job makes.

load zerocloud_helpers

setup_file() {
    ZC_KEYSTONE=1 zc_start_cluster
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

@test "zerocloud-keystone: eval \$(zpm auth) with Keystone v3, then a job on an object" {
    eval "$(env -u ST_AUTH -u ST_USER -u ST_KEY build/zpm auth)"
    [[ "$OS_STORAGE_URL" == "$ZVM_KEYSTONE_SWIFT_URL/v1/AUTH_"* ]]
    zc_put ks/in.txt "keystone user data"
    printf '#!file://tools:interp\nprint via keystone\nupper\n' > "$tmp/s"
    zc_post /ks/in.txt text/plain "$tmp/s"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    [ "$body" = "$(printf 'via keystone\nKEYSTONE USER DATA')" ]
    # an invalid token is refused before anything runs
    OS_AUTH_TOKEN=not-a-token zc_post / text/plain "$tmp/s"
    [ "$code" = 401 ]
}
