#!/usr/bin/env bats
# ZeroCloud against a real Swift (test/cluster/start): the proxy and object-server filters of
# share/zerocloud, running build/zvm on a test system image ("tools": build/fixtures/z_interp.wasm,
# a tiny script interpreter, and a text file) - so these tests do not need python.tar.

load zerocloud_helpers

setup_file() {
    zc_start_cluster tools
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

@test "zerocloud: job parsing, manifest and report unit tests (python unittest)" {
    run env PYTHONPATH=share/zerocloud /usr/bin/python3 -m unittest discover -s share/zerocloud/tests
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "zerocloud: the walkthrough - curl POSTs a script and gets its output" {
    zc_need_zvm
    printf '#!file://tools:interp\nprint hello from zerocloud\narg 0\narg 1\n' > "$tmp/example"
    # exactly the walkthrough's command line
    run curl -s -X POST -H "X-Auth-Token: $OS_AUTH_TOKEN" -H "X-Zerovm-Execute: 1.0" \
        -H "Content-Type: application/python" --data-binary @"$tmp/example" "$OS_STORAGE_URL"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'hello from zerocloud\ninterp\n/dev/script')" ]
    zc_post / application/x-script "$tmp/example"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = script ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    [ "$(zc_hdr X-Nexe-Retcode)" = 0 ]
    [ "$(zc_hdr X-Nexe-Validation)" = 0 ]
    [ "$(zc_hdr Content-Type)" = text/plain ]
    # the accounting of the report: total time, then the node's time and its 10 counters
    [[ "$(zc_hdr X-Nexe-Cdr-Line)" =~ ^[0-9.]+,\ [0-9.]+,\ [0-9.]+\ [0-9.]+(\ [0-9]+){8}$ ]]
    [ -z "$(zc_hdr X-Nexe-Error)" ]
}

@test "zerocloud: a script sees its system image mounted at /" {
    zc_need_zvm
    printf '#!file://tools:interp\ncat /etc/motd\n' > "$tmp/s"
    zc_post / application/x-script "$tmp/s"
    [ "$code" = 200 ]
    [ "$body" = "message of the tools image" ]
}

@test "zerocloud: a script POSTed to an object reads that object as stdin" {
    zc_need_zvm
    zc_put data/words.txt "some words"
    printf '#!file://tools:interp\nupper\n' > "$tmp/s"
    zc_post /data/words.txt text/x-script "$tmp/s"
    [ "$code" = 200 ]
    [ "$body" = "SOME WORDS" ]
}

@test "zerocloud: a JSON job reads an object and writes one back, ETag from the channel's MD5" {
    zc_need_zvm
    zc_put data/in.txt "to be shouted"
    zc_mkcontainer results
    cat > "$tmp/job.json" <<'EOF'
[{"name": "shout", "exec": {"path": "file://tools:interp"},
  "devices": [{"name": "stdin", "path": "swift://~/data/in.txt"},
              {"name": "stdout", "path": "swift://~/results/out.txt", "content_type": "text/x-shout",
               "meta": {"Made-By": "zerocloud"}}]}]
EOF
    zc_post / application/json "$tmp/job.json"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    md5=$(printf 'TO BE SHOUTED' | md5sum | cut -d' ' -f1)
    [[ "$(zc_hdr X-Nexe-Etag)" == *"/dev/stdout $md5"* ]]
    run zc_get results/out.txt
    [ "$output" = "TO BE SHOUTED" ]
    zc_head results/out.txt
    [ "$(zc_hdr Etag)" = "$md5" ]
    [ "$(zc_hdr Content-Type)" = text/x-shout ]
    [ "$(zc_hdr X-Object-Meta-Made-By)" = zerocloud ]
}

@test "zerocloud: a wildcard runs one node per object, outputs named after the match" {
    zc_need_zvm
    for i in 1 2 3; do zc_put logs/day$i.log "entry $i"; done
    zc_put logs/other.txt "not matched"
    zc_mkcontainer results
    cat > "$tmp/job.json" <<'EOF'
[{"name": "up", "exec": {"path": "file://tools:interp"},
  "devices": [{"name": "stdin", "path": "swift://~/logs/day*.log"},
              {"name": "stdout", "path": "swift://~/results/day*.up"}]}]
EOF
    zc_post / application/json "$tmp/job.json"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = up-1,up-2,up-3 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok,ok,ok ]
    for i in 1 2 3; do
        run zc_get results/day$i.up
        [ "$output" = "ENTRY $i" ]
    done
}

@test "zerocloud: a bundle (gzipped tar with boot/system.map) runs its own program and files" {
    zc_need_zvm
    mkdir -p "$tmp/b/boot" "$tmp/b/bin" "$tmp/b/share"
    cp build/fixtures/z_interp.wasm "$tmp/b/bin/app"
    printf 'cat /share/note.txt\nenv GREETING\n' > "$tmp/b/share/run.txt"
    echo "note from the bundle" > "$tmp/b/share/note.txt"
    cat > "$tmp/b/boot/system.map" <<'EOF'
[{"name": "app", "exec": {"path": "bin/app", "args": "/share/run.txt", "env": {"GREETING": "hi there"}},
  "devices": [{"name": "stdout", "content_type": "text/x-app"}]}]
EOF
    tar -czf "$tmp/app.zapp" -C "$tmp/b" boot bin share
    zc_post / application/x-gzip "$tmp/app.zapp"
    [ "$code" = 200 ]
    [ "$(zc_hdr Content-Type)" = text/x-app ]
    [ "$body" = "$(printf 'note from the bundle\nhi there')" ]
    # and the same bundle as a plain tar
    tar -cf "$tmp/app.tar" -C "$tmp/b" boot bin share
    zc_post / application/x-tar "$tmp/app.tar"
    [ "$code" = 200 ]
    [ "$body" = "$(printf 'note from the bundle\nhi there')" ]
}

@test "zerocloud: a program stored in Swift, a second input streamed by the proxy, and count" {
    zc_need_zvm
    zc_mkcontainer bin
    curl -s -f -o /dev/null -X PUT -H "X-Auth-Token: $OS_AUTH_TOKEN" \
        --data-binary @build/fixtures/z_interp.wasm "$OS_STORAGE_URL/bin/interp.wasm"
    zc_put data/local.txt "read where it is stored"
    zc_put data/commands.txt "$(printf 'arg 0\nenv NODE_KIND\nupper\n')"
    zc_mkcontainer results
    cat > "$tmp/job.json" <<'JSON'
[{"name": "mixed", "exec": {"path": "swift://~/bin/interp.wasm", "args": "/dev/input",
                            "name": "interp", "env": {"NODE_KIND": "mixed"}},
  "devices": [{"name": "stdin", "path": "swift://~/data/local.txt"},
              {"name": "input", "path": "swift://~/data/commands.txt"},
              {"name": "stdout"}]},
 {"name": "many", "exec": {"path": "swift://~/bin/interp.wasm", "args": "/dev/input"},
  "devices": [{"name": "input", "path": "swift://~/data/commands.txt"},
              {"name": "stdout", "path": "swift://~/results/many-*.txt"}],
  "count": 2}]
JSON
    zc_post / application/json "$tmp/job.json"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = mixed,many-1,many-2 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok,ok,ok ]
    [ "$body" = "$(printf 'interp\nmixed\nREAD WHERE IT IS STORED')" ]
    for i in 1 2; do
        run zc_get results/many-$i.txt
        [ "$output" = "$(printf 'many-%d\n(unset)' $i)" ]
    done
}

@test "zerocloud: object names in UTF-8: placement, wildcards, outputs and headers" {
    zc_need_zvm
    zc_put "d%C3%A4t%C3%A4/na%C3%AFve1.txt" "héllo"
    zc_mkcontainer "r%C3%A9sults"
    printf '#!file://tools:interp\nupper\n' > "$tmp/s"
    zc_post "/d%C3%A4t%C3%A4/na%C3%AFve1.txt" text/plain "$tmp/s"
    [ "$code" = 200 ]
    [ "$body" = "HéLLO" ]
    cat > "$tmp/j" <<'JSON'
[{"name": "u", "exec": {"path": "file://tools:interp"},
  "devices": [{"name": "stdin", "path": "swift://~/dätä/naïve*.txt"},
              {"name": "stdout", "path": "swift://~/résults/öut*.txt"}]}]
JSON
    zc_post / application/json "$tmp/j"
    [ "$code" = 200 ]
    run zc_get "r%C3%A9sults/%C3%B6ut1.txt"
    [ "$output" = "HéLLO" ]
    # an error naming a UTF-8 object says which
    zc_post "/d%C3%A4t%C3%A4/missing-%C3%AF" text/plain "$tmp/s"
    [ "$code" = 404 ]
    [[ "$body" == *"dätä/missing-ï: object not found"* ]]
}

@test "zerocloud: megabytes stream through: a 4 MB object in, 4 MB out, byte for byte" {
    zc_need_zvm
    head -c 3000000 /dev/urandom | base64 -w 76 > "$tmp/big"
    curl -s -f -o /dev/null -X PUT -H "X-Auth-Token: $OS_AUTH_TOKEN" "$OS_STORAGE_URL/big"
    curl -s -f -o /dev/null -X PUT -H "X-Auth-Token: $OS_AUTH_TOKEN" --data-binary @"$tmp/big" \
        "$OS_STORAGE_URL/big/in"
    # stdin read where it is stored, the script streamed by the proxy, the output PUT back
    echo '[{"name": "big", "exec": {"path": "file://tools:interp", "args": "/dev/script"},
            "devices": [{"name": "script", "path": "swift://~/big/cmds"},
                        {"name": "stdin", "path": "swift://~/big/in"},
                        {"name": "stdout", "path": "swift://~/big/out"}, {"name": "stderr"}]}]' > "$tmp/j"
    zc_put big/cmds "$(printf '#!\nupper\n')"
    zc_post / application/json "$tmp/j" > /dev/null
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    tr a-z A-Z < "$tmp/big" > "$tmp/expected"
    curl -s -f -H "X-Auth-Token: $OS_AUTH_TOKEN" -o "$tmp/got" "$OS_STORAGE_URL/big/out"
    cmp "$tmp/expected" "$tmp/got"
}

@test "zerocloud: bad jobs get a 4xx that says what is wrong" {
    printf '[{"name": "a", ' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 400 ] && [[ "$body" == *"malformed JSON"* ]]

    echo '[{"name": "a", "exec": {"path": "file://tools:interp"}, "devices": [{"name": "tape"}]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 400 ] && [[ "$body" == *'"tape": unknown device'* ]]

    echo '[{"name": "a", "exec": {"path": "file://tools:interp"},
            "devices": [{"name": "stdin", "path": "swift://~/data/no-such-object"}]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 404 ] && [[ "$body" == *'swift://AUTH_test/data/no-such-object: object not found'* ]]

    echo '[{"name": "a", "exec": {"path": "file://java:java"}}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 400 ] && [[ "$body" == *'unknown system image "java"'*tools* ]]

    echo '[{"name": "a", "exec": {"path": "file://tools:interp"},
            "devices": [{"name": "stdout", "path": "swift://~/no-such-container/out"}]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 404 ] && [[ "$body" == *'no-such-container does not exist'* ]]

    printf 'print no shebang\n' > "$tmp/s"
    zc_post / text/plain "$tmp/s"
    [ "$code" = 400 ] && [[ "$body" == *shebang* ]]

    printf '#!file://tools:nothing-here\nprint x\n' > "$tmp/s"
    zc_post / text/plain "$tmp/s"
    [ "$code" = 400 ] && [[ "$body" == *'"nothing-here" not found in system image "tools"'* ]]

    printf 'not a tar at all' > "$tmp/t"
    zc_post / application/x-tar "$tmp/t"
    [ "$code" = 400 ] && [[ "$body" == *'not a readable tar'* ]]
}

@test "zerocloud: connected jobs on one object server; a cycle is 501, an unknown peer 400" {
    zc_need_zvm
    zc_put words/w1 "b a b"
    echo '[{"name": "map", "exec": {"path": "file://tools:mr", "args": "map"},
            "devices": [{"name": "stdin", "path": "swift://~/words/w*"}], "connect": ["reduce"]},
           {"name": "reduce", "exec": {"path": "file://tools:mr", "args": "reduce"},
            "devices": [{"name": "stdout"}]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 200 ] && [ "$body" = "$(printf 'a 1\nb 2')" ]
    [ "$(zc_hdr X-Nexe-System)" = "map,reduce" ]
    [ "$(zc_hdr X-Nexe-Server)" = "127.0.0.1:$ZVM_OBJECT_PORT,127.0.0.1:$ZVM_OBJECT_PORT" ]
    echo '[{"name": "a", "exec": {"path": "file://tools:mr"}, "connect": ["b"]},
           {"name": "b", "exec": {"path": "file://tools:mr"}, "connect": ["a"]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 501 ] && [[ "$body" == *'form a cycle'* ]]
    echo '[{"name": "a", "exec": {"path": "file://tools:mr"}, "connect": ["nobody"]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 400 ] && [[ "$body" == *'"nobody", which is no node of this job'* ]]
}

@test "zerocloud: jobs need credentials, and reading another account's objects is refused" {
    printf '#!file://tools:interp\nprint x\n' > "$tmp/s"
    run curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Zerovm-Execute: 1.0" \
        -H "Content-Type: text/plain" --data-binary @"$tmp/s" "$OS_STORAGE_URL"
    [ "$output" = 401 ]
    zc_put private/secret.txt "secret"
    token2=$(zc_token test2:tester2 testing2)
    echo '[{"name": "a", "exec": {"path": "file://tools:interp"},
            "devices": [{"name": "stdin", "path": "swift://AUTH_test/private/secret.txt"}]}]' > "$tmp/j"
    run curl -s -w ' %{http_code}' -X POST -H "X-Auth-Token: $token2" -H "X-Zerovm-Execute: 1.0" \
        -H "Content-Type: application/json" --data-binary @"$tmp/j" "${OS_STORAGE_URL%/AUTH_test}/AUTH_test2"
    [[ "$output" == *'you may not read this object'*' 403' ]]
}

@test "zerocloud: a failing guest gives its report in the headers, not a 5xx" {
    zc_need_zvm
    printf '#!file://tools:interp\nprint before\nexit 3\n' > "$tmp/s"
    zc_post / text/plain "$tmp/s"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Retcode)" = 3 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    [ "$body" = before ]

    printf '#!file://tools:interp\nprint about to trap\ntrap\n' > "$tmp/s"
    zc_post / text/plain "$tmp/s"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" != ok ]
    [[ "$(zc_hdr X-Nexe-Error)" == "script: "* ]]
    [ "$body" = "about to trap" ]

    # a trapped guest's swift:// outputs are not stored
    zc_mkcontainer results
    cat > "$tmp/job.json" <<'EOF'
[{"name": "t", "exec": {"path": "file://tools:interp", "args": "/dev/input"},
  "devices": [{"name": "input", "path": "swift://~/data/trap-script"},
              {"name": "stdout", "path": "swift://~/results/never.txt"}]}]
EOF
    zc_put data/trap-script "$(printf 'print partial\ntrap')"
    zc_post / application/json "$tmp/job.json"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" != ok ]
    run curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $OS_AUTH_TOKEN" "$OS_STORAGE_URL/results/never.txt"
    [ "$output" = 404 ]
}

@test "zerocloud: zvm itself failing (a system image missing on the server) is a 5xx with its report" {
    zc_need_zvm
    echo '[{"name": "a", "exec": {"path": "file://tools:interp"}, "devices": [{"name": "broken"}]}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 500 ]
    [[ "$(zc_hdr X-Nexe-Error)" == "a: zvm failed (exit code 2)"* ]]
    [[ "$(zc_hdr X-Nexe-Status)" == *no-such-image.tar* ]]
    [[ "$body" == "a: zvm failed (exit code 2)"* ]]
    # and as the program's image: the object server says which image is missing
    echo '[{"name": "b", "exec": {"path": "file://broken:prog"}}]' > "$tmp/j"
    zc_post / application/json "$tmp/j"
    [ "$code" = 500 ]
    [[ "$body" == *'system image "broken" is missing on this server'* ]]
}

@test "zerocloud: a guest that runs past zerovm_timeout is stopped and reported as a timeout" {
    zc_need_zvm
    printf '#!file://tools:interp\nprint spinning\nspin\n' > "$tmp/s"
    start=$SECONDS
    zc_post / text/plain "$tmp/s"
    [ $((SECONDS - start)) -lt 10 ]
    [ "$code" = 200 ]
    [[ "$(zc_hdr X-Nexe-Status)" == *timeout* ]]
    [[ "$(zc_hdr X-Nexe-Error)" == *timeout* ]]
}

@test "zerocloud: 20 concurrent jobs all give the right answer" {
    zc_need_zvm
    for i in $(seq 1 20); do zc_put par/in$i "job number $i"; done
    for i in $(seq 1 20); do
        printf '#!file://tools:interp\nupper\nprint  done %s\n' $i > "$tmp/s$i"
        curl -s -o "$tmp/out$i" -w '%{http_code}' -X POST -H "X-Auth-Token: $OS_AUTH_TOKEN" \
            -H "X-Zerovm-Execute: 1.0" -H "Content-Type: text/plain" --data-binary @"$tmp/s$i" \
            "$OS_STORAGE_URL/par/in$i" > "$tmp/code$i" &
    done
    wait
    for i in $(seq 1 20); do
        [ "$(cat "$tmp/code$i")" = 200 ] || { echo "job $i: $(cat "$tmp/code$i") $(cat "$tmp/out$i")"; false; }
        [ "$(cat "$tmp/out$i")" = "JOB NUMBER $i done $i" ] || { echo "job $i: $(cat "$tmp/out$i")"; false; }
    done
}


# zc_zapp DIR OUTPUT: a project whose group reads data/in.txt, writes OUTPUT, and warns on stderr
zc_zapp() {
    mkdir -p "$1"
    cat > "$1/zapp.yaml" <<YAML
meta:
  name: shouter
  Version: "0.1"
execution:
  groups:
    - name: shout
      path: file://tools:interp
      args: /run.txt
      devices:
        - name: tools
        - name: stdin
          path: swift://~/data/zin.txt
        - name: stdout
          path: swift://~/results/$2
        - name: stderr
help:
  description: "shouts data/zin.txt into results/$2"
  args: []
bundling:
  - run.txt
YAML
    printf 'upper\nwarn shouted from the zapp\n' > "$1/run.txt"
    (cd "$1" && ZPM_SYSIMAGE_DEVICES=tools "$OLDPWD/build/zpm" bundle)
}

@test "zerocloud: zpm deploy --execute runs the deployed app: object in, object out" {
    zc_need_zvm
    zc_need_zpm
    zc_put data/zin.txt "deployed and executed"
    zc_mkcontainer results
    zc_zapp "$tmp/app" deployed.txt
    run build/zpm deploy apps "$tmp/app/shouter.zapp" --execute
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"shouted from the zapp"* ]]
    run zc_get results/deployed.txt
    [ "$output" = "DEPLOYED AND EXECUTED" ]
    # and again from the deployed job description
    zc_put data/zin.txt "second run"
    run build/zpm execute --container apps
    [ "$status" -eq 0 ]
    run zc_get results/deployed.txt
    [ "$output" = "SECOND RUN" ]
}

@test "zerocloud: zpm execute POSTs a bundle: object in, object out, stderr printed" {
    zc_need_zvm
    zc_need_zpm
    zc_put data/zin.txt "executed from the bundle"
    zc_mkcontainer results
    zc_zapp "$tmp/app" executed.txt
    run build/zpm execute "$tmp/app/shouter.zapp" --summary
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"shouted from the zapp"* ]]
    run zc_get results/executed.txt
    [ "$output" = "EXECUTED FROM THE BUNDLE" ]
}

@test "zerocloud: no session directory or temp file is left behind" {
    [ -d "$ZVM_CLUSTER_DIR/srv/d1" ]
    # sessions live in the device's tmp/ (created by the first one)
    mkdir -p "$ZVM_CLUSTER_DIR/srv/d1/tmp"
    run find "$ZVM_CLUSTER_DIR/srv/d1/tmp" -mindepth 1
    [ -z "$output" ] || { echo "left: $output"; false; }
    run find "$ZC_SERVER_TMP" -mindepth 1
    [ -z "$output" ] || { echo "left: $output"; false; }
}
