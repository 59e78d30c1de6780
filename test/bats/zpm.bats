#!/usr/bin/env bats
# zpm without a cluster: help, version, usage errors, new, bundle, zapp.yaml checking, and the
# credential errors that need no server.

load zpm_helper

setup() {
    zpm_setup
    # No credentials leak in from the caller's environment.
    unset ST_AUTH ST_USER ST_KEY OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_TENANT_NAME \
        OS_AUTH_TOKEN OS_STORAGE_URL OS_REGION_NAME ZPM_AUTH_VERSION
}
teardown() { zpm_teardown; }

# write_yaml TEXT: a project directory holding zapp.yaml with TEXT and a main.py.
write_yaml() {
    mkdir -p "$tmp/p"
    printf '%s\n' "$1" > "$tmp/p/zapp.yaml"
    echo 'print(1)' > "$tmp/p/main.py"
    cd "$tmp/p"
}

good_yaml='meta:
  name: demo
execution:
  groups:
    - name: main
      path: file://python:python
      args: /main.py
      devices:
        - name: python
        - name: stdout
bundling:
  - main.py'

@test "zpm version and --version print the version" {
    run "$ZPM" version
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^zpm\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run "$ZPM" --version
    [ "$status" -eq 0 ]
    [[ "$output" == "zpm "* ]]
}

@test "zpm help lists every command; help COMMAND and COMMAND --help explain each" {
    run "$ZPM" help
    [ "$status" -eq 0 ]
    for c in new bundle deploy execute auth version help; do
        [[ "$output" == *"  $c "* ]]
    done
    for c in new bundle deploy execute auth version; do
        run "$ZPM" help $c
        [ "$status" -eq 0 ]
        [[ "$output" == "usage: zpm $c"* ]]
        run "$ZPM" $c --help
        [ "$status" -eq 0 ]
        [[ "$output" == "usage: zpm $c"* ]]
    done
}

@test "usage errors exit 2 and say what to do" {
    run "$ZPM"
    [ "$status" -eq 2 ]
    run "$ZPM" frobnicate
    [ "$status" -eq 2 ]
    [[ "$output" == *"no command 'frobnicate'"* ]]
    [[ "$output" == *"zpm help"* ]]
    run "$ZPM" help frobnicate
    [ "$status" -eq 2 ]
    run "$ZPM" bundle --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown option '--bogus'"* ]]
    run "$ZPM" deploy onlyone
    [ "$status" -eq 2 ]
    [[ "$output" == *"TARGET"* ]]
    run "$ZPM" execute
    [ "$status" -eq 2 ]
    run "$ZPM" execute a.zapp --container c
    [ "$status" -eq 2 ]
    run "$ZPM" deploy c x.zapp --summary
    [ "$status" -eq 2 ]
    run "$ZPM" new a b
    [ "$status" -eq 2 ]
    run "$ZPM" new --template nosuch x
    [ "$status" -eq 2 ]
    [[ "$output" == *"no template 'nosuch'"* ]]
    run "$ZPM" auth --user
    [ "$status" -eq 2 ]
    [[ "$output" == *"--user needs a value"* ]]
}

@test "zpm new writes zapp.yaml named after the directory, and the template's files" {
    run "$ZPM" new myapp
    [ "$status" -eq 0 ]
    [ -f myapp/zapp.yaml ] && [ -f myapp/main.py ]
    [ ! -e myapp/index.html.tmpl ]
    grep -q '^  name: "myapp"$' myapp/zapp.yaml
    ! grep -q '{{' myapp/zapp.yaml
    ! grep -q '^ui:' myapp/zapp.yaml
    # and in the current directory by default
    mkdir here && cd here
    run "$ZPM" new
    [ "$status" -eq 0 ]
    grep -q '^  name: "here"$' zapp.yaml
}

@test "zpm new --with-ui adds the UI template and lists it in zapp.yaml" {
    run "$ZPM" new web --with-ui
    [ "$status" -eq 0 ]
    for f in index.html.tmpl style.css zerocloud.js; do
        [ -f web/$f ]
        grep -q "^  - $f\$" web/zapp.yaml
    done
    run "$ZPM" new --list
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'mapreduce\npython')" ]
}

@test "zpm new never overwrites: a clear error naming the file, nothing changed" {
    mkdir app
    echo 'mine' > app/main.py
    run "$ZPM" new app
    [ "$status" -eq 1 ]
    [[ "$output" == *"app/main.py already exists"* ]]
    [ "$(cat app/main.py)" = mine ]
    [ ! -e app/zapp.yaml ]      # all or nothing
    touch afile
    run "$ZPM" new afile
    [ "$status" -eq 1 ]
    [[ "$output" == *"not a directory"* ]]
}

@test "the new project bundles as it is: system.map holds the job ZeroCloud expects" {
    "$ZPM" new hello --with-ui > /dev/null
    cd hello
    run "$ZPM" bundle
    [ "$status" -eq 0 ]
    [[ "$output" == "created $tmp/hello/hello.zapp" ]]
    run tar tzf hello.zapp
    [ "$output" = "boot/system.map
zapp.yaml
main.py
index.html.tmpl
style.css
zerocloud.js" ]
    tar xzf hello.zapp -C "$tmp" boot/system.map
    [ "$(json_get "$tmp/boot/system.map" 'len(j)')" = 1 ]
    [ "$(json_get "$tmp/boot/system.map" 'j[0]["name"]')" = main ]
    [ "$(json_get "$tmp/boot/system.map" 'j[0]["exec"]["path"]')" = file://python:python ]
    [ "$(json_get "$tmp/boot/system.map" 'j[0]["exec"]["name"]')" = python ]
    [ "$(json_get "$tmp/boot/system.map" 'j[0]["exec"]["args"]')" = /main.py ]
    [ "$(json_get "$tmp/boot/system.map" '[d["name"] for d in j[0]["devices"]]')" = "['python', 'stdout']" ]
    [ "$(json_get "$tmp/boot/system.map" 'sorted(j[0])')" = "['devices', 'exec', 'name']" ]
}

@test "zpm bundle finds zapp.yaml upwards and is byte-identical for the same inputs" {
    new_project app
    cd app
    sum1=$(md5sum < app.zapp)
    mkdir -p deep/er && cd deep/er
    sleep 1.1; touch ../../main.py     # a new mtime is not a new input
    run "$ZPM" bundle
    [ "$status" -eq 0 ]
    [[ "$output" == "created $tmp/app/app.zapp" ]]
    [ "$(md5sum < ../../app.zapp)" = "$sum1" ]
    # a changed file is a different bundle
    echo '# more' >> ../../main.py
    "$ZPM" bundle > /dev/null
    [ "$(md5sum < ../../app.zapp)" != "$sum1" ]
    # owner 0 and mtime 0 in the tar, no timestamp in the gzip header
    tar tzvf ../../app.zapp | grep -q '0/0 .* 1970-01-01 00:00 main.py'
    [ "$(od -An -tx1 -j4 -N4 ../../app.zapp | tr -d ' ')" = 00000000 ]
}

@test "zpm bundle with no zapp.yaml anywhere above says so" {
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"no zapp.yaml in $tmp or any directory above it"* ]]
    [[ "$output" == *"zpm new"* ]]
}

@test "bad YAML is reported with its line and column, and no bundle is written" {
    write_yaml 'meta:
  name: demo
execution:
  groups: [ {name: main
bundling: []'
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"$tmp/p/zapp.yaml:5:"*"invalid YAML"* ]]
    [ ! -e demo.zapp ]
    write_yaml 'meta:
  name: demo
	bad: tab'
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" =~ zapp\.yaml:3:[0-9]+:\ invalid\ YAML ]]
}

@test "missing keys are named with where they were expected" {
    write_yaml 'execution:
  groups: []'
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:1:1: zapp.yaml: missing key 'meta'"* ]]
    write_yaml 'meta:
  Version: 1
execution: {}'
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:2:3: meta: missing key 'name'"* ]]
    write_yaml "${good_yaml/      path: file:\/\/python:python
/}"
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:5:7: group 'main': missing key 'path'"* ]]
}

@test "wrong-typed keys are reported at the value's line and column" {
    write_yaml "${good_yaml/      devices:/      devices: stdout
      x:}"
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:8:16: group 'main'.devices must be a list, not a scalar"* ]]
    write_yaml 'meta: [demo]
execution: {}'
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:1:7: zapp.yaml.meta must be a mapping, not a list"* ]]
    write_yaml "${good_yaml}
ui: index.html"
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:13:5: zapp.yaml.ui must be a list, not a scalar"* ]]
    write_yaml "${good_yaml/args: \/main.py/count: many}"
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:7:14: group 'main': count must be an integer >= 1"* ]]
}

@test "unknown device names are refused; the group's system image is a device" {
    write_yaml "$good_yaml"
    sed -i 's/- name: stdout/- name: printer/' zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:10:17: group 'main': unknown device 'printer'"* ]]
    write_yaml "$good_yaml"
    sed -i 's/- name: python/- name: lua/' zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"unknown device 'lua'"* ]]
    # a system image the cluster offers, declared as ZeroCloud's zerovm_sysimage_devices
    ZPM_SYSIMAGE_DEVICES=ruby,lua run "$ZPM" bundle
    [ "$status" -eq 0 ]
}

@test "bad paths, group names, connections and quoting are refused" {
    write_yaml "$good_yaml"
    sed -i 's|path: file://python:python|path: python|' zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:6:13: group 'main': path 'python' must be file://IMAGE:PROGRAM"* ]]
    write_yaml "$good_yaml"
    sed -i 's/name: main/name: my group/' zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"execution.groups[0].name 'my group': use letters, digits"* ]]
    write_yaml "$good_yaml"
    sed -i 's/^      devices:/      connect: [reducer]\n      devices:/' zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:8:17: group 'main' connects to 'reducer', which is not a group"* ]]
    write_yaml "$good_yaml"
    sed -i "s|args: /main.py|args: \"/main.py 'unclosed\"|" zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"zapp.yaml:7:13: group 'main': args: unterminated single quote"* ]]
}

@test "args are split as a shell would and escaped as nvram wants; env goes under exec" {
    write_yaml "$good_yaml"
    sed -i 's|args: /main.py|args: '\''/main.py "two words" a,b back\\\\slash'\''\n      env: {LANG: C, DEPTH: 3}|' zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 0 ]
    tar xzf demo.zapp boot/system.map
    [ "$(json_get boot/system.map 'j[0]["exec"]["args"]')" = '/main.py two\x20words a\x2cb back\x5cslash' ]
    [ "$(json_get boot/system.map 'j[0]["exec"]["env"]')" = "{'LANG': 'C', 'DEPTH': '3'}" ]
    [ "$(json_get boot/system.map '"args" in j[0] or "env" in j[0] or "path" in j[0]')" = False ]
}

@test "several groups keep their order, count and connect; swift:// programs get their object name" {
    write_yaml 'meta: {name: mr}
execution:
  groups:
    - name: map
      path: file://python:python
      args: /map.py
      count: 3
      connect: [reduce]
      devices: [{name: python}, {name: input, path: "swift://~/data/*.txt"}]
    - name: reduce
      path: swift://~/bin/tools/reduce.wasm
      devices: [{name: stdout}]
bundling: [main.py]'
    run "$ZPM" bundle
    [ "$status" -eq 0 ]
    tar xzf mr.zapp boot/system.map
    [ "$(json_get boot/system.map '[g["name"] for g in j]')" = "['map', 'reduce']" ]
    [ "$(json_get boot/system.map 'j[0]["count"]')" = 3 ]
    [ "$(json_get boot/system.map 'j[0]["connect"]')" = "['reduce']" ]
    [ "$(json_get boot/system.map 'j[0]["devices"][1]["path"]')" = 'swift://~/data/*.txt' ]
    [ "$(json_get boot/system.map 'j[1]["exec"]["name"]')" = tools/reduce.wasm ]
    [ "$(json_get boot/system.map 'j[1]["exec"]["args"]')" = "" ]
}

@test "a glob that matches nothing is a warning; nothing matched at all is an error" {
    write_yaml "$good_yaml"
    echo "  - 'docs/*.md'" >> zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 0 ]
    [[ "$output" == *"warning: pattern 'docs/*.md' in section 'bundling' matched no files"* ]]
    [ -f demo.zapp ]
    rm demo.zapp
    sed -i "s/- main.py/- '*.wasm'/" zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"none of the patterns in the 'bundling' and 'ui' sections"* ]]
    [ ! -e demo.zapp ]
}

@test "globs take directories whole, never the bundle itself nor paths outside the project" {
    write_yaml "$good_yaml"
    sed -i "s/- main.py/- '*'/" zapp.yaml
    mkdir -p lib/sub && echo a > lib/sub/a.py && echo b > lib/b.py
    "$ZPM" bundle > /dev/null
    run "$ZPM" bundle
    [ "$status" -eq 0 ]
    run tar tzf demo.zapp
    [ "$output" = "boot/system.map
zapp.yaml
lib/b.py
lib/sub/a.py
main.py" ]
    sed -i "s/- '\*'/- ..\/secret/" zapp.yaml
    run "$ZPM" bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"leaves the project directory"* ]]
}

@test "deploy and execute refuse a file that is not a bundle, before any login" {
    echo 'not a zapp' > bad.zapp
    ST_AUTH=http://127.0.0.1:1/auth/v1.0 ST_USER=a ST_KEY=b run "$ZPM" deploy c bad.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"bad.zapp is not a .zapp"* ]]
    run "$ZPM" execute bad.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"bad.zapp is not a .zapp"* ]]
    run "$ZPM" execute missing.zapp
    [ "$status" -eq 1 ]
    [[ "$output" == *"missing.zapp"* ]]
}

@test "missing credentials are named, for both auth versions" {
    run "$ZPM" auth
    [ "$status" -eq 1 ]
    [[ "$output" == *"no credentials: auth 1.0 needs ST_AUTH, ST_USER and ST_KEY"* ]]
    [[ "$output" == *"auth 3 needs OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME"* ]]
    ST_AUTH=http://127.0.0.1:1/auth/v1.0 ST_USER=test:tester run "$ZPM" auth
    [ "$status" -eq 1 ]
    [[ "$output" == *"incomplete credentials for auth 1.0: missing ST_KEY (--key)"* ]]
    OS_AUTH_URL=http://127.0.0.1:1/v3 OS_PASSWORD=x run "$ZPM" auth
    [ "$status" -eq 1 ]
    [[ "$output" == *"missing OS_USERNAME (--os-username), OS_PROJECT_NAME (--os-project-name)"* ]]
    run "$ZPM" auth -V 3 --os-auth-url http://127.0.0.1:1/v3
    [ "$status" -eq 1 ]
    [[ "$output" == *"auth 3 needs OS_USERNAME"* ]]
    run "$ZPM" deploy c x.zapp --os-auth-token abc
    [ "$status" -eq 1 ]
}

@test "auth 2.0 gets a clear message: Keystone removed it in 2018" {
    run "$ZPM" auth --auth-version 2.0 --os-auth-url http://127.0.0.1:1/v2.0 --os-username u \
        --os-password p --os-project-name x
    [ "$status" -eq 1 ]
    [[ "$output" == *"auth 2.0 is not supported: Keystone removed its v2.0 API in 2018"*"use auth 3"* ]]
    run "$ZPM" auth --os-auth-url http://127.0.0.1:1/v2.0 --os-username u --os-password p --os-project-name x
    [ "$status" -eq 1 ]
    [[ "$output" == *"Keystone v2.0 URL"*"use its /v3 URL"* ]]
    run "$ZPM" auth -V 7 -A http://x -U u -K k
    [ "$status" -eq 1 ]
    [[ "$output" == *"unknown auth version '7'"* ]]
}

@test "an unreachable auth URL is an error after the retries, naming the URL" {
    ZPM_RETRIES=2 run "$ZPM" auth -A http://127.0.0.1:1/auth/v1.0 -U test:tester -K testing
    [ "$status" -eq 1 ]
    [[ "$output" == *"auth 1.0: cannot reach the auth URL: GET http://127.0.0.1:1/auth/v1.0"* ]]
    [[ "$output" == *"(3 attempts)"* ]]
    [[ "$output" == *"check the URL and that the server is running"* ]]
    ZPM_RETRIES=0 run "$ZPM" auth --os-auth-url http://127.0.0.1:1/v3 --os-username u --os-password p \
        --os-project-name x
    [ "$status" -eq 1 ]
    [[ "$output" == *"auth 3: cannot reach Keystone: POST http://127.0.0.1:1/v3/auth/tokens"* ]]
}

@test "zpm finds its templates where make install puts them, or in ZPM_TEMPLATE_DIR" {
    # the installed layout: PREFIX/bin/zpm and PREFIX/share/zvm/zapp/templates
    mkdir -p prefix/bin prefix/share/zvm
    cp "$ZPM" prefix/bin/zpm
    cp -R "$top/share/zapp" prefix/share/zvm/
    run prefix/bin/zpm new inst
    [ "$status" -eq 0 ]
    [ -f inst/zapp.yaml ] && [ -f inst/main.py ]
    # an explicit directory wins; a missing one is a clear error
    mkdir -p mine/python
    printf 'meta: {name: "{{ name }}"}\n# mine\n{{ ui }}' > mine/python/zapp.yaml
    ZPM_TEMPLATE_DIR=$tmp/mine run prefix/bin/zpm new own
    [ "$status" -eq 0 ]
    grep -q '# mine' own/zapp.yaml
    rm -r prefix/share
    run prefix/bin/zpm new none
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot find the zapp templates"*"ZPM_TEMPLATE_DIR"* ]]
}
