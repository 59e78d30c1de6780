#!/usr/bin/env bats
# zpm against a real Keystone v3 (SQLite, uwsgi) and a Swift proxy that takes its tokens
# (test/cluster/start --keystone, once for this file: Keystone takes ~15 s to be ready).

load zpm_helper
bats_require_minimum_version 1.5.0

setup_file() {
    cluster_env=$("$BATS_TEST_DIRNAME/../cluster/start" --keystone) || return 1
    eval "$cluster_env"
    export ZVM_CLUSTER_DIR ZVM_KEYSTONE_SWIFT_URL ZVM_KEYSTONE_PORT ST_AUTH ST_USER ST_KEY
    export OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME
    export CLUSTER_ST_AUTH=$ST_AUTH
}

teardown_file() {
    [ -z "${ZVM_CLUSTER_DIR:-}" ] || "$BATS_TEST_DIRNAME/../cluster/stop" "$ZVM_CLUSTER_DIR"
}

setup() {
    zpm_setup
    # Keystone only, unless a test asks for tempauth too.
    unset ST_AUTH ST_USER ST_KEY OS_AUTH_TOKEN OS_STORAGE_URL OS_REGION_NAME ZPM_AUTH_VERSION
}
teardown() { zpm_teardown; }

# login: OS_AUTH_TOKEN and OS_STORAGE_URL for the admin project, as 'zpm auth' gives them.
login() {
    eval "$("$ZPM" auth)"
    url=$OS_STORAGE_URL
}

@test "auth 3 from OS_* prints a Keystone token and the object-store URL from the catalog" {
    run "$ZPM" auth
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" =~ ^export\ OS_AUTH_TOKEN=\'gAAAAA[A-Za-z0-9_-]+\'$ ]]
    [[ "${lines[1]}" =~ ^export\ OS_STORAGE_URL=\'$ZVM_KEYSTONE_SWIFT_URL/v1/AUTH_[0-9a-f]{32}\'$ ]]
    eval "$output"
    # the token is Keystone's: Swift's Keystone-aware proxy accepts it
    [[ "$(curl -s -o /dev/null -w '%{http_code}' -I -H "X-Auth-Token: $OS_AUTH_TOKEN" "$OS_STORAGE_URL")" == 20? ]]
}

@test "OS_REGION_NAME chooses the region's endpoint; an unknown region lists the known ones" {
    OS_REGION_NAME=RegionTwo run "$ZPM" auth
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" == "export OS_STORAGE_URL='http://localhost:"* ]]
    run "$ZPM" auth --os-region-name RegionOne
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" == "export OS_STORAGE_URL='http://127.0.0.1:"* ]]
    OS_REGION_NAME=Mars run "$ZPM" auth
    [ "$status" -eq 1 ]
    [[ "$output" == *"no public object-store endpoint in region 'Mars' (it has: RegionOne, RegionTwo)"* ]]
    # the interface is chosen too: there is an internal endpoint in RegionOne only
    run "$ZPM" auth --os-interface internal --os-region-name RegionTwo
    [ "$status" -eq 1 ]
    run "$ZPM" auth --os-interface internal
    [ "$status" -eq 0 ]
}

@test "a wrong password is refused by Keystone: HTTP 401, exit 1" {
    run --separate-stderr "$ZPM" auth --os-password wrong
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == *"auth 3 at $OS_AUTH_URL refused user 'admin' in project 'admin': HTTP 401 Unauthorized"* ]]
    OS_PROJECT_NAME=nosuch run "$ZPM" auth
    [ "$status" -eq 1 ]
    [[ "$output" == *"HTTP 401"* ]]
}

@test "auth 3 from command-line options alone, with the auth URL with or without /v3" {
    env -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD -u OS_PROJECT_NAME \
        "$ZPM" auth --os-auth-url "http://127.0.0.1:$ZVM_KEYSTONE_PORT" --os-username admin \
        --os-password "$OS_PASSWORD" --os-project-name admin > "$tmp/out"
    grep -q "^export OS_STORAGE_URL='$ZVM_KEYSTONE_SWIFT_URL/v1/AUTH_" "$tmp/out"
    run "$ZPM" auth --os-auth-url "http://127.0.0.1:$ZVM_KEYSTONE_PORT/v3/"
    [ "$status" -eq 0 ]
}

@test "the version follows what is given: 1.0 when both are complete, or --auth-version" {
    ST_AUTH=$CLUSTER_ST_AUTH ST_USER=test:tester ST_KEY=testing run "$ZPM" auth
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "export OS_AUTH_TOKEN='AUTH_tk"* ]]
    ST_AUTH=$CLUSTER_ST_AUTH ST_USER=test:tester ST_KEY=testing run "$ZPM" auth -V 3
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "export OS_AUTH_TOKEN='gAAAAA"* ]]
    run "$ZPM" auth --auth-version 2.0
    [ "$status" -eq 1 ]
    [[ "$output" == *"Keystone removed its v2.0 API in 2018"* ]]
    # and Keystone itself has no v2.0 any more
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$ZVM_KEYSTONE_PORT/v2.0/tokens")" = 404 ]
}

@test "deploy with Keystone credentials; the objects read back with the token" {
    new_project ks
    run "$ZPM" deploy ksapp ks/ks.zapp
    [ "$status" -eq 0 ]
    login
    [ "${lines[1]}" = "  $url/ksapp/index.html" ]
    curl -fsS -H "X-Auth-Token: $OS_AUTH_TOKEN" "$url/ksapp/boot/system.map" -o "$tmp/map.json"
    account=${url##*/}
    [ "$(json_get "$tmp/map.json" 'j[0]["devices"][-1]["path"]')" = "swift://$account/ksapp/ks.zapp" ]
    curl -fsS -H "X-Auth-Token: $OS_AUTH_TOKEN" "$url/ksapp/ks.zapp" | cmp - <(gzip -dc ks/ks.zapp)
    # the page knows where Keystone is, and nothing secret
    curl -fsS -H "X-Auth-Token: $OS_AUTH_TOKEN" "$url/ksapp/index.html" -o "$tmp/index.html"
    grep -q '"version":"3"' "$tmp/index.html"
    ! grep -q "$OS_PASSWORD" "$tmp/index.html"
    ! grep -q "$OS_AUTH_TOKEN" "$tmp/index.html"
}

@test "a Keystone token that is not valid is refused by the proxy: 401" {
    new_project bad
    login
    OS_AUTH_TOKEN=gAAAAABnotatoken run "$ZPM" deploy never bad/bad.zapp --os-storage-url "$url" \
        --os-auth-token gAAAAABnotatoken
    [ "$status" -eq 1 ]
    [[ "$output" == *"HTTP 401 Unauthorized"*"token is invalid or expired"* ]]
}

@test "execute through the Keystone-aware proxy sends a well-formed job POST" {
    new_project kx
    run "$ZPM" execute kx/kx.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"without running the job"* || "$output" == *"HTTP 4"* ]]
    line=$(grep ' POST /v1/AUTH_' "$ZVM_CLUSTER_DIR/log/proxy-keystone.log" | tail -1)
    [[ "$line" == *"X-Zerovm-Execute:%201.0"* ]]
    [[ "$line" == *"Content-Type:%20application/x-gzip"* ]]
}
