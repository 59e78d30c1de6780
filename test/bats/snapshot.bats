#!/usr/bin/env bats
# Snapshots (docs/Snapshots.md): a guest calls zvm_fork(); the first session writes a snapshot
# into the cache, a later one whose inputs before the fork are the same resumes it.  Every
# resumed run is compared with a cold run of the same inputs: stdout, stderr, the report but
# line 2 (1 when resumed) and the exit code are the same.  Guest: test/fixtures/s_fork.c.

load zvm_helpers
setup() {
    zvm_setup
    cache=$tmp/cache
    mkdir -m 700 "$cache"
    mkdir -p "$tmp/img/data"
    printf 'hello image file\n' > "$tmp/img/data/text"
    tar -C "$tmp/img" -cf "$tmp/data.tar" data
}
teardown() { zvm_teardown; }

# fork_manifest [NVRAM LINE...]: s_fork.wasm with an nvram channel holding the lines given
fork_manifest() {
    printf '%s\n' "$@" > "$tmp/nvram"
    manifest "$fx/s_fork.wasm" "Channel = $tmp/nvram,/dev/nvram,3,0,1000,1000000,0,0" \
        "Channel = $tmp/data.tar,/dev/1.data.tar,3,0,1000000,1000000000,0,0"
}

# session NAME [ZVM OPTIONS...]: runs $tmp/m with the test's cache; keeps out/err/report/status as NAME.*
session() {
    local name=$1; shift
    "$zvm" -v 1 --cache "$cache" "$@" "$tmp/m" > "$tmp/$name.report" 2> "$tmp/$name.stderr"
    echo $? > "$tmp/$name.status"
    cp "$tmp/out" "$tmp/$name.out"
    cp "$tmp/err" "$tmp/$name.err"
}

# same NAME1 NAME2: the two sessions' outputs, status and report (but line 2, and line 5: CPU
# times) are equal
same() {
    diff "$tmp/$1.out" "$tmp/$2.out"
    diff "$tmp/$1.err" "$tmp/$2.err"
    diff "$tmp/$1.status" "$tmp/$2.status"
    diff <(sed '2d; 5s/^[0-9.]* [0-9.]* //' "$tmp/$1.report") <(sed '2d; 5s/^[0-9.]* [0-9.]* //' "$tmp/$2.report")
}

daemon() { sed -n 2p "$tmp/$1.report"; }
snapshots() { find "$cache/snapshots" -name '*.snap' 2>/dev/null | wc -l; }

ARGS='[args]
args = s_fork one two 7'
FSTAB='[fstab]
channel=/dev/1.data.tar,mountpoint=/,access=ro'

@test "snapshot: the first session saves one, the next resumes it; both give the same output and report" {
    fork_manifest "$ARGS" "$FSTAB"
    session cold
    [ "$(daemon cold)" = 0 ]
    [ "$(snapshots)" = 1 ]
    grep -q "zvm_fork: snapshot saved" "$tmp/cold.stderr"
    session warm
    [ "$(daemon warm)" = 1 ]
    grep -q "resuming snapshot" "$tmp/warm.stderr"
    same cold warm
    [ "$(cat "$tmp/warm.status")" = 0 ]
    [ "$(sed -n 3p "$tmp/warm.report")" = 7 ]                 # the guest's exit code
    [ "$(head -1 "$tmp/warm.out")" = "before the fork" ]      # written before the fork: written again
    grep -q "^arg 2: two$" "$tmp/warm.out"
    # and a cold run without the cache is the same too
    "$zvm" --no-snapshot "$tmp/m" > "$tmp/none.report" 2> "$tmp/none.stderr"; echo $? > "$tmp/none.status"
    cp "$tmp/out" "$tmp/none.out"; cp "$tmp/err" "$tmp/none.err"
    same none warm
}

@test "snapshot: arguments read after the fork may differ; zvm_fork returns 0 cold, 1 resumed" {
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=show'
    session cold
    fork_manifest '[args]
args = s_fork three 5' "$FSTAB" '[env]
name=FORK_MODE, value=show'
    session warm
    [ "$(daemon warm)" = 1 ]
    grep -q "^zvm_fork: 0$" "$tmp/cold.out"
    grep -q "^zvm_fork: 1$" "$tmp/warm.out"
    grep -q "^arg 1: three$" "$tmp/warm.out"
    [ "$(sed -n 3p "$tmp/warm.report")" = 5 ]
}

@test "snapshot: an environment that differs from the one read before the fork runs cold, and saves its own" {
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=plain'
    session a
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=other'
    session b
    [ "$(daemon b)" = 0 ]
    grep -q "does not apply: the environment differs" "$tmp/b.stderr"
    [ "$(snapshots)" = 2 ]
    session c
    [ "$(daemon c)" = 1 ]
    same b c
}

@test "snapshot: a changed program or image is a different key: the session runs cold" {
    fork_manifest "$ARGS" "$FSTAB"
    session a
    cp "$fx/s_fork.wasm" "$tmp/prog.wasm"
    manifest "$tmp/prog.wasm" "Channel = $tmp/nvram,/dev/nvram,3,0,1000,1000000,0,0" \
        "Channel = $tmp/data.tar,/dev/1.data.tar,3,0,1000000,1000000000,0,0"
    session b
    [ "$(daemon b)" = 0 ]
    session c
    [ "$(daemon c)" = 1 ]
    touch "$tmp/data.tar"                     # same bytes, but touched: its identity changed
    session d
    [ "$(daemon d)" = 0 ]
    same a d
}

@test "snapshot: a truncated or damaged snapshot is removed and the session runs cold" {
    fork_manifest "$ARGS" "$FSTAB"
    session a
    snap=$(find "$cache/snapshots" -name '*.snap')
    truncate -s 100000 "$snap"
    session b
    [ "$(daemon b)" = 0 ]
    grep -q "is damaged, removed" "$tmp/b.stderr"
    same a b
    session c                                  # b saved a new one
    [ "$(daemon c)" = 1 ]
    snap=$(find "$cache/snapshots" -name '*.snap')
    size=$(stat -c %s "$snap")
    # flip one byte of the guest's memory (the table lies in the first MiB of it)
    printf '\x5a' | dd of="$snap" bs=1 seek=$((size - 4096 * 200)) conv=notrunc status=none
    session d
    [ "$(daemon d)" = 0 ]
    grep -q "memory is damaged" "$tmp/d.stderr"
    same a d
    session e
    printf 'x' | dd of="$(find "$cache/snapshots" -name '*.snap')" bs=1 seek=5000 conv=notrunc status=none
    session f                                  # metadata
    [ "$(daemon f)" = 0 ]
    same a f
}

@test "snapshot: a cache directory that cannot be made or written: the session runs cold, warns, and succeeds" {
    fork_manifest "$ARGS" "$FSTAB"
    : > "$tmp/file"                            # in the way even of root
    "$zvm" --cache "$tmp/file/cache" "$tmp/m" > "$tmp/a.report" 2> "$tmp/a.stderr"
    [ "$(sed -n 6p "$tmp/a.report")" = ok ]
    grep -q "snapshot cache unusable.*cannot make $tmp/file/cache" "$tmp/a.stderr"
    if [ "$(id -u)" != 0 ]; then               # a user cannot write a 0500 directory; root can
        chmod 500 "$cache"
        session b
        [ "$(cat "$tmp/b.status")" = 0 ]
        grep -q "no snapshot saved: .*running on without" "$tmp/b.stderr"
        chmod 700 "$cache"
    fi
}

@test "snapshot: a cache directory others can read is refused (snapshots off for the session)" {
    fork_manifest "$ARGS" "$FSTAB"
    chmod 755 "$cache"
    session a
    [ "$(cat "$tmp/a.status")" = 0 ]
    grep -q "not private" "$tmp/a.stderr"
    [ "$(snapshots)" = 0 ]
    "$zvm" --cache "$cache" "$tmp/m" > /dev/null 2> "$tmp/b.stderr"      # without -v: still said
    grep -q "snapshot cache unusable.*is not private" "$tmp/b.stderr"
}

@test "snapshot: a guest that read a channel before the fork gets no snapshot (and says why)" {
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=readin'
    printf 'abcdef' > "$tmp/in"
    session a
    grep -q "no snapshot saved: it read channel /dev/stdin before zvm_fork" "$tmp/a.stderr"
    [ "$(snapshots)" = 0 ]
    grep -q "^stdin: 3 bytes$" "$tmp/a.out"
}

@test "snapshot: a file open at the fork is open at the same place after a resume" {
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=file'
    session a
    session b
    [ "$(daemon b)" = 1 ]
    grep -q "^file: \[hello\]\[ image file$" "$tmp/b.out"
    same a b
}

@test "snapshot: zvm_fork called twice: the second returns -EALREADY (-114), cold and resumed" {
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=twice'
    session a
    session b
    [ "$(daemon b)" = 1 ]
    grep -q "^a second zvm_fork: -114$" "$tmp/b.out"
    same a b
}

@test "snapshot: stdin piped after the fork, quotas and the Memory limit hold as in a cold run" {
    MEM=$((48 * 1024 * 1024)) OUT_BYTES=60 fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=grow'
    head -c 12345 /dev/zero > "$tmp/in"
    session a
    session b
    [ "$(daemon b)" = 1 ]
    same a b
    [ "$(stat -c %s "$tmp/b.out")" = 60 ]     # the quota counted what was written before the fork
    OUT_BYTES=1000 MEM=$((48 * 1024 * 1024)) fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=grow'
    session c
    session d
    [ "$(daemon d)" = 1 ]
    same c d
    grep -q "^stdin: 12345 bytes$" "$tmp/d.out"
    grep -q "^grew [0-9]* MiB more$" "$tmp/d.out"
}

@test "snapshot: concurrent sessions making and using the same snapshot all give the same output" {
    fork_manifest "$ARGS" "$FSTAB"
    for i in 1 2 3 4; do
        ( "$zvm" --cache "$cache" "$tmp/m" > "$tmp/c$i.report" 2>&1 ) &
    done
    wait
    for i in 1 2 3 4 5 6; do
        ( sed "s|$tmp/out|$tmp/out$i|; s|$tmp/err|$tmp/err$i|" "$tmp/m" > "$tmp/m$i" &&
          "$zvm" --cache "$cache" "$tmp/m$i" > "$tmp/r$i.report" 2>&1 ) &
    done
    wait
    for i in 1 2 3 4 5 6; do
        diff "$tmp/out1" "$tmp/out$i"
        [ "$(sed -n 2p "$tmp/r$i.report")" = 1 ]
    done
    [ "$(snapshots)" = 1 ]
    ! ls "$cache"/snapshots/*/.tmp.* 2>/dev/null
}

@test "snapshot: two resumed sessions share the snapshot's pages (PSS below RSS)" {
    fork_manifest "$ARGS" "$FSTAB"
    session a
    mkfifo "$tmp/f1" "$tmp/f2"
    sed "s|Channel = $tmp/in,|Channel = $tmp/f1,|; s|$tmp/out|$tmp/o1|" "$tmp/m" > "$tmp/m1"
    sed "s|Channel = $tmp/in,|Channel = $tmp/f2,|; s|$tmp/out|$tmp/o2|" "$tmp/m" > "$tmp/m2"
    "$zvm" --cache "$cache" "$tmp/m1" > "$tmp/r1" 2>&1 & p1=$!
    "$zvm" --cache "$cache" "$tmp/m2" > "$tmp/r2" 2>&1 & p2=$!
    exec 7> "$tmp/f1" 8> "$tmp/f2"               # both now wait for stdin, after resuming
    sleep 0.5
    # the snapshot file's mapping in each: Rss counts all its pages, Pss half of the shared ones
    read -r rss pss < <(awk '/\.snap$/ {on=1; next} /^[0-9a-f]+-[0-9a-f]+ / {on=0}
        on && /^Rss:/ {r+=$2} on && /^Pss:/ {p+=$2} END {print r, p}' "/proc/$p1/smaps")
    exec 7>&- 8>&-
    wait $p1 $p2
    echo "# snapshot mapping in one of two resumed sessions: Rss $rss kB, Pss $pss kB" >&3
    [ "$rss" -gt 0 ]
    [ "$pss" -lt "$rss" ]
    [ "$(sed -n 2p "$tmp/r1")" = 1 ]
}

@test "snapshot: --no-snapshot neither resumes nor saves" {
    fork_manifest "$ARGS" "$FSTAB"
    session a --no-snapshot
    [ "$(snapshots)" = 0 ]
    session b
    session c --no-snapshot
    [ "$(daemon c)" = 0 ]
}

@test "snapshot: the cache keeps under --cache-size, the least recently used going first" {
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=one'
    session a --cache-size 100000000
    first=$(find "$cache/snapshots" -name '*.snap')
    bytes=$(du -k "$first" | cut -f1)
    fork_manifest "$ARGS" "$FSTAB" '[env]
name=FORK_MODE, value=two'
    # room for one snapshot and a half: saving the second removes the first
    session b --cache-size $((bytes * 1024 * 3 / 2))
    [ "$(snapshots)" = 1 ]
    [ ! -e "$first" ]
    session c --cache-size $((bytes * 1024 * 3 / 2))
    [ "$(daemon c)" = 1 ]
}

@test "snapshot cache: a program is validated once per file identity, again once the file changed" {
    fork_manifest "$ARGS" "$FSTAB"
    # with its debug information (-g), s_fork is past the 64 KiB below which zvm keeps no marker
    "$top/pkg/sdk/zvm-cc" -O2 -g "$top/test/fixtures/s_fork.c" -o "$tmp/prog.wasm"
    [ "$(stat -c %s "$tmp/prog.wasm")" -ge 65536 ]
    sed -i "s|^Program = .*|Program = $tmp/prog.wasm|" "$tmp/m"
    "$zvm" --cache "$cache" -T "$tmp/t1" "$tmp/m" > /dev/null
    "$zvm" --cache "$cache" -T "$tmp/t2" "$tmp/m" > /dev/null
    ! grep -q "validated before" "$tmp/t1"
    grep -q "validated before (the cache knows this file)" "$tmp/t2"
    touch "$tmp/prog.wasm"
    "$zvm" --cache "$cache" -T "$tmp/t3" "$tmp/m" > /dev/null
    ! grep -q "validated before" "$tmp/t3"
    # an invalid program with the identity of nothing validated is refused as ever
    printf '\0asm\1\0\0\0\1' > "$tmp/prog.wasm"
    run "$zvm" --cache "$cache" "$tmp/m"
    [ "$status" -eq 8 ]
}
