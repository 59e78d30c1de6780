#!/usr/bin/env bats
# ZeroCloud's object servers resume zvm snapshots (issue 14): python.tar's python forks once it
# has initialised CPython; the object server keeps the program (and a job's image) in its private
# zvm cache so their file identity, which a snapshot depends on, holds from one job to the next;
# X-Nexe-Cached says, per node, whether the session resumed one.  Needs build/images/python.tar.

load zerocloud_helpers

setup_file() { zc_python_setup_file; }

teardown_file() {
    zc_stop_cluster
}

setup() {
    zc_python_setup
    printf '#!file://python:python\nimport sys\nprint("hello from", sys.implementation.name, sys.argv)\n' > "$tmp/hello"
    own_cluster=
}

teardown() {
    if [ -n "$own_cluster" ]; then zc_stop_cluster; fi
    rm -rf "$tmp"
}

# own_cluster_with VAR=value...: this test's own cluster (python), configured by ZC_* variables;
# teardown stops it (the file's cluster is untouched: its variables live in setup_file's process)
own_cluster_with() {
    own_cluster=1
    local assignment
    for assignment in "$@"; do export "$assignment"; done
    ZC_TIMEOUT=60 zc_start_cluster
}

@test "zerocloud-snapshot: a python job's second run resumes the snapshot (X-Nexe-Cached: true), same output" {
    rm -rf "$ZC_TMP/zvm-cache/snapshots"        # cold, whatever ran before in this cluster
    zc_post / application/python "$tmp/hello"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    [ "$(zc_hdr X-Nexe-Cached)" = false ]
    [ "$body" = "hello from cpython ['/dev/script']" ]
    first=$body
    zc_post / application/python "$tmp/hello"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Status)" = ok ]
    [ "$(zc_hdr X-Nexe-Retcode)" = 0 ]
    [ "$(zc_hdr X-Nexe-Cached)" = true ]
    [ "$body" = "$first" ]
    # another script: what python reads after the fork differs, the snapshot still serves
    printf '#!file://python:python\nimport sys\nsys.exit(3)\n' > "$tmp/three"
    zc_post / application/python "$tmp/three"
    [ "$(zc_hdr X-Nexe-Cached)" = true ]
    [ "$(zc_hdr X-Nexe-Retcode)" = 3 ]
    # the cache is private; the program taken from python.tar is kept in it, once
    [ "$(stat -c %a "$ZC_TMP/zvm-cache")" = 700 ]
    [ "$(ls "$ZC_TMP/zvm-cache/programs" | grep -c '\.wasm$')" = 1 ]
    [ "$(find "$ZC_TMP/zvm-cache/snapshots" -name '*.snap' | wc -l)" -ge 1 ]
    # and no session left anything in the servers' temp area
    [ -z "$(ls -A "$ZC_SERVER_TMP")" ]
}

@test "zerocloud-snapshot: a bundle's python job resumes too: its image is kept by content, per node header" {
    mkdir -p "$tmp/b/boot"
    printf 'import sys\nprint("from the bundle", sys.argv[1:])\n' > "$tmp/b/main.py"
    cat > "$tmp/b/boot/system.map" <<'EOF'
[{"name": "hello", "exec": {"path": "file://python:python", "args": "/main.py one"},
  "devices": [{"name": "python"}, {"name": "stdout"}], "count": 2}]
EOF
    tar -cf "$tmp/app.tar" -C "$tmp/b" boot main.py
    zc_post / application/x-tar "$tmp/app.tar"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-System)" = hello-1,hello-2 ]
    [ "$body" = "$(printf "from the bundle ['one']\nfrom the bundle ['one']")" ]
    first=$body
    zc_post / application/x-tar "$tmp/app.tar"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Cached)" = true,true ]
    [ "$body" = "$first" ]
    # the image is kept once, by its content: a byte-identical copy is the same image
    [ "$(ls "$ZC_TMP/zvm-cache/images" | grep -c '\.tar$')" = 1 ]
    # a different bundle is another image: its first run cannot resume the first one's snapshot
    echo "# changed" >> "$tmp/b/main.py"
    tar -cf "$tmp/app2.tar" -C "$tmp/b" boot main.py
    zc_post / application/x-tar "$tmp/app2.tar"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Cached)" = false,false ]
    [ "$body" = "$first" ]
}

@test "zerocloud-snapshot: zerovm_snapshots = no: no node resumes (X-Nexe-Cached: false), same output" {
    own_cluster_with ZC_SNAPSHOTS=no
    zc_post / application/python "$tmp/hello"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Cached)" = false ]
    first=$body
    zc_post / application/python "$tmp/hello"
    [ "$code" = 200 ]
    [ "$(zc_hdr X-Nexe-Cached)" = false ]
    [ "$body" = "$first" ]
    [ "$body" = "hello from cpython ['/dev/script']" ]
    [ ! -e "$ZC_TMP/zvm-cache/snapshots" ] || [ -z "$(find "$ZC_TMP/zvm-cache/snapshots" -name '*.snap')" ]
}

@test "zerocloud-snapshot: a cache directory open to others is refused: jobs run cold, the log says why" {
    mkdir -m 755 "$tmp/shared-cache"
    own_cluster_with ZC_CACHE="$tmp/shared-cache"
    for i in 1 2; do
        zc_post / application/python "$tmp/hello"
        [ "$code" = 200 ]
        [ "$(zc_hdr X-Nexe-Cached)" = false ]
        [ "$body" = "hello from cpython ['/dev/script']" ]
    done
    [ -z "$(ls -A "$tmp/shared-cache")" ]
    grep -q "shared-cache is not private" "$ZVM_CLUSTER_DIR"/log/object*.log
}
