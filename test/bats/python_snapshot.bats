#!/usr/bin/env bats
# python.tar with snapshots (docs/Snapshots.md): its python initialises CPython, calls
# zvm_fork(), then reads its command line.  Each case runs cold (empty cache) and resumed, and
# compares stdout, stderr and the exit status; the session says which it was (-v 1).

load image_helpers
setup_file() { image_setup_file; }
setup() {
    image_setup python.tar
    mkdir -m 700 cache
}
teardown() { image_teardown; }

# both NAME ARGS...: python ARGS cold (new cache), then resumed, each with stdin from $tmp/stdin
# if it exists; keeps NAME.{cold,warm}.{out,err,status}; fails unless the second resumed.
both() {
    local name=$1; shift
    rm -rf cache/snapshots
    for run in cold warm; do
        rc=0
        timeout 60 "$zvsh" --zvm-cache "$tmp/cache" --zvm-verbosity 1 --zvm-image "$image" python "$@" \
            < "${STDIN:-/dev/null}" > "$name.$run.out" 2> "$name.$run.err" || rc=$?
        echo $rc > "$name.$run.status"
    done
    grep -q "zvm: zvm_fork: snapshot saved" "$name.cold.err"
    grep -q "zvm: resuming snapshot" "$name.warm.err"
    diff "$name.cold.out" "$name.warm.out"
    diff <(grep -v '^zvm: ' "$name.cold.err") <(grep -v '^zvm: ' "$name.warm.err")
    diff "$name.cold.status" "$name.warm.status"
}

@test "python snapshot: -c gives the same output, sys.argv and sys.flags cold and resumed" {
    both c -c 'import sys; print("hi", sys.argv, sys.flags.optimize, sys.flags.inspect)'
    [ "$(cat c.warm.out)" = "hi ['-c'] 0 0" ]
    # another command line resumes the same snapshot: the arguments were read after the fork
    timeout 60 "$zvsh" --zvm-cache "$tmp/cache" --zvm-verbosity 1 --zvm-image "$image" python \
        -O -c 'import sys; print(sys.argv[1:], sys.flags.optimize, __debug__)' x y > o 2> e
    grep -q "resuming snapshot" e
    [ "$(cat o)" = "['x', 'y'] 1 True" ] || [ "$(cat o)" = "['x', 'y'] 1 False" ]
}

@test "python snapshot: a script given as @file, with arguments" {
    printf 'import sys\nprint("script", sys.argv)\nprint(sum(range(10**5)))\n' > script.py
    both script @script.py a b
    grep -q "^script \['/dev/1.script.py', 'a', 'b'\]$" script.warm.out
}

@test "python snapshot: stdin piped to a script on -" {
    printf 'import sys\nprint("from stdin", len(sys.argv))\n' > stdin.py
    STDIN=stdin.py both stdin -
    [ "$(cat stdin.warm.out)" = "from stdin 1" ]
    printf 'line one\nline two\n' > lines
    STDIN=lines both lines -c 'import sys; print([l.strip() for l in sys.stdin])'
    [ "$(cat lines.warm.out)" = "['line one', 'line two']" ]
}

@test "python snapshot: sys.exit(3) and an uncaught exception exit as in a cold run" {
    both exit -c 'import sys; print("bye"); sys.exit(3)'
    [ "$(cat exit.warm.out)" = bye ]
    [ "$(cat exit.warm.status)" = 3 ]
    both exc -c 'print("before"); raise ValueError("boom")'
    [ "$(cat exc.warm.status)" = 1 ]
    grep -q "^ValueError: boom$" exc.warm.err
}

@test "python snapshot: options fixed at initialisation (-I, -S, -u, -X) start CPython over, the same both ways" {
    both iso -I -S -u -c 'import sys; print(sys.flags.isolated, sys.flags.no_site, "site" in sys.modules)'
    [ "$(cat iso.warm.out)" = "1 1 False" ]
    both ver --version
    [[ "$(cat ver.warm.out)" =~ ^Python\ 3\.11 ]]
    both bad -Z
    [ "$(cat bad.warm.status)" = 2 ]
}

@test "python snapshot: an environment variable set with @NAME=value differs from the snapshot's: cold" {
    rm -rf cache/snapshots
    timeout 60 "$zvsh" --zvm-cache "$tmp/cache" --zvm-image "$image" python -c pass
    timeout 60 "$zvsh" --zvm-cache "$tmp/cache" --zvm-verbosity 1 --zvm-image "$image" python @GREETING=hi \
        -c 'import os; print(os.environ["GREETING"])' > o 2> e
    [ "$(cat o)" = hi ]
    grep -q "does not apply: the environment differs" e
}
