#!/usr/bin/env bats
# The edges of zvm and zvsh (issue 17, command-line half): interrupted sessions, line editing at
# a terminal, mistakes caught before a session starts, images found by name, zpm's help, and a
# guest compiler whose output does not depend on binaryen being installed.
#
# Signals reach a guest only once it is known to be waiting (it has printed "ready"): the tests
# wait for that (wait_for, at most 60 s), never for a length of time.

setup() {
    top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    zvsh=$top/build/zvsh
    zvm=$top/build/zvm
    fx=$top/build/fixtures
    image=$top/build/images/python.tar
    tmp=$(mktemp -d)
    cd "$tmp"
    export ZVSH_CONFIG=$tmp/none.cfg      # no host config leaks into the tests
    export HOME=$tmp                      # nor the user's ~/.editrc
    export TMPDIR=$tmp/t                  # zvsh's temporary directories, to see them go
    mkdir t
    unset ZVM_IMAGE_PATH
}
teardown() {
    [ -z "${sock:-}" ] || tmux -S "$sock" kill-server 2>/dev/null || true
    cd /; rm -rf "$tmp"
}

# wait_for FILE TEXT: until FILE holds TEXT (a fixed string), for at most 60 s.
wait_for() {
    for _ in $(seq 600); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "gave up waiting for '$2' in $1:" >&2; cat "$1" >&2
    return 1
}

# stop_with SIGNAL PID: sends it and sets $st to the exit status.
stop_with() {
    kill -s "$1" "$2"
    st=0
    wait "$2" || st=$?
}

# --- interruption ---------------------------------------------------------------------------

# zvm on s_cat, its stdin a FIFO kept open: it copies "ready" and then blocks in read.
zvm_waiting() {
    rm -f in out err fifo && mkfifo fifo
    printf '%s\n' "Version = 20130611" "Program = $fx/s_cat.wasm" "Memory = 67108864,0" "Timeout = 600" \
        "Channel = $tmp/fifo,/dev/stdin,0,0,1000,100000,0,0" \
        "Channel = $tmp/out,/dev/stdout,0,0,0,0,1000,100000" \
        "Channel = $tmp/err,/dev/stderr,0,0,0,0,1000,100000" > m
    exec 7<>fifo
    echo ready >&7
    env --default-signal=INT,HUP,TERM "$zvm" m > report 2> stderr &
    pid=$!
    wait_for out ready
}

@test "zvm: SIGINT, SIGTERM, SIGHUP stop a session blocked in a read: exit 128+N, the report says why, one line" {
    for sig in INT TERM HUP; do
        zvm_waiting
        stop_with "$sig" "$pid"
        exec 7>&-
        num=$(kill -l "$sig")
        [ "$st" -eq $((128 + num)) ]
        [ "$(sed -n 6p report)" = "stopped by SIG$sig" ]
        [ "$(cat stderr)" = "zvm: stopped by SIG$sig; no wo image was written back" ]
    done
}

@test "zvm: a report written to a closed pipe is SIGPIPE's 141 with one line, not a silent death" {
    printf '%s\n' "Version = 20130611" "Program = $fx/zvsh_echo.wasm" "Memory = 67108864,0" "Timeout = 60" \
        "Channel = /dev/null,/dev/stdin,0,0,1000,100000,0,0" \
        "Channel = $tmp/out,/dev/stdout,0,0,0,0,1000,100000" \
        "Channel = $tmp/err,/dev/stderr,0,0,0,0,1000,100000" > m
    mkfifo rd
    exec 4<>rd 5>rd 4<&-                       # a pipe whose only reader has gone
    st=0
    env --default-signal=PIPE "$zvm" m >&5 2> stderr || st=$?
    exec 5>&-
    [ "$st" -eq 141 ]
    [ "$(cat stderr)" = "zvm: SIGPIPE came after the session ended; its outputs are complete" ]
}

# zvsh running python that prints "ready" and then does $1 (reads stdin, or spins).  Without the
# cache, so that python is extracted into the temporary directory these tests watch.
zvsh_python_waiting() {
    rm -f out err fifo && mkfifo fifo
    exec 7<>fifo
    env --default-signal=INT,HUP,TERM,PIPE "$zvsh" --zvm-no-snapshot --zvm-image "$image" "${extra[@]}" python -c \
        "import sys; print('ready', flush=True); $1" "${@:2}" < fifo > out 2> err &
    pid=$!
    wait_for out ready
    ls t | grep -q '^zvsh\.'                   # its temporary directory is there while it runs
}

@test "zvsh: Ctrl-C (SIGINT) while the guest waits for input: exit 130, one line, the temporary dir removed" {
    extra=()
    zvsh_python_waiting "sys.stdin.read()"
    stop_with INT "$pid"
    exec 7>&-
    [ "$st" -eq 130 ]
    [ "$(cat err)" = "zvsh: SIGINT: session stopped; nothing written back, temporary files removed" ]
    [ -z "$(ls t)" ]
}

@test "zvsh: SIGTERM while the guest computes: exit 143; a new wo image and a created @file are not left behind" {
    echo keep > old.txt
    extra=(--zvm-image "$tmp/new.tar,/out,wo")
    zvsh_python_waiting "open('/out/x', 'w').write('partial')
while True: pass" @created.txt @old.txt
    [ -e created.txt ]
    stop_with TERM "$pid"
    exec 7>&-
    [ "$st" -eq 143 ]
    grep -qF "zvsh: SIGTERM: session stopped" err
    [ ! -e new.tar ]
    [ ! -e created.txt ]
    [ "$(cat old.txt)" = keep ]                # a file the user had is never removed
    [ -z "$(ls t)" ]
    # an existing wo target (--zvm-overwrite) keeps what it held
    echo precious > old.tar
    extra=(--zvm-overwrite --zvm-image "$tmp/old.tar,/out,wo")
    zvsh_python_waiting "open('/out/x', 'w').write('partial')
while True: pass"
    stop_with TERM "$pid"
    exec 7>&-
    [ "$st" -eq 143 ]
    [ "$(cat old.tar)" = precious ]            # the file as it was: no partial tar
    [ -z "$(ls -A | grep zvm-wo)" ]            # nor a temporary one beside it
}

@test "zvsh: SIGHUP and SIGPIPE stop the session too (129, 141)" {
    extra=()
    for sig in HUP PIPE; do
        zvsh_python_waiting "sys.stdin.read()"
        stop_with "$sig" "$pid"
        exec 7>&-
        [ "$st" -eq $((128 + $(kill -l $sig))) ]
        grep -qF "zvsh: SIG$sig: session stopped" err
    done
    [ -z "$(ls t)" ]
}

@test "zvsh: a signal before the session starts ends the run the same way (143, one line, nothing left)" {
    mkfifo cfg                                 # zvsh blocks opening its config until a writer comes
    ZVSH_CONFIG=$tmp/cfg "$zvsh" "$fx/zvsh_echo.wasm" hi > out 2> err &
    pid=$!
    for _ in $(seq 600); do
        [ "$(cat /proc/$pid/wchan 2>/dev/null)" = wait_for_partner ] && break
        sleep 0.1
    done
    [ "$(cat /proc/$pid/wchan)" = wait_for_partner ]
    kill -TERM "$pid"
    exec 8<>cfg 8>&-                           # a writer that comes and goes: the open cannot hang
    st=0; wait "$pid" || st=$?
    [ "$st" -eq 143 ]
    [ "$(cat err)" = "zvsh: SIGTERM: stopped before the session started; nothing written back, temporary files removed" ]
    [ ! -s out ]
    [ -z "$(ls t)" ]
}

@test "zvsh: a signal zvsh inherited as ignored (nohup) stays ignored" {
    rm -f fifo && mkfifo fifo
    exec 7<>fifo
    nohup "$zvsh" --zvm-image "$image" python -c \
        "import sys; print('ready', flush=True); print(sys.stdin.readline().strip())" < fifo > out 2> err &
    pid=$!
    wait_for out ready
    kill -HUP "$pid"
    echo "still here" >&7
    st=0; wait "$pid" || st=$?
    exec 7>&-
    [ "$st" -eq 0 ]
    [ "$(sed -n 2p out)" = "still here" ]
}

# --- a terminal: tmux ----------------------------------------------------------------------

# in_tmux COMMAND: runs it in a detached tmux pane of its own server; ends by printing EXIT=status.
in_tmux() {
    command -v tmux > /dev/null || skip "tmux is not installed (make deps installs it)"
    sock=$tmp/tmux.socket                      # a server of the test's own, gone with $tmp
    tmux -S "$sock" -f /dev/null new-session -d -x 120 -y 40 \
        "cd '$tmp' && TMPDIR='$tmp/t' HOME='$tmp' ZVSH_CONFIG='$tmp/none.cfg' $1; echo EXIT=\$?; stty -a | grep -o ' -*icanon\|  *-*echo ' | tr -d ' ' | tr '\n' ' '; echo; sleep 600"
}
pane() { tmux -S "$sock" capture-pane -p; }
keys() { tmux -S "$sock" send-keys "$@"; }
# until the pane shows TEXT on a line of its own (fixed string, whole line), at most 60 s
wait_line() {
    for _ in $(seq 600); do
        pane | grep -qxF -- "$1" && return 0
        sleep 0.1
    done
    echo "gave up waiting for the line '$1'; the pane:" >&2; pane >&2
    return 1
}
# the n-th prompt: waits until the pane holds n lines that start with ">>>" or "..." (tmux drops
# the prompt's trailing space)
wait_prompts() {
    for _ in $(seq 600); do
        [ "$(pane | grep -cE '^(>>>|\.\.\.)( |$)')" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "gave up waiting for prompt $1; the pane:" >&2; pane >&2
    return 1
}

@test "python's prompt at a terminal: line editing and history on the host side, Ctrl-D ends it" {
    in_tmux "$zvsh --zvm-image $image python"
    wait_prompts 1
    keys 'x = 6*7' Enter;                  wait_prompts 2
    keys 'print(x + 1)' Enter;             wait_line 43
    wait_prompts 3
    keys Up Up Enter;                      wait_prompts 4     # history: x = 6*7 again
    keys 'print(1)' Left Left BSpace 2 Enter                  # edited to print21) ...
    wait_line "SyntaxError: unmatched ')'"
    wait_prompts 5
    keys 'print(x' C-a Right Right Right Right Right Right '"x=", ' C-e ')' Enter
    wait_line "x= 42"
    wait_prompts 6
    keys C-d
    wait_line "EXIT=0"
    run pane
    [ "${lines[2]}" = ">>> x = 6*7" ]                         # each line shown once, after its prompt
    [ "${lines[3]}" = ">>> print(x + 1)" ]
    [ "${lines[5]}" = ">>> x = 6*7" ]
    [ "${lines[6]}" = ">>> print21)" ]
    [ "${lines[11]}" = '>>> print("x=", x)' ]
    [[ "$output" != *"non-printable character"* ]]           # no escape sequence reached python
    [[ "$output" != *"^["* ]]
    [[ "$output" == *"icanon echo"* ]]                        # the terminal as it was
}

@test "Ctrl-C at python's prompt ends the session with one line, the terminal restored" {
    in_tmux "$zvsh --zvm-image $image python"
    wait_prompts 1
    keys 'half a line'
    wait_line ">>> half a line"               # shown by the editor (a ^C would drop unread keys)
    keys C-c
    wait_line "EXIT=130"
    run pane
    [[ "$output" == *$'>>> half a line\nzvsh: SIGINT: session stopped; nothing written back, temporary files removed\nEXIT=130'* ]]
    [[ "$output" == *"icanon echo"* ]]
    [ -z "$(ls t)" ]
}

@test "--zvm-no-edit: the guest reads the terminal itself (arrow keys reach it as escape sequences)" {
    in_tmux "$zvsh --zvm-no-edit --zvm-image $image python -c 'print(repr(input()))'"
    keys a Left b Enter                        # the terminal keeps typed lines until python reads
    wait_line "EXIT=0"
    run pane
    [[ "$output" == *"'a\\x1b[Db'"* ]]
}

@test "a guest reading a pipe or a file sees exactly the bytes given (no editor in the way)" {
    printf 'a\033[Ab\n' > in.txt
    run sh -c "\"$zvsh\" --zvm-image \"$image\" python -c 'import sys; print(repr(sys.stdin.read()))' < in.txt"
    [ "$status" -eq 0 ]
    [ "$output" = "'a\\x1b[Ab\\n'" ]
    run sh -c "cat in.txt | \"$zvsh\" --zvm-image \"$image\" python -c 'import sys; print(repr(sys.stdin.read()))'"
    [ "$output" = "'a\\x1b[Ab\\n'" ]
}

# --- mistakes caught before the session, in the user's words -------------------------------

@test "@path of a missing file: created empty for the guest, and zvsh says so on stderr" {
    run "$zvsh" --zvm-image "$image" python -c 'import sys; print(open(sys.argv[1]).read() == "")' @helo.py
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "zvsh: note: $tmp/helo.py did not exist; created it empty for the guest to write (a typo? it stays, empty, if the guest writes nothing)" ]
    [ "${lines[1]}" = "True" ]
    [ -f helo.py ] && [ ! -s helo.py ]
    run "$zvsh" --zvm-image "$image" python -c 'pass' @nodir/x.txt
    [ "$status" -eq 2 ]
    [ "$output" = "zvsh: argument @nodir/x.txt: $tmp/nodir/x.txt does not exist and cannot be created: No such file or directory" ]
}

@test "a non-tar or truncated image anywhere in the list is refused before the session, by its host path" {
    head -c 3000 /dev/urandom > junk.tar
    run "$zvsh" --zvm-image "$image" --zvm-image junk.tar python -c 'print(1)'
    [ "$status" -eq 5 ]
    [ "$output" = "zvsh: image $tmp/junk.tar is not a readable tar archive: Unrecognized archive format" ]
    mkdir d && head -c 5000 /dev/urandom > d/blob && tar -C d -cf full.tar blob && head -c 3000 full.tar > cut.tar
    run "$zvsh" --zvm-image "$image" --zvm-image cut.tar,/data python -c 'print(1)'
    [ "$status" -eq 5 ]
    [[ "$output" == "zvsh: image $tmp/cut.tar is not a complete tar archive: Truncated input file"*" (after 1 member headers); check the file, or make it again with tar" ]]
    [[ "$output" != *"ZeroVM return code"* ]]
}

@test "--zvm-debug and --zvm-trace files that cannot be written are named before the session" {
    mkdir zvsh.log
    run "$zvsh" --zvm-debug --zvm-image "$image" python -c 'print(1)'
    [ "$status" -eq 5 ]
    [ "$output" = "zvsh: --zvm-debug: cannot write $tmp/zvsh.log: it is a directory (run it from a directory you can write to)" ]
    cd /proc
    run "$zvsh" --zvm-trace --zvm-image "$image" python -c 'print(1)'
    [ "$status" -eq 5 ]
    [[ "$output" == "zvsh: --zvm-trace: cannot write /proc/zvsh.trace.log: "* ]]
    [ "${#lines[@]}" -eq 1 ]
}

@test "a wo image will not replace an existing non-empty file unless --zvm-overwrite" {
    echo precious > out.tar
    run "$zvsh" --zvm-image "$image" --zvm-image out.tar,/out,wo python -c 'open("/out/a", "w").write("x")'
    [ "$status" -eq 17 ]
    [ "$output" = "zvsh: image $tmp/out.tar (wo): the file exists and is not empty; the session would replace it with the tar of what the guest writes: name another file, remove it, or add --zvm-overwrite" ]
    [ "$(cat out.tar)" = precious ]
    run "$zvsh" --zvm-overwrite --zvm-image "$image" --zvm-image out.tar,/out,wo python -c 'open("/out/a", "w").write("x")'
    [ "$status" -eq 0 ]
    [ "$(tar -xOf out.tar a)" = x ]
    : > empty.tar                              # an empty file holds nothing to lose
    run "$zvsh" --zvm-image "$image" --zvm-image empty.tar,/out,wo python -c 'open("/out/b", "w").write("y")'
    [ "$status" -eq 0 ]
    [ "$(tar -xOf empty.tar b)" = y ]
    run "$zvsh" --zvm-image "$image" --zvm-image nodir/x.tar,/out,wo python -c 'pass'
    [ "$status" -eq 5 ]
    [ "$output" = "zvsh: image (wo): cannot write $tmp/nodir/x.tar: No such file or directory" ]
}

# --- images found by name -------------------------------------------------------------------

@test "an image named without a '/' is found on ZVM_IMAGE_PATH or zvsh.cfg's [images] path, as NAME or NAME.tar" {
    mkdir lib && ln -s "$image" lib/python.tar
    ZVM_IMAGE_PATH=/nowhere:$tmp/lib run "$zvsh" --zvm-image python python -c 'print("by name")'
    [ "$status" -eq 0 ] && [ "$output" = "by name" ]
    ZVM_IMAGE_PATH=$tmp/lib run "$zvsh" --zvm-image python.tar python -c 'print("by file name")'
    [ "$output" = "by file name" ]
    printf '[images]\npath = %s\n' "$tmp/lib" > cfg
    ZVSH_CONFIG=$tmp/cfg run "$zvsh" --zvm-image python python -c 'print("from the config")'
    [ "$output" = "from the config" ]
    # a file in the current directory wins over the search path
    mkdir img && cp "$fx/zvsh_echo.wasm" img/python && tar -C img -cf python.tar python
    ZVM_IMAGE_PATH=$tmp/lib run "$zvsh" --zvm-image python.tar python hi
    [ "${lines[1]}" = "argv[1]=hi" ]
}

@test "an image not found says where it looked and where the search path came from" {
    ZVM_IMAGE_PATH=$tmp/a:$tmp/b run "$zvsh" --zvm-image pythn python -c 1
    [ "$status" -eq 2 ]
    [ "$output" = "zvsh: image pythn: not found; looked for pythn, $tmp/a/pythn, $tmp/a/pythn.tar, $tmp/b/pythn, $tmp/b/pythn.tar (search path $tmp/a:$tmp/b, from \$ZVM_IMAGE_PATH; see IMAGES in zvsh(1))" ]
    run "$zvsh" --zvm-image pythn python -c 1
    [[ "$output" == *"(search path $top/share/zvm/images, from the default, beside zvsh; see IMAGES in zvsh(1))" ]]
}

@test "make install puts the built images where the installed zvsh finds them by name; zpm --help names the manual that is there" {
    make -s -C "$top" install PREFIX="$tmp/inst" > install.log 2>&1
    [ -f "$tmp/inst/share/zvm/images/python.tar" ]
    cmp "$image" "$tmp/inst/share/zvm/images/python.tar"
    run "$tmp/inst/bin/zvsh" --zvm-image python python -c 'print("installed")'
    [ "$status" -eq 0 ] && [ "$output" = "installed" ]
    run "$tmp/inst/bin/zpm" --help
    [[ "$output" == *"'man zpm' has it all."* ]]
    run "$top/build/zpm" --help
    [[ "$output" == *"'man -l $top/man/zpm.1' has it all."* ]]
    cp "$top/build/zpm" "$tmp/zpm" && run "$tmp/zpm" --help
    [[ "$output" == *"The zpm(1) manual (man/zpm.1 in zvm's sources; 'man zpm' after make install) has it all."* ]]
}

# --- the guest compiler ---------------------------------------------------------------------

@test "zvm-cc: the same bytes whether or not a wasm-opt is on PATH (clang is kept from running it)" {
    mkdir fake a b
    cat > fake/wasm-opt <<'EOF'
#!/bin/sh
echo "ran $*" >> "$FAKE_LOG"
out=; prev=
for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done
[ -n "$out" ] && printf 'rewritten by a wasm-opt' > "$out"
exit 0
EOF
    chmod +x fake/wasm-opt
    export FAKE_LOG=$tmp/fake.log
    # the fixture whose trap must name its function (zvm_guest.bats), built under one name twice
    (cd a && PATH=$tmp/fake:$PATH "$top/pkg/sdk/zvm-cc" -O2 "$top/test/fixtures/s_oob.c" -o prog.wasm)
    (cd b && "$top/pkg/sdk/zvm-cc" -O2 "$top/test/fixtures/s_oob.c" -o prog.wasm)
    [ ! -e fake.log ]                          # the fake was never run
    cmp a/prog.wasm b/prog.wasm
    [ "$(head -c 4 a/prog.wasm | od -An -c | tr -d ' ')" = '\0asm' ]
    # compile-only runs are untouched and quiet
    run "$top/pkg/sdk/zvm-cc" -O2 -Werror -c "$top/test/fixtures/hello.c" -o a/hello.o
    [ "$status" -eq 0 ] && [ -z "$output" ]
}
