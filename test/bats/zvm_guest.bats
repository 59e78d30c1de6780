#!/usr/bin/env bats
# zvm running guests: return codes, traps, Timeout, Memory, quotas, nvram, images, etags,
# 100 MB through a channel, determinism.  Guests are built from test/fixtures/s_*.

load zvm_helpers
setup() { zvm_setup; }
teardown() { zvm_teardown; }

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# overrun_ms: how long after the Timeout the guest stopped, as the session measured it (-T trace)
overrun_ms() { sed -n 's/^zvm: guest stopped \(-*[0-9]*\) ms after the Timeout$/\1/p' "$tmp/trace"; }

@test "zvm runs a C hello world" {
    manifest "$fx/hello.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "hello, world from hello.wasm inside zvm" ]
    # accounting: one local write of 40 bytes, nothing read, nothing on the network
    [[ "$(report_line 5)" =~ ^[0-9.]+\ [0-9.]+\ 0\ 0\ 1\ 40\ 0\ 0\ 0\ 0$ ]]
}

@test "zvm: the guest's exit code is line 3, and the session is still ok (exit 0)" {
    manifest "$fx/s_exit.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(report_line 3)" = 3 ]
    [ "$(state)" = ok ]
}

@test "zvm: a trapping guest is exit 4 and the state says which trap and where" {
    manifest "$fx/s_trap.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 4 ]
    [[ "$(state)" =~ ^trap:\ integer\ divide\ by\ zero\ in\ function\ 0.*at\ byte\ 0x[0-9a-f]+$ ]]
    grep -q "^zvm: trap: integer divide by zero" "$tmp/stderr"
}

@test "zvm: a trap names the function from the name section; output before it is kept" {
    manifest "$fx/s_oob.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 4 ]
    [[ "$(state)" =~ ^trap:\ out\ of\ bounds\ memory\ access\ in\ function\ [0-9]+\ \(poke\)\ at\ byte\ 0x[0-9a-f]+$ ]]
    [ "$(cat "$tmp/out")" = "before the trap" ]
}

@test "zvm: an endless loop stops at Timeout, within 100 ms (exit 4, session timeout)" {
    TIMEOUT=1 manifest "$fx/s_loop.wasm"
    t0=$(ms_now)
    run zvm_run -T "$tmp/trace" "$tmp/m"
    t1=$(ms_now)
    [ "$status" -eq 4 ]
    [ "$(state)" = "session timeout" ]
    echo "# zvm ran $((t1 - t0)) ms; the guest stopped $(overrun_ms) ms after the Timeout" >&3
    [ $((t1 - t0)) -ge 1000 ]
    [ $((t1 - t0)) -lt 2000 ]     # the whole process, on a possibly busy machine
    [ "$(overrun_ms)" -ge 0 ]
    [ "$(overrun_ms)" -lt 100 ]
}

@test "zvm: an endless start function is stopped by Timeout too" {
    TIMEOUT=1 manifest "$fx/s_loop_start.wasm"
    t0=$(ms_now)
    run zvm_run -T "$tmp/trace" "$tmp/m"
    t1=$(ms_now)
    [ "$status" -eq 4 ]
    [ "$(state)" = "session timeout" ]
    [ $((t1 - t0)) -lt 2000 ]
    [ "$(overrun_ms)" -lt 100 ]
}

@test "zvm: a guest blocked reading a FIFO that never delivers is stopped at Timeout" {
    mkfifo "$tmp/fifo"
    sleep 30 > "$tmp/fifo" 3>&- &   # a writer that never writes
    writer=$!
    TIMEOUT=1 manifest "$fx/s_cat.wasm"
    sed -i "s|^Channel = $tmp/in,|Channel = $tmp/fifo,|" "$tmp/m"
    t0=$(ms_now)
    run zvm_run -T "$tmp/trace" "$tmp/m"
    t1=$(ms_now)
    kill $writer
    [ "$status" -eq 4 ]
    [ "$(state)" = "session timeout" ]
    [ $((t1 - t0)) -lt 2000 ]
    [ "$(overrun_ms)" -lt 100 ]
}

@test "zvm: a FIFO channel nobody opens does not hang zvm past Timeout" {
    mkfifo "$tmp/fifo"
    TIMEOUT=1 manifest "$fx/s_cat.wasm"
    sed -i "s|^Channel = $tmp/in,|Channel = $tmp/fifo,|" "$tmp/m"
    t0=$(ms_now)
    run zvm_run "$tmp/m"
    t1=$(ms_now)
    [ "$status" -eq 4 ]
    [ "$(state)" = "session timeout" ]
    [ $((t1 - t0)) -lt 2000 ]     # blocked in open(2): woken by the Timeout's signal
}

@test "zvm: initial memory above Memory is exit 12" {
    MEM=1048576 manifest "$fx/s_bigmem.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 12 ]
    [ "$(state)" = "program $fx/s_bigmem.wasm needs 16777216 bytes of memory at start; Memory allows 1048576" ]
    MEM=16777216 manifest "$fx/s_bigmem.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    # an imported memory's minimum counts too, and is checked before the imports are resolved
    MEM=1048576 manifest "$fx/s_bigmem_import.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 12 ]
    [ "$(state)" = "program $fx/s_bigmem_import.wasm needs 16777216 bytes of memory at start; Memory allows 1048576" ]
}

@test "zvm: memory.grow past Memory fails inside the guest" {
    MEM=16777216 manifest "$fx/s_grow_fail.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(report_line 3)" = 1 ]     # the guest saw memory.grow return -1
    MEM=134217728 manifest "$fx/s_grow_fail.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(report_line 3)" = 0 ]     # 64 MB more fits in 128 MB
}

@test "zvm: a C guest allocating too much sees malloc fail and ends normally" {
    MEM=33554432 manifest "$fx/s_grow.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    n=$(sed -n 's/^allocated \([0-9]*\) MiB before malloc failed$/\1/p' "$tmp/out")
    [ -n "$n" ]
    [ "$n" -gt 10 ]
    [ "$n" -lt 32 ]
}

@test "zvm: writing past put_size clips, then EDQUOT; what fit is kept" {
    ETAG=1 OUT_BYTES=35 manifest "$fx/s_quota.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "01234567890123456789012345678901234" ]
    grep -qx "write 3: 10 bytes" "$tmp/err"
    grep -qx "write 4: 5 bytes" "$tmp/err"
    grep -q "^write 5: error EDQUOT " "$tmp/err"
    grep -q "^write 10: error EDQUOT " "$tmp/err"
    grep -qx "zvm_pwrite: -122" "$tmp/err"     # ZeroVM's own call sees the raw errno
    # the etag covers exactly the bytes that went through
    md5=$(printf 01234567890123456789012345678901234 | md5sum | cut -d' ' -f1)
    [[ "$(report_line 4)" == *"/dev/stdout $md5" ]]
    [[ "$(report_line 5)" =~ ^[0-9.]+\ [0-9.]+\ [0-9]+\ [0-9]+\ [0-9]+\ [0-9]+\ 0\ 0\ 0\ 0$ ]]
}

@test "zvm: running out of puts is EDQUOT too" {
    OUT_PUTS=2 manifest "$fx/s_quota.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "01234567890123456789" ]
    grep -q "^write 3: error EDQUOT " "$tmp/err"
}

@test "zvm: nvram gives the guest its arguments and environment" {
    printf '[args]\nargs = prog one two\\x20words\n[env]\nname=GREETING, value=hi\\x2c there\n' > "$tmp/nvram"
    manifest "$fx/s_env.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    grep -qx "arg 0: prog" "$tmp/out"
    grep -qx "arg 1: one" "$tmp/out"
    grep -qx "arg 2: two words" "$tmp/out"
    grep -qx "env: GREETING=hi, there" "$tmp/out"
    # zvm's read of the nvram is not the guest's: no reads in the accounting
    [[ "$(report_line 5)" =~ ^[0-9.]+\ [0-9.]+\ 0\ 0\  ]]
}

@test "zvm: malformed nvram is exit 14 naming the nvram line" {
    printf '[args]\nargs = prog\n[env]\nname=X\n' > "$tmp/nvram"
    manifest "$fx/s_env.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 14 ]
    [ "$(state)" = "nvram 4: [env] record needs value= (it may be empty)" ]
    [ ! -s "$tmp/out" ]
}

@test "zvm: a tar image mounted by nvram fstab is readable by the guest" {
    mkdir -p "$tmp/img/sub"
    echo "inside the image" > "$tmp/img/sub/hello.txt"
    tar -C "$tmp/img" -cf "$tmp/image.tar" sub
    printf '[args]\nargs = s_file /data/sub/hello.txt\n[fstab]\nchannel=/dev/image.tar, mountpoint=/data, access=ro\n' > "$tmp/nvram"
    manifest "$fx/s_file.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0" \
        "Channel = $tmp/image.tar,/dev/image.tar,3,0,1000000,1000000000,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(cat "$tmp/out")" = "inside the image" ]
}

@test "zvm: a corrupt or truncated tar image is exit 5 with the image named" {
    mkdir -p "$tmp/img"
    head -c 100000 /dev/urandom > "$tmp/img/blob"
    tar -C "$tmp/img" -cf "$tmp/full.tar" blob
    head -c 20000 "$tmp/full.tar" > "$tmp/trunc.tar"
    head -c 5000 /dev/urandom > "$tmp/junk.tar"
    for image in trunc.tar junk.tar; do
        printf '[fstab]\nchannel=/dev/%s, mountpoint=/data, access=ro\n' $image > "$tmp/nvram"
        manifest "$fx/s_file.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0" \
            "Channel = $tmp/$image,/dev/$image,3,0,1000000,1000000000,0,0"
        run zvm_run "$tmp/m"
        [ "$status" -eq 5 ]
        [[ "$(state)" == *"$image"* ]]
    done
}

@test "zvm: 100 MB through a guest cat, MD5 checked by the etags and md5sum" {
    head -c 104857600 /dev/urandom > "$tmp/in"
    ETAG=1 manifest "$fx/s_cat.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    want=$(md5sum < "$tmp/in" | cut -d' ' -f1)
    [ "$(md5sum < "$tmp/out" | cut -d' ' -f1)" = "$want" ]
    [ "$(report_line 4)" = "/dev/stdin $want /dev/stdout $want" ]
    [[ "$(report_line 5)" =~ ^[0-9.]+\ [0-9.]+\ [0-9]+\ 104857600\ [0-9]+\ 104857600\ 0\ 0\ 0\ 0$ ]]
}

@test "zvm: the same manifest twice gives byte-identical outputs and etags (clock, random)" {
    ETAG=1 manifest "$fx/s_clock.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    cp "$tmp/out" "$tmp/out1"; report_line 4 > "$tmp/etags1"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    cmp "$tmp/out" "$tmp/out1"
    [ "$(report_line 4)" = "$(cat "$tmp/etags1")" ]
    # and the guest really read changing values: the clock moves and the random bytes differ
    [ "$(wc -l < "$tmp/out")" -eq 3 ]
    [ "$(cut -d' ' -f8 "$tmp/out" | sort -u | wc -l)" -eq 3 ]
    [ "$(cut -d' ' -f4 "$tmp/out" | sort -u | wc -l)" -eq 3 ]
}

@test "zvm: nvram [time] and [random] move the virtual clock and the seed" {
    ETAG=1 manifest "$fx/s_clock.wasm"
    run zvm_run "$tmp/m"
    cp "$tmp/out" "$tmp/out1"
    printf '[time]\nseconds=1700000000\n[random]\nseed=7\n' > "$tmp/nvram"
    ETAG=1 manifest "$fx/s_clock.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [[ "$(head -1 "$tmp/out")" == "realtime 1700000000."* ]]
    [ "$(head -1 "$tmp/out" | cut -d' ' -f8)" != "$(head -1 "$tmp/out1" | cut -d' ' -f8)" ]
}
