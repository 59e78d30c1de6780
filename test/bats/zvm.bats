#!/usr/bin/env bats
# zvm: the command line, the report's form, and every manifest and channel error of issue 5.

load zvm_helpers
setup() { zvm_setup; }
teardown() { zvm_teardown; }

@test "zvm --version and --help" {
    run "$zvm" --version
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^zvm\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run "$zvm" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: zvm [options] MANIFEST"* ]]
    for o in -s -F "-t 0|1" "-v N" "-T FILE" -P -Q -M; do [[ "$output" == *"  $o "* ]]; done
}

@test "zvm: a bad command line is exit 22 with a one-line error saying what to do" {
    run "$zvm"
    [ "$status" -eq 22 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == "zvm: no manifest given"*"see 'zvm --help'" ]]
    run "$zvm" -x m
    [ "$status" -eq 22 ]; [[ "$output" == *"unknown option -x"* ]]
    run "$zvm" --bogus m
    [ "$status" -eq 22 ]; [[ "$output" == *"unknown option --bogus"* ]]
    run "$zvm" -t 2 m
    [ "$status" -eq 22 ]; [[ "$output" == *"-t takes 0"*"not '2'"* ]]
    run "$zvm" -v lots m
    [ "$status" -eq 22 ]; [[ "$output" == *"-v takes"* ]]
    run "$zvm" m -T
    [ "$status" -eq 22 ]; [[ "$output" == *"option -T needs a value"* ]]
    run "$zvm" m1 m2
    [ "$status" -eq 22 ]; [[ "$output" == *"one manifest at a time"* ]]
    run "$zvm" -T /nonexistent/dir/trace m
    [ "$status" -eq 22 ]; [[ "$output" == *"cannot write the trace file /nonexistent/dir/trace"* ]]
}

@test "zvm: a missing manifest is exit 2, and the report is still printed" {
    run zvm_run "$tmp/no-such-manifest"
    [ "$status" -eq 2 ]
    [ "$(wc -l < "$tmp/report")" -eq 7 ]
    [ "$(report_line 1)" = 2 ]
    [[ "$(state)" == "cannot open manifest $tmp/no-such-manifest: No such file or directory" ]]
    grep -q "^zvm: cannot open manifest" "$tmp/stderr"
}

@test "zvm: the report is exactly seven lines in the documented form" {
    manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(wc -l < "$tmp/report")" -eq 7 ]
    [ "$(report_line 1)" = 0 ]
    [ "$(report_line 2)" = 0 ]
    [ "$(report_line 3)" = 0 ]
    [ "$(report_line 4)" = disable ]
    [[ "$(report_line 5)" =~ ^[0-9]+\.[0-9]{2}\ [0-9]+\.[0-9]{2}(\ [0-9]+){8}$ ]]
    [ "$(state)" = ok ]
    [ -z "$(report_line 7)" ]
    [ ! -s "$tmp/stderr" ]
}

@test "zvm: options may come after the manifest" {
    manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m" -s
    [ "$status" -eq 0 ]
    [ "$(report_line 1)" = 2 ]
}

@test "zvm: missing program is exit 2" {
    manifest "$tmp/nothing.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 2 ]
    [ "$(report_line 1)" = 2 ]
    [[ "$(state)" == "cannot open program $tmp/nothing.wasm: No such file or directory"* ]]
}

@test "zvm: each missing required key is exit 14 naming the key" {
    for key in Version Program Memory Timeout; do
        manifest "$fx/hello.wasm"
        grep -v "^$key " "$tmp/m" > "$tmp/m2"
        run zvm_run "$tmp/m2"
        [ "$status" -eq 14 ]
        [[ "$(state)" == "MANIFEST 0: no $key key; add a line '$key = "* ]]
    done
}

@test "zvm: duplicate keys, bad numbers and a bad version are exit 14 naming the line" {
    manifest "$fx/hello.wasm" "Timeout = 20"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [ "$(state)" = "MANIFEST 8: Timeout given twice (first on line 4); keep one" ]
    manifest "$fx/hello.wasm" "Version = 20130611"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 8: Version given twice"* ]]
    TIMEOUT=ten manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 4: Timeout 'ten' is not a number: it must be a whole number of seconds"* ]]
    TIMEOUT=0 manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 4: Timeout '0'"* ]]
    MEM=09 manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 3: Memory size '09'"* ]]
    manifest "$fx/hello.wasm" "Channel = /dev/null,/dev/x,0,0,1e3,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 8: channel gets '1e3' is not a number"* ]]
    manifest "$fx/hello.wasm"
    sed -i 's/^Version = .*/Version = 20140101/' "$tmp/m"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 1: Version is '20140101'; zvm reads only Version = 20130611" ]]
}

@test "zvm: numbers in hex and octal, blanks and CRLF line ends are accepted" {
    manifest "$fx/hello.wasm"
    sed -i 's/^Memory = .*/Memory =   0x4000000 , 0/; s/^Timeout = .*/Timeout=012/; s/$/\r/' "$tmp/m"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
}

@test "zvm: channel lines with the wrong number of fields are exit 14" {
    manifest "$fx/hello.wasm" "Channel = /dev/null,/dev/x,0,0,1,1,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]
    [ "$(state)" = "MANIFEST 8: Channel has 7 fields, needs exactly 8: uri,alias,type,etag,gets,get_size,puts,put_size" ]
    manifest "$fx/hello.wasm" "Channel = /dev/null,/dev/x,0,0,1,1,0,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == "MANIFEST 8: Channel has 9 fields"* ]]
}

@test "zvm: relative paths, tcp:, bad aliases, directions and duplicates are exit 14" {
    manifest "$fx/hello.wasm" "Channel = data/file,/dev/x,0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [ "$(state)" = "MANIFEST 8: channel uri 'data/file' is not an absolute path; write it from /" ]
    manifest "$fx/hello.wasm" "Channel = tcp:127.0.0.1:9000,/dev/net,0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == *"is tcp://HOST:PORT/TOKEN (connect) or tcp-listen://HOST:PORT/TOKEN (listen)"* ]]
    manifest "$fx/hello.wasm" "Channel = /dev/null,data,0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == *"alias 'data' must be /dev/NAME" ]]
    manifest "$fx/hello.wasm" "Channel = /dev/null,/dev/x,0,0,0,1,0,1"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == *"can be neither read nor written"* ]]
    manifest "$fx/hello.wasm" "Channel = $tmp/rw,/dev/x,0,0,1,1,1,1"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [[ "$(state)" == *"type 0 (sequential) and cannot be both read and written"* ]]
    manifest "$fx/hello.wasm" "Channel = /dev/null,/dev/x,0,0,1,1,0,0" "Channel = /dev/zero,/dev/x,0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]; [ "$(state)" = "MANIFEST 9: channel alias /dev/x used twice (first on line 8); aliases must be unique" ]
}

@test "zvm: the three std channels are required" {
    manifest "$fx/hello.wasm"
    grep -v /dev/stderr "$tmp/m" > "$tmp/m2"
    run zvm_run "$tmp/m2"
    [ "$status" -eq 14 ]
    [[ "$(state)" == "MANIFEST 0: no /dev/stderr channel"* ]]
}

@test "zvm: 10,914 channels (2014's maximum) run; one more is exit 23" {
    for i in $(seq 1 10911); do echo "Channel = /dev/null,/dev/c$i,0,0,1,1,0,0"; done > "$tmp/lines"
    manifest "$fx/hello.wasm"
    cat "$tmp/lines" >> "$tmp/m"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    echo "Channel = /dev/null,/dev/one-more,0,0,1,1,0,0" >> "$tmp/m"
    run zvm_run "$tmp/m"
    [ "$status" -eq 23 ]
    [ "$(state)" = "MANIFEST 10919: more than 10914 channels; merge some, or split the job" ]
}

@test "zvm: a directory as a channel is exit 14; a missing read channel is exit 2" {
    manifest "$fx/hello.wasm" "Channel = $tmp,/dev/dir,0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]
    [[ "$(state)" == "MANIFEST 8: channel /dev/dir ($tmp, manifest line 8): is a directory"* ]]
    manifest "$fx/hello.wasm" "Channel = $tmp/absent,/dev/absent,0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 2 ]
    [[ "$(state)" == *"does not exist"* ]]
}

@test "zvm warns on stderr about skipped lines with their numbers, the report unchanged" {
    manifest "$fx/hello.wasm" "this line has no equals sign" "a = b = c" "timeout = 3" "Nodes = 1" "Colour = blue"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    grep -qx "zvm: manifest line 8: no '=' in 'this line has no equals sign'; line skipped" "$tmp/stderr"
    grep -qx "zvm: manifest line 9: more than one '=' in 'a = b = c'; line skipped" "$tmp/stderr"
    grep -qx "zvm: manifest line 10: unknown key 'timeout' skipped; did you mean Timeout? (keys are case-sensitive)" "$tmp/stderr"
    grep -qx "zvm: manifest line 11: unknown key 'Nodes' skipped; did you mean Node?" "$tmp/stderr"
    grep -q "^zvm: manifest line 12: unknown key 'Colour' skipped (the keys are Version, " "$tmp/stderr"
    [ "$(wc -l < "$tmp/stderr")" -eq 5 ]
    [ "$(wc -l < "$tmp/report")" -eq 7 ]
    [ "$(state)" = ok ]
    run zvm_run -v 2 "$tmp/m"
    [ "$status" -eq 0 ]
    grep -qx "zvm: session ok (exit 0)" "$tmp/stderr"
    grep -qx "zvm: call _start" "$tmp/stderr"
}

@test "zvm: a misspelt required key is reported at the line that was probably meant" {
    manifest "$fx/hello.wasm"
    sed -i 's/^Timeout = /Timout = /' "$tmp/m"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]
    [ "$(state)" = "MANIFEST 4: no Timeout key, and 'Timout' on this line looks like a misspelling of it; write it 'Timeout'" ]
}

@test "zvm: a number out of range says so, with the maximum" {
    MEM=18446744073709551615 manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]
    [ "$(state)" = "MANIFEST 3: Memory size '18446744073709551615' is out of range: the most is 9223372036854775807 bytes" ]
}

@test "zvm: a 300-character alias is a manifest error (14), not a mount failure" {
    manifest "$fx/hello.wasm" "Channel = /dev/null,/dev/$(printf 'a%.0s' $(seq 300)),0,0,1,1,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]
    [[ "$(state)" == "MANIFEST 8: channel alias '/dev/aaaa"*"...' is too long: the NAME after /dev/ is a guest file name, at most 255 bytes" ]]
}

@test "zvm: a program that is not wasm is exit 8 with the decoder's message" {
    echo "#!/bin/sh" > "$tmp/script.wasm"
    manifest "$tmp/script.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 8 ]
    [ "$(report_line 1)" = 1 ]
    [[ "$(state)" == "program $tmp/script.wasm is not valid WebAssembly: "* ]]
}

@test "zvm: a program that fails validation is exit 8 with the validator's message" {
    # one function whose body is i32.add on an empty stack
    printf '\0asm\1\0\0\0\1\4\1\140\0\0\3\2\1\0\12\5\1\3\0\152\13' > "$tmp/invalid.wasm"
    manifest "$tmp/invalid.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 8 ]
    [ "$(report_line 1)" = 1 ]
    [[ "$(state)" == "program $tmp/invalid.wasm is not valid WebAssembly: "*"function"* ]]
    run zvm_run -s "$tmp/m"     # -s cannot make an invalid program run
    [ "$status" -eq 8 ]
}

@test "zvm -F checks everything and runs nothing" {
    manifest "$fx/hello.wasm"
    run zvm_run -F "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    [ "$(report_line 1)" = 0 ]
    [ ! -s "$tmp/out" ]
    manifest "$fx/hello.wasm" "Channel = $tmp/absent,/dev/absent,0,0,1,1,0,0"
    run zvm_run -F "$tmp/m"
    [ "$status" -eq 2 ]
}

@test "zvm -s reports validator state 2 and still runs" {
    manifest "$fx/hello.wasm"
    run zvm_run -s "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(report_line 1)" = 2 ]
    grep -q "hello, world" "$tmp/out"
}

@test "zvm -P -Q -M are accepted and change nothing" {
    manifest "$fx/hello.wasm"
    run zvm_run -P -Q -M "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    grep -q "hello, world" "$tmp/out"
}

@test "zvm -t 1 sends the report to syslog, not to stdout; -t 0 keeps it on stdout" {
    manifest "$fx/hello.wasm"
    run zvm_run -t 1 "$tmp/m"
    [ "$status" -eq 0 ]
    [ ! -s "$tmp/report" ]
    grep -q "hello, world" "$tmp/out"
    run zvm_run -t 0 "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
}

@test "zvm -t 1: the syslog message holds the report's fields" {
    # a private /dev (mount namespace) with our own /dev/log listener; needs root's unshare
    unshare -m true 2>/dev/null || skip "unshare -m is not allowed here"
    manifest "$fx/hello.wasm"
    cat > "$tmp/listen.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
open(sys.argv[2], "wb").write(s.recv(65536))
PY
    unshare -m sh -c "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 &&
        { python3 '$tmp/listen.py' /dev/log '$tmp/syslog' & } &&
        for i in \$(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done &&
        '$zvm' -t 1 '$tmp/m' > '$tmp/report'; echo \$? > '$tmp/rc'; wait"
    [ "$(cat "$tmp/rc")" -eq 0 ]
    [ ! -s "$tmp/report" ]
    grep -q "zvm\[[0-9]*\]: manifest=$tmp/m validator=0 daemon=0 rc=0 etags=disable accounting=[0-9.]* [0-9.]* 0 0 1 40 0 0 0 0 state=ok" "$tmp/syslog"
}

@test "zvm -T writes the session's stages and the guest's host calls" {
    manifest "$fx/hello.wasm"
    run zvm_run -T "$tmp/trace" "$tmp/m"
    [ "$status" -eq 0 ]
    grep -q "^zvm: program $fx/hello.wasm: [0-9]* bytes, valid$" "$tmp/trace"
    grep -q "^zvm: channel /dev/stdout: $tmp/out opened" "$tmp/trace"
    grep -q "^zvm: call _start$" "$tmp/trace"
    grep -q "fd_write" "$tmp/trace"
}

@test "zvm: a /dev/stdout channel shares zvm's stdout (>> keeps appending, the report follows)" {
    manifest "$fx/hello.wasm"
    sed -i "s|^Channel = $tmp/out,|Channel = /dev/stdout,|" "$tmp/m"
    echo "before" > "$tmp/log"
    "$zvm" "$tmp/m" >> "$tmp/log"
    [ "$(sed -n 1p "$tmp/log")" = before ]
    [[ "$(sed -n 2p "$tmp/log")" == "hello, world from hello.wasm inside zvm" ]]
    [ "$(sed -n 8p "$tmp/log")" = ok ]
}
