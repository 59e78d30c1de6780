#!/usr/bin/env bats
# zpm against a real OpenStack Swift with tempauth (test/cluster/start, once for this file):
# auth 1.0, deploy checked by reading the objects back, execute's request and errors.

load zpm_helper
bats_require_minimum_version 1.5.0

setup_file() {
    cluster_env=$("$BATS_TEST_DIRNAME/../cluster/start") || return 1
    eval "$cluster_env"
    export ZVM_CLUSTER_DIR ST_AUTH ST_USER ST_KEY ZVM_SWIFT_URL
}

teardown_file() {
    [ -z "${ZVM_CLUSTER_DIR:-}" ] || "$BATS_TEST_DIRNAME/../cluster/stop" "$ZVM_CLUSTER_DIR"
}

setup() {
    zpm_setup
    unset OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_AUTH_TOKEN OS_STORAGE_URL ZPM_AUTH_VERSION
    storage=$ZVM_SWIFT_URL/v1/AUTH_test
    token=$(tempauth_token)
}
teardown() { zpm_teardown; }

# swift_get PATH [CURL ARGS...]: an object or listing of the test account, as the server has it.
swift_get() {
    local path=$1
    shift
    curl -fsS -H "X-Auth-Token: $token" "$@" "$storage/$path"
}

@test "auth 1.0 from ST_AUTH/ST_USER/ST_KEY prints exports a shell can eval" {
    run "$ZPM" auth
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" =~ ^export\ OS_AUTH_TOKEN=\'AUTH_tk[0-9a-f]+\'$ ]]
    [ "${lines[1]}" = "export OS_STORAGE_URL='$storage'" ]
    eval "$output"
    # the token works for curl, as ZeroCloud users used it
    [[ "$(curl -s -o /dev/null -w '%{http_code}' -I -H "X-Auth-Token: $OS_AUTH_TOKEN" "$OS_STORAGE_URL")" == 20? ]]
}

@test "auth options on the command line win over the environment" {
    ST_KEY=wrong run "$ZPM" auth --auth "$ST_AUTH" --user test:tester --key testing
    [ "$status" -eq 0 ]
    ST_KEY=wrong run "$ZPM" auth -A "$ST_AUTH" -U test2:tester2 -K testing2
    [ "$status" -eq 0 ]
    [[ "$output" == *"export OS_STORAGE_URL='$ZVM_SWIFT_URL/v1/AUTH_test2'"* ]]
    # a partial group on the command line is completed from the environment
    run "$ZPM" auth --key testing
    [ "$status" -eq 0 ]
}

@test "a wrong key is refused: HTTP 401, exit 1, nothing printed on stdout" {
    run --separate-stderr "$ZPM" auth --key wrong
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == *"auth 1.0 at $ST_AUTH refused user 'test:tester': HTTP 401 Unauthorized"* ]]
    [[ "$stderr" == *"check the user and key"* ]]
}

@test "deploy uploads the tar, the rendered UI and system.map, as read back from Swift" {
    new_project hello
    cd hello
    run "$ZPM" deploy web hello.zapp
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "app deployed to" ]
    [ "${lines[1]}" = "  $storage/web/index.html" ]
    run swift_get web
    [ "$output" = "boot/system.map
hello.zapp
index.html
style.css
zerocloud.js" ]
    # the tar, uncompressed, byte for byte, as application/x-tar
    swift_get web/hello.zapp -o "$tmp/got.tar"
    gzip -dc hello.zapp | cmp - "$tmp/got.tar"
    swift_get web/hello.zapp -I | tr -d '\r' | grep -qi '^content-type: application/x-tar$'
    # the job, with the image device pointing at that tar
    swift_get web/boot/system.map -o "$tmp/map.json"
    swift_get web/boot/system.map -I | tr -d '\r' | grep -qi '^content-type: application/json$'
    [ "$(json_get "$tmp/map.json" 'j[0]["devices"][-1]')" = \
      "{'name': 'image', 'path': 'swift://AUTH_test/web/hello.zapp'}" ]
    [ "$(json_get "$tmp/map.json" 'j[0]["exec"]["path"]')" = file://python:python ]
    # the UI: the template rendered without its .tmpl, the other files as they are
    swift_get web/index.html -o "$tmp/index.html"
    swift_get web/index.html -I | tr -d '\r' | grep -qi '^content-type: text/html'
    ! grep -q '{{' "$tmp/index.html"
    grep -q '<h1>hello</h1>' "$tmp/index.html"
    grep -q "\"storageUrl\":\"${storage//\//\\\\/}\"" "$tmp/index.html"
    swift_get web/zerocloud.js | cmp - zerocloud.js
    # no credentials are embedded in what was deployed
    ! grep -q testing "$tmp/index.html"
    ! grep -q "$token" "$tmp/index.html"
}

@test "deploy refuses a non-empty container without --force, and deploys with it" {
    new_project app
    cd app
    "$ZPM" deploy busy app.zapp > /dev/null
    before=$(swift_get busy/boot/system.map -I | tr -d '\r' | grep -i '^etag:')
    run "$ZPM" deploy busy app.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"container 'busy' is not empty (5 objects)"*"--force"* ]]
    echo 'print(2)' >> main.py
    "$ZPM" bundle > /dev/null
    run "$ZPM" deploy busy app.zapp --force
    [ "$status" -eq 0 ]
    after=$(swift_get busy/boot/system.map -I | tr -d '\r' | grep -i '^etag:')
    [ "$before" = "$after" ]                       # the same job...
    swift_get busy/app.zapp | tar xO main.py | grep -q 'print(2)'   # ...with the new files
}

@test "deploy into CONTAINER/PREFIX puts the app under the prefix" {
    new_project sub
    cd sub
    run "$ZPM" deploy apps/v1 sub.zapp
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "  $storage/apps/v1/index.html" ]
    swift_get apps/v1/boot/system.map -o "$tmp/map.json"
    [ "$(json_get "$tmp/map.json" 'j[0]["devices"][-1]["path"]')" = swift://AUTH_test/apps/v1/sub.zapp ]
}

@test "an invalid token is refused with 401, and nothing is created" {
    new_project tok
    OS_AUTH_TOKEN=AUTH_tkbogus OS_STORAGE_URL=$storage run "$ZPM" deploy never tok/tok.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"HTTP 401 Unauthorized"*"token is invalid or expired"* ]]
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" "$storage/never")" = 404 ]
    run "$ZPM" execute tok/tok.zapp --os-auth-token AUTH_tkbogus --os-storage-url "$storage"
    [ "$status" -eq 1 ]
    [[ "$output" == *"HTTP 401 Unauthorized"* ]]
}

@test "eval \"\$(zpm auth)\" is enough for the next commands" {
    new_project ev
    eval "$("$ZPM" auth)"
    # the token and storage URL are used as they are, whatever the environment's credentials say
    ST_KEY=wrong run "$ZPM" deploy evc ev/ev.zapp
    [ "$status" -eq 0 ]
    swift_get evc/boot/system.map > /dev/null
    # credentials given on the command line log in again
    run "$ZPM" deploy evc2 ev/ev.zapp -A "$ST_AUTH" -U test:tester -K wrong
    [ "$status" -eq 1 ]
    [[ "$output" == *"HTTP 401"* ]]
}

@test "a failed deploy removes what it uploaded and does not claim the app deployed" {
    new_project broken
    cd broken
    echo '<p>{{ password }}</p>' >> index.html.tmpl
    "$ZPM" bundle > /dev/null
    run "$ZPM" deploy half broken.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"broken.zapp:index.html.tmpl:"*"unknown template variable 'password'"* ]]
    [[ "$output" == *"removed the 1 object it had uploaded; the app is not deployed"* ]]
    [[ "$output" != *"app deployed"* ]]
    [ -z "$(swift_get half)" ]
}

@test "a user without access to the container gets the server's 403" {
    new_project ro
    ST_USER=test:reader ST_KEY=reading run "$ZPM" deploy roc ro/ro.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"HEAD $storage/roc: HTTP 403 Forbidden; the user may not do this here"* ]]
    [[ "$output" != *"app deployed"* ]]
}

@test "execute POSTs the bundle with X-Zerovm-Execute; a Swift without ZeroCloud is an error" {
    new_project run1
    size=$(stat -c %s run1/run1.zapp)
    run --separate-stderr "$ZPM" execute run1/run1.zapp
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == *"POST $storage answered HTTP 204 without running the job (no X-Nexe-* headers)"* ]]
    # what reached the proxy: the method, the account path and the headers ZeroCloud reads
    line=$(grep ' POST /v1/AUTH_test HTTP/1.0 ' "$ZVM_CLUSTER_DIR/log/proxy.log" | tail -1)
    [[ "$line" == *"X-Zerovm-Execute:%201.0"* ]]
    [[ "$line" == *"Content-Type:%20application/x-gzip"* ]]
    [[ "$line" == *"Content-Length:%20$size"* ]]
    [[ "$line" == *"X-Auth-Token:%20AUTH_tk"* ]]
}

@test "execute --container POSTs the deployed job as JSON" {
    new_project run2
    "$ZPM" deploy jobs run2/run2.zapp > /dev/null
    run "$ZPM" execute --container jobs --summary
    [ "$status" -eq 1 ]
    line=$(grep ' POST /v1/AUTH_test HTTP/1.0 ' "$ZVM_CLUSTER_DIR/log/proxy.log" | tail -1)
    [[ "$line" == *"X-Zerovm-Execute:%201.0"* ]]
    [[ "$line" == *"Content-Type:%20application/json"* ]]
    len=$(swift_get jobs/boot/system.map | wc -c)
    [[ "$line" == *"Content-Length:%20$len"* ]]
    # a container with no app
    run "$ZPM" execute --container nothing-here
    [ "$status" -eq 1 ]
    [[ "$output" == *"nothing-here/boot/system.map not found"*"HTTP 404"* ]]
}

@test "deploy --execute deploys, then reports the execute error with a non-zero exit" {
    new_project run3
    run "$ZPM" deploy both run3/run3.zapp --execute
    [ "$status" -eq 1 ]
    [[ "$output" == *"app deployed to"* ]]
    [[ "$output" == *"without running the job"* ]]
}

@test "an HTTP error from execute is shown with its status and body" {
    new_project run4
    ST_USER=test:reader ST_KEY=reading run --separate-stderr "$ZPM" execute run4/run4.zapp
    [ "$status" -eq 1 ]
    [[ "$stderr" == "zpm: execute: POST $storage: HTTP 403 Forbidden: <html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>" ]]
}

@test "uploads show a progress bar on a terminal, and none otherwise" {
    new_project bar
    run --separate-stderr "$ZPM" deploy quiet bar/bar.zapp
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    # under a pseudo-terminal (script(1)), stderr gets the bar
    run script -qec "'$ZPM' deploy loud bar/bar.zapp" /dev/null
    [ "$status" -eq 0 ]
    [[ "$output" == *"loud/bar.zapp"*"100%"* ]]
    [[ "$output" == *"loud/boot/system.map"*"100%"* ]]
}

@test "a storage URL that does not answer is retried, then reported" {
    new_project gone
    ZPM_RETRIES=1 OS_AUTH_TOKEN=x OS_STORAGE_URL=http://127.0.0.1:1/v1/AUTH_test run "$ZPM" deploy c gone/gone.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"HEAD http://127.0.0.1:1/v1/AUTH_test/c:"*"(2 attempts)"* ]]
}

@test "a ui glob of '*' takes the project's files, never zapp.yaml or a second boot/system.map" {
    "$ZPM" new "$tmp/star" > /dev/null
    cd "$tmp/star"
    printf 'ui:\n  - "*"\n' >> zapp.yaml
    "$ZPM" bundle > /dev/null
    run "$ZPM" deploy star star.zapp
    [ "$status" -eq 0 ]
    run swift_get star
    [ "$output" = "boot/system.map
main.py
star.zapp" ]
    swift_get star/boot/system.map -o "$tmp/map.json"
    [ "$(json_get "$tmp/map.json" 'j[0]["devices"][-1]["name"]')" = image ]
}

# Last in this file: it stops the object server.
@test "a 5xx answer is retried with backoff, then reported, and nothing stays deployed" {
    new_project down
    kill "$(awk '$1 == "object" {print $2}' "$ZVM_CLUSTER_DIR/pids")"
    sleep 0.3
    ZPM_RETRIES=2 run "$ZPM" deploy downc down/down.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot upload downc/down.zapp"*"HTTP 503 Service Unavailable"* ]]
    [[ "$output" == *"the app is not deployed"* ]]
    [[ "$output" != *"app deployed to"* ]]
    # three PUTs of the tar reached the proxy: the first try and two retries
    [ "$(grep -c ' PUT /v1/AUTH_test/downc/down.zapp ' "$ZVM_CLUSTER_DIR/log/proxy.log")" -eq 3 ]
}
