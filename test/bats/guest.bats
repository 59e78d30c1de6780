#!/usr/bin/env bats
# The guest ABI through zvm: every WASI call (g_wasi), the quota rules (g_quota), the zvm
# import module (g_zvm), the file system with tar images and the memory limit (g_fs), and
# determinism.  Fixtures: test/fixtures/g_*.c, built by `make fixtures`.

setup() {
    cd "$BATS_TEST_DIRNAME/../.."
    top=$PWD
    tmp=$(mktemp -d)
    printf 'hello stdin\n' > "$tmp/in"
    printf 0123456789 > "$tmp/data"
}
teardown() { [ -z "${tmp:-}" ] || rm -rf "$tmp"; }

# manifest PROGRAM [Memory] — writes $tmp/manifest with the std channels, then the lines in $tmp/channels.
manifest() {
    {
        echo "Version = 20130611"
        echo "Program = $top/build/fixtures/$1.wasm"
        echo "Memory = ${2:-67108864}, 0"
        echo "Timeout = 10"
        echo "Channel = $tmp/in, /dev/stdin, 0, 0, 100, 100000, 0, 0"
        echo "Channel = $tmp/out, /dev/stdout, 0, 0, 0, 0, 1000, 1000000"
        echo "Channel = $tmp/err, /dev/stderr, 0, 0, 0, 0, 1000, 1000000"
        [ ! -e "$tmp/channels" ] || cat "$tmp/channels"
        [ ! -e "$tmp/nvram" ] || echo "Channel = $tmp/nvram, /dev/nvram, 0, 0, 100, 100000, 0, 0"
    } > "$tmp/manifest"
}

channel() { echo "Channel = $*" >> "$tmp/channels"; }

# The report's lines: 3 is the user return code, 6 the exit state.
report_line() { echo "$output" | sed -n "${1}p"; }

@test "g_wasi: every wasi_snapshot_preview1 call answers as specified" {
    channel "$tmp/data, /dev/data, 3, 0, 100, 100000, 100, 100000"
    printf '[args]\nargs = g_wasi one two\n[env]\nname=GREETING, value=hi\n[time]\nseconds=1000\n' > "$tmp/nvram"
    manifest g_wasi
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 0 ]
    [ "$(report_line 3)" = 7 ]
    [ "$(report_line 6)" = ok ]
    cat > "$tmp/expected" <<'OUT'
args_sizes_get 0 3 15
args_get 0 g_wasi|one|two
environ_sizes_get 0 1 12
environ_get 0 GREETING=hi
clock_res_get 0 1000
clock_time_get 0 1000000001000
clock step 1000
random_get 0 116f34bdae54380a
fd_prestat_get 0 0 1
fd_prestat_dir_name 0 /
path_create_directory 0 tmp/d
path_open 0 fd 4
fd_write 0 6
fd_seek 0 2
fd_tell 0 2
fd_read 0 4 cdef
fd_pread 0 5 bcdef
fd_pwrite 0 2
fd_fdstat_get 0 type 4
fd_fdstat_set_flags 0 flags 1
fd_fdstat_set_rights 0 advise right 0
fd_filestat_get 0 size 6 type 4 nlink 1
fd_filestat_set_size 0 size 3
fd_filestat_set_times 0 atim 5 mtim 6
fd_advise 0
fd_allocate 0 size 10
fd_sync 0
fd_datasync 0
path_filestat_get 0 size 10
path_filestat_set_times 0 mtim 77
path_symlink 0
path_readlink 0 1 f
path_link 0 nlink 2
path_rename 0
fd_readdir 0 . .. f h2 l
path_remove_directory 55 (not empty)
path_unlink_file 0
path_remove_directory 0
fd_renumber 0
fd_close 0
fd_close 8 (again)
fd_read 0 stdin 12
fd_seek 70 stdin (ESPIPE)
path_open 0 /dev/data from 7: 789
poll_oneoff 0 1 events, userdata 42, clock moved 1000001000
sched_yield 0
sock_accept 58
sock_recv 58
sock_send 58
sock_shutdown 58
fd_write 21 (iovec outside memory)
clock_time_get 21 (result outside memory)
proc_raise 0 (signal 0)
proc_exit 7
OUT
    diff -u "$tmp/expected" "$tmp/out"
}

@test "g_wasi: proc_raise of a real signal stops the guest with a trap naming it" {
    printf '[args]\nargs = g_wasi raise\n' > "$tmp/nvram"
    manifest g_wasi
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 4 ]
    [[ "$(report_line 6)" == *"signal 6"* ]]
    ! grep -q "still running" "$tmp/out"
}

@test "g_quota: EDQUOT past a limit, clipping at the byte limit, ESPIPE, directions" {
    channel "$tmp/qo, /dev/out, 0, 0, 0, 0, 100, 10"
    channel "$tmp/qc, /dev/cnt, 0, 0, 0, 0, 2, 1000"
    printf abcdefghijkl > "$tmp/inq"
    channel "$tmp/inq, /dev/in, 0, 0, 2, 1000, 0, 0"
    printf 0123456789 > "$tmp/in5"
    channel "$tmp/in5, /dev/in5, 0, 0, 100, 5, 0, 0"
    manifest g_quota
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 0 ]
    [ "$(report_line 6)" = ok ]
    cat > "$tmp/expected" <<'OUT'
write1 4
write2 4
write3 2
write4 -1 EDQUOT
cnt1 2
cnt2 2
cnt3 -1 EDQUOT
lseek-out -1 ESPIPE
read-out -1 EBADF
read1 3
read2 3
read3 -1 EDQUOT
read-in5 5
read-in5-again -1 EDQUOT
open-in-for-writing -1 EACCES
create-in-dev -1 EROFS
OUT
    diff -u "$tmp/expected" "$tmp/out"
    # what was written up to the limit is kept
    [ "$(cat "$tmp/qo")" = abcdabcdab ]
    [ "$(cat "$tmp/qc")" = abab ]
}

@test "g_zvm: channel enumeration, zvm_pread/zvm_pwrite with quotas and errors, zvm_exit" {
    channel "$tmp/data, /dev/data, 3, 0, 100, 100000, 100, 100000"
    channel "$tmp/small, /dev/small, 0, 0, 0, 0, 100, 3"
    manifest g_zvm
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 0 ]
    [ "$(report_line 3)" = 3 ]
    cat > "$tmp/expected" <<'OUT'
channels 5
0 /dev/stdin type 0 flags 1 limits 100 100000 0 0 size 12
1 /dev/stdout type 0 flags 2 limits 0 0 1000 1000000 size 11
2 /dev/stderr type 0 flags 2 limits 0 0 1000 1000000 size 0
3 /dev/data type 3 flags 3 limits 100 100000 100 100000 size 10
4 /dev/small type 0 flags 2 limits 0 0 100 3 size 0
zvm_pread 4 6789
zvm_pwrite 2
zvm_pread 4 AB23
small 3
small -122
stdin-write -9
no-channel -9
bad-buffer -14
negative-offset -22
written by zvm_pwrite
OUT
    diff -u "$tmp/expected" "$tmp/out"
    [ "$(cat "$tmp/data")" = AB23456789 ]
    [ "$(cat "$tmp/small")" = 123 ]
}

# fs_setup: a gzipped tar image at /img (ro), a wo image at /out, stdout mapped as char.
fs_setup() {
    mkdir -p "$tmp/s/lib"
    echo "hello from the image" > "$tmp/s/hello.txt"
    touch "$tmp/s/lib/a.py" "$tmp/s/lib/b.py"
    ln -s hello.txt "$tmp/s/link"
    tar -C "$tmp/s" -czf "$tmp/img.tgz" .
    channel "$tmp/img.tgz, /dev/1.img.tgz, 1, 0, 100, 100000, 0, 0"
    channel "$tmp/out.tar, /dev/out.tar, 0, 0, 0, 0, 1000, 1000000"
    cat > "$tmp/nvram" <<'NV'
[args]
args = g_fs
[env]
name=GREETING, value=hi
[fstab]
channel=/dev/1.img.tgz, mountpoint=/img, access=ro, removable=no
channel=/dev/out.tar, mountpoint=/out, access=wo
[mapping]
channel=/dev/stdout, mode=char
[time]
seconds=1700000000
NV
    manifest g_fs
}

@test "g_fs: ro image, wo image written back as tar, /tmp, /dev, mapping, no host paths" {
    fs_setup
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 0 ]
    [ "$(report_line 6)" = ok ]
    cat > "$tmp/expected" <<'OUT'
img read: hello from the image
img list: . .. a.py b.py
img readlink: 9 hello.txt
img via link: hello from the image
img write: EROFS
img create: EROFS
img unlink: EROFS
img mkdir: EROFS
host /etc/passwd: ENOENT
escape ../../etc/passwd: ENOENT
root after ..: still /
tmp: temporary
stdout: char isatty 1
stdin: file
fd 0: file
dev: . .. 1.img.tgz nvram out.tar stderr stdin stdout
time 1700000000
slept 5 s
random 116f34bdae54380a
env hi, args 1 g_fs
OUT
    diff -u "$tmp/expected" "$tmp/out"
    [ "$(tar -tf "$tmp/out.tar" | tr '\n' ' ')" = "latest result.txt sub/ sub/deep.txt " ]
    [ "$(tar -xOf "$tmp/out.tar" result.txt)" = "result 42" ]
    # deterministic metadata: owner 0/0, the virtual clock's time
    tar -tvf "$tmp/out.tar" | grep -q '^-rw-r--r-- 0/0 .* 2023-11-14 .* result.txt$'
}

@test "determinism: the same manifest twice gives byte-identical outputs and images" {
    fs_setup
    build/zvm "$tmp/manifest" > /dev/null
    cp "$tmp/out" "$tmp/out.1"
    cp "$tmp/out.tar" "$tmp/out.tar.1"
    build/zvm "$tmp/manifest" > /dev/null
    cmp "$tmp/out" "$tmp/out.1"
    cmp "$tmp/out.tar" "$tmp/out.tar.1"
}

@test "memory: files in memory share Memory with linear memory (ENOSPC), unlink gives room back" {
    printf '[args]\nargs = g_fs fill 4194304\n' > "$tmp/nvram"
    manifest g_fs 4194304
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 0 ]
    cat > "$tmp/expected" <<'OUT'
fill stopped: ENOSPC
linear memory + files within Memory: yes
stopped less than a step short of it: yes
fill size is what was written: yes
unlinked but open: write -1
after unlink: write 65536
OUT
    diff -u "$tmp/expected" "$tmp/out"
}

@test "a corrupt or truncated image is an error naming its channel" {
    head -c 1000 /dev/urandom > "$tmp/bad.tar"
    channel "$tmp/bad.tar, /dev/bad.tar, 1, 0, 100, 100000, 0, 0"
    printf '[fstab]\nchannel=/dev/bad.tar, mountpoint=/, access=ro\n' > "$tmp/nvram"
    manifest g_fs
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 5 ]
    [[ "$(report_line 6)" == *"/dev/bad.tar"*"not a tar archive"* ]]

    mkdir -p "$tmp/t" && head -c 3000 /dev/zero | tr '\0' x > "$tmp/t/f" && tar -C "$tmp/t" -cf "$tmp/full.tar" f
    head -c 1500 "$tmp/full.tar" > "$tmp/bad.tar"
    run build/zvm "$tmp/manifest"
    [ "$status" -eq 5 ]
    [[ "$(report_line 6)" == *"/dev/bad.tar"*"truncated"* ]]
}

@test "an fstab entry for a channel the manifest lacks is an error" {
    printf '[fstab]\nchannel=/dev/missing.tar, mountpoint=/, access=ro\n' > "$tmp/nvram"
    manifest g_fs
    run build/zvm "$tmp/manifest"
    [ "$status" -ne 0 ]
    [[ "$(report_line 6)" == *"/dev/missing.tar"* ]]
}

@test "zvm -T traces every guest call with its arguments and result" {
    channel "$tmp/data, /dev/data, 3, 0, 100, 100000, 100, 100000"
    printf '[args]\nargs = g_wasi one two\n' > "$tmp/nvram"
    manifest g_wasi
    run build/zvm -T "$tmp/trace" "$tmp/manifest"
    [ "$status" -eq 0 ]
    grep -qx 'fd_prestat_get(3, [0-9]*) = 0' "$tmp/trace"
    grep -qx 'sock_accept(1, 0, [0-9]*) = 58' "$tmp/trace"
    grep -qx 'proc_raise(0) = 0' "$tmp/trace"
    grep -qx 'proc_exit(7) exits 7' "$tmp/trace"
}
