#!/usr/bin/env bats
# zpm's python template run for real: a Swift with ZeroCloud in its pipelines (share/zerocloud)
# and the python system image (build/images/python.tar, from 'make images'; skipped without it).

load zpm_helper

setup_file() {
    image=$top/build/images/python.tar
    [ -f "$image" ] || return 0
    export ZPM_ZC_TMP=$(mktemp -d)
    cat > "$ZPM_ZC_TMP/proxy.conf" <<EOF
[filter:zerovm]
paste.filter_factory = zerocloud.proxyquery:filter_factory
zerovm_sysimage_devices = python $image
EOF
    cat > "$ZPM_ZC_TMP/object.conf" <<EOF
[filter:zerovm]
paste.filter_factory = zerocloud.objectquery:filter_factory
zerovm_path = $top/build/zvm
zerovm_sysimage_devices = python $image
zerovm_cache = $ZPM_ZC_TMP/zvm-cache
EOF
    cluster_env=$(ZVM_PROXY_CONF_EXTRA=$ZPM_ZC_TMP/proxy.conf ZVM_OBJECT_CONF_EXTRA=$ZPM_ZC_TMP/object.conf \
        ZVM_OBJECT_PIPELINE="healthcheck zerovm object-server" \
        ZVM_PROXY_PIPELINE="catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth zerovm copy dlo slo proxy-logging proxy-server" \
        PYTHONPATH=$top/share/zerocloud "$top/test/cluster/start" --dir "$ZPM_ZC_TMP/cluster") || return 1
    eval "$cluster_env"
    export ZVM_CLUSTER_DIR ST_AUTH ST_USER ST_KEY ZVM_SWIFT_URL
}

teardown_file() {
    [ -z "${ZVM_CLUSTER_DIR:-}" ] || "$top/test/cluster/stop" "$ZVM_CLUSTER_DIR"
    [ -z "${ZPM_ZC_TMP:-}" ] || rm -rf "$ZPM_ZC_TMP"
}

setup() {
    [ -n "${ZVM_CLUSTER_DIR:-}" ] || skip "no build/images/python.tar (run 'make images')"
    zpm_setup
    unset OS_AUTH_URL OS_AUTH_TOKEN OS_STORAGE_URL
}
teardown() { [ -z "${tmp:-}" ] || zpm_teardown; }

@test "zpm new, bundle, deploy --execute --summary: the python template runs on ZeroCloud" {
    new_project pyapp
    cd pyapp
    run "$ZPM" deploy pyapp pyapp.zapp --execute --summary
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "app deployed to" ]
    [ "${lines[2]}" = "Execution summary:" ]
    [[ "${lines[3]}" == "Node  Status  Retcode  NodeT"* ]]
    [[ "${lines[4]}" =~ ^main\ +ok\ +0\  ]]
    [[ "${lines[5]}" == "Total time: "* ]]
    [ "${lines[6]}" = "Hello from ZeroVM, running Python 3.11" ]
}

@test "zpm execute runs a bundle POSTed whole, and a deployed job by its container" {
    new_project pyrun
    cd pyrun
    echo 'import sys; print("args:", sys.argv[1:])' >> main.py
    # (words with spaces or commas arrive \xHH-escaped, as 2014 ZeroCloud pasted exec.args into
    # nvram as it was: whether they are unescaped is the middleware's business)
    sed -i 's|args: /main.py|args: "/main.py one two"|' zapp.yaml
    "$ZPM" bundle > /dev/null
    run "$ZPM" execute pyrun.zapp
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "args: ['one', 'two']" ]
    "$ZPM" deploy runs pyrun.zapp > /dev/null
    run "$ZPM" execute --container runs
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Hello from ZeroVM, running Python 3.11" ]
}

@test "zpm new --template mapreduce: mappers over the input container, one reducer, deploy --execute" {
    "$ZPM" new wc --template mapreduce > /dev/null
    cd wc
    grep -q '^        - reduce$' zapp.yaml
    grep -q 'path: swift://~/wc-input/\*$' zapp.yaml
    "$ZPM" bundle > /dev/null
    token=$(tempauth_token)
    url=$ZVM_SWIFT_URL/v1/AUTH_test
    curl -fsS -X PUT -H "X-Auth-Token: $token" "$url/wc-input"
    printf 'to be or not to be\n' | curl -fsS -X PUT -H "X-Auth-Token: $token" --data-binary @- "$url/wc-input/one"
    printf 'that is the question to be\n' | curl -fsS -X PUT -H "X-Auth-Token: $token" --data-binary @- "$url/wc-input/two"
    run "$ZPM" deploy wc wc.zapp --execute --summary
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[4]}" =~ ^map-1\ +ok\ +0\  ]]
    [[ "${lines[5]}" =~ ^map-2\ +ok\ +0\  ]]
    [[ "${lines[6]}" =~ ^reduce\ +ok\ +0\  ]]
    expected=$(printf 'to be or not to be\nthat is the question to be\n' | tr ' ' '\n' | LC_ALL=C sort | uniq -c | awk '{print $2, $1}')
    [ "$(printf '%s\n' "${lines[@]:8}")" = "$expected" ]
}
