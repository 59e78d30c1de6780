#!/usr/bin/env bats
# zvsh: options, images, @ arguments, save dirs, exit status, errors.  Guests come from
# test/fixtures/zvsh_*.c, built by `make fixtures`.

setup() {
    top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    zvsh=$top/build/zvsh
    zvm=$top/build/zvm
    fx=$top/build/fixtures
    tmp=$(mktemp -d)
    cd "$tmp"
    export ZVSH_CONFIG=$tmp/none.cfg      # no host config leaks into the tests
    mkdir img && cp "$fx/zvsh_echo.wasm" img/echo && tar -C img -cf echo.tar echo
}
teardown() { cd /; rm -rf "$tmp"; }

@test "zvsh runs a host .wasm with its arguments" {
    run "$zvsh" "$fx/zvsh_echo.wasm" one "two words"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "argv[0]=zvsh_echo.wasm" ]
    [ "${lines[1]}" = "argv[1]=one" ]
    [ "${lines[2]}" = "argv[2]=two words" ]
}

@test "COMMAND is found as a member of an image and extracted" {
    run "$zvsh" --zvm-image echo.tar echo hi
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "argv[0]=echo" ]
    [ "${lines[1]}" = "argv[1]=hi" ]
}

@test "the first image holding COMMAND wins; ./ prefixes in the tar do not matter" {
    mkdir other && printf 'not wasm' > other/echo && tar -C other -cf other.tar ./echo
    run "$zvsh" --zvm-image echo.tar --zvm-image other.tar echo first
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "argv[1]=first" ]
    run "$zvsh" --zvm-getrc --zvm-image other.tar --zvm-image echo.tar echo
    [ "$status" -eq 8 ]    # other.tar's ./echo wins, and it is not wasm
}

@test "@path becomes /dev/<n>.<basename>, numbered before the images" {
    printf 'abc' > data.csv
    run "$zvsh" --zvm-save-dir save --zvm-image echo.tar echo @data.csv
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "argv[1]=/dev/1.data.csv" ]
    grep -q "^Channel = $tmp/data.csv,/dev/1.data.csv,3,0," save/manifest.1
    grep -q "^Channel = $tmp/echo.tar,/dev/2.echo.tar,3,0," save/manifest.1
    grep -q "channel=/dev/2.echo.tar,mountpoint=/,access=ro" save/nvram.1
}

@test "the guest reads an @file through its channel" {
    printf 'hello channel' > in.txt
    run "$zvsh" "$fx/zvsh_file.wasm" cat @in.txt
    [ "$status" -eq 0 ]
    [ "$output" = "hello channel" ]
}

@test "a missing @file is created empty so the guest can write it" {
    run "$zvsh" "$fx/zvsh_file.wasm" write @out.txt written
    [ "$status" -eq 0 ]
    [ "$(cat out.txt)" = "written" ]
}

@test "@NAME=value sets an environment variable instead of an argument" {
    run "$zvsh" "$fx/zvsh_echo.wasm" @GREETING=hello,world env=GREETING
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "env GREETING=hello,world" ]
    [ "${#lines[@]}" -eq 2 ]
}

@test "stdin, stdout and stderr are zvsh's own" {
    run sh -c "printf 'piped in' | '$zvsh' '$fx/zvsh_echo.wasm' stdin stderr 2>err.txt"
    [ "$status" -eq 0 ]
    [[ "$output" == *"piped in"* ]]
    [ "$(cat err.txt)" = "to stderr" ]
}

@test "[mapping] says pipe for a pipe and file for a file" {
    echo | "$zvsh" --zvm-save-dir s1 "$fx/zvsh_echo.wasm" > out.txt
    grep -q "channel=/dev/stdin,mode=pipe" s1/nvram.1
    grep -q "channel=/dev/stdout,mode=file" s1/nvram.1
}

@test "exit status is the guest's code | zvm's code << 4; --zvm-getrc gives zvm's alone" {
    run "$zvsh" "$fx/zvsh_echo.wasm" exit=3
    [ "$status" -eq 3 ]
    run "$zvsh" --zvm-getrc "$fx/zvsh_echo.wasm" exit=3
    [ "$status" -eq 0 ]
    printf 'garbage' > bad.wasm
    run "$zvsh" bad.wasm
    [ "$status" -eq $(( (8 << 4) & 255 )) ]
    [[ "$output" == *"ERROR: ZeroVM return code is 8"* ]]
}

@test "a saved dir re-runs unchanged with zvm" {
    run "$zvsh" --zvm-save-dir keep "$fx/zvsh_echo.wasm" saved args
    [ "$status" -eq 0 ]
    [ -f keep/manifest.1 ] && [ -f keep/nvram.1 ]
    first=$output
    run "$zvm" keep/manifest.1
    [ "$status" -eq 0 ]
    [[ "$output" == "$first"* ]]       # the guest's lines, then zvm's report
    [[ "$output" == *"ok"* ]]
}

@test "without --zvm-save-dir nothing is left behind" {
    export TMPDIR=$tmp/t && mkdir "$TMPDIR"
    run "$zvsh" --zvm-image echo.tar echo x
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$TMPDIR")" ]
}

@test "--zvm-timeout stops a guest that runs too long" {
    run "$zvsh" --zvm-getrc --zvm-timeout 1 "$fx/zvsh_spin.wasm"
    [ "$status" -eq 4 ]
    [[ "$output" == *"session timeout"* ]]
}

@test "--zvm-memory limits the session's memory" {
    run "$zvsh" --zvm-getrc --zvm-memory 65536 "$fx/zvsh_echo.wasm"
    [ "$status" -eq 12 ]
}

@test "--zvm-debug gives the guest /dev/debug into ./zvsh.log" {
    run "$zvsh" --zvm-debug --zvm-save-dir s "$fx/zvsh_echo.wasm"
    [ "$status" -eq 0 ]
    grep -q "/zvsh.log,/dev/debug,0,0,0,0," s/manifest.1
    [ -f zvsh.log ]
}

@test "--zvm-trace writes ./zvsh.trace.log" {
    run "$zvsh" --zvm-trace "$fx/zvsh_echo.wasm"
    [ "$status" -eq 0 ]
    [ -s zvsh.trace.log ]
}

@test "zvsh.cfg: nearest file wins, [env] and [limits] reach the manifest" {
    unset ZVSH_CONFIG
    export HOME=$tmp/home && mkdir "$HOME"
    printf '[manifest]\nTimeout = 7\n[env]\nFROM = home\nKEEP = home\n' > "$HOME/.zvsh.cfg"
    printf '[manifest]\nTimeout = 9\n[limits]\nreads = 77\n[env]\nFROM = here\n' > zvsh.cfg
    run "$zvsh" --zvm-save-dir s "$fx/zvsh_echo.wasm" env=FROM env=KEEP
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "env FROM=here" ]
    [ "${lines[2]}" = "env KEEP=home" ]
    grep -q "^Timeout = 9$" s/manifest.1
    grep -q "^Channel = /dev/stdin,/dev/stdin,0,0,77," s/manifest.1
}

@test "zvsh.cfg [fstab] images are mounted and numbered first" {
    printf '[fstab]\n%s = / ro\n' "$tmp/echo.tar" > my.cfg
    export ZVSH_CONFIG=$tmp/my.cfg
    printf 'x' > f.txt
    run "$zvsh" --zvm-save-dir s echo @f.txt
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "argv[1]=/dev/2.f.txt" ]
    grep -q "/dev/1.echo.tar" s/manifest.1
}

@test "a bad zvsh.cfg line is an error naming file and line" {
    printf '[manifest]\nTimeout = soon\n' > bad.cfg
    ZVSH_CONFIG=$tmp/bad.cfg run "$zvsh" "$fx/zvsh_echo.wasm"
    [ "$status" -eq 22 ]
    [[ "$output" == *"bad.cfg:2:"* ]]
}

@test "errors: unknown option, no command, bad values" {
    run "$zvsh" --zvm-frobnicate x
    [ "$status" -eq 22 ]
    [[ "$output" == *"unknown option '--zvm-frobnicate'"* ]]
    run "$zvsh"
    [ "$status" -eq 22 ]
    [[ "$output" == *"no COMMAND"* ]]
    run "$zvsh" --zvm-timeout 0 x
    [ "$status" -eq 22 ]
    run "$zvsh" --zvm-image echo.tar,/,rw echo
    [ "$status" -eq 22 ]
    [[ "$output" == *"access must be ro or wo"* ]]
}

@test "errors: missing image, image that is not a tar, command nowhere" {
    run "$zvsh" --zvm-image missing.tar echo
    [ "$status" -eq 2 ]
    [[ "$output" == *"missing.tar"* ]]
    printf 'not a tar at all, not at all' > fake.tar
    run "$zvsh" --zvm-image fake.tar echo
    [ "$status" -eq 5 ]
    [[ "$output" == *"fake.tar is not a readable tar archive"* ]]
    run "$zvsh" --zvm-image echo.tar nosuchcmd
    [ "$status" -eq 2 ]
    [[ "$output" == *"nosuchcmd: not a member of $tmp/echo.tar and not a file"* ]]
}

@test "errors: an unwritable save dir" {
    mkdir ro && chmod 555 ro
    if [ "$(id -u)" -eq 0 ]; then
        touch notadir
        run "$zvsh" --zvm-save-dir notadir "$fx/zvsh_echo.wasm"
    else
        run "$zvsh" --zvm-save-dir ro/sub "$fx/zvsh_echo.wasm"
    fi
    [ "$status" -eq 5 ]
    [[ "$output" == *"save dir"* ]]
}

@test "walkthrough: 100 MB through @, save dir, quota 3,3,3,3 re-run with zvm gives errno 122" {
    head -c 100000000 /dev/zero > big.bin
    run "$zvsh" --zvm-save-dir w "$fx/zvsh_file.wasm" read @big.bin
    [ "$status" -eq 0 ]
    [ "$output" = "read 100000000 bytes in 96 reads" ]
    sed -i "s|^\(Channel = $tmp/big.bin,/dev/1.big.bin,3,0\),.*|\1,3,3,3,3|" w/manifest.1
    grep -q "/dev/1.big.bin,3,0,3,3,3,3$" w/manifest.1
    run "$zvm" w/manifest.1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "read 2 failed after 3 bytes: errno 122 (EDQUOT)" ]
    # the report: valid, not daemon, user rc 1, no etags, accounting, ok
    [ "${lines[1]}" = "0" ]
    [ "${lines[3]}" = "1" ]
    [ "${lines[4]}" = "disable" ]
    [[ "${lines[5]}" =~ ^[0-9]+\.[0-9]{2}\ [0-9]+\.[0-9]{2}\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ 0\ 0\ 0\ 0$ ]]
    [ "${lines[6]}" = "ok" ]
}
