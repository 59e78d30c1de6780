#!/usr/bin/env bats
# Start-up (issue 14): a plain session loads only what it uses.  libarchive (tar images) and
# libedit (zvsh's line editor) are loaded on first use (libzvm/dynlib.h); MD5 is our own, so
# libcrypto is never linked.  Without one of them, only what needs it fails, with a clear error.

load zvm_helpers

setup() {
    zvm_setup
    zvsh=$top/build/zvsh
    mkdir -p "$tmp/img/sub"
    echo "inside the image" > "$tmp/img/sub/hello.txt"
    tar -C "$tmp/img" -cf "$tmp/image.tar" sub
    printf '[args]\nargs = s_file /data/sub/hello.txt\n[fstab]\nchannel=/dev/image.tar, mountpoint=/data, access=ro\n' \
        > "$tmp/nvram"
}
teardown() { zvm_teardown; }

# loaded CMD...: runs CMD with the dynamic loader's log on, prints the sonames it mapped, one a line.
loaded() {
    LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$@" > /dev/null 2>&1 < /dev/null || true
    cat "$tmp"/ld.* | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u
    rm -f "$tmp"/ld.*
}

image_manifest() {
    manifest "$fx/s_file.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0" \
        "Channel = $tmp/image.tar,/dev/image.tar,3,0,1000000,1000000000,0,0"
}

@test "zvm and zvsh link only libc and libm; zpm links the cluster client's libraries" {
    for bin in zvm zvsh; do
        run ldd "$top/build/$bin"
        [ "$status" -eq 0 ]
        ! echo "$output" | grep -E 'libarchive|libcrypto|libedit|libcurl|libjansson|libyaml|libstdc'
    done
    run ldd "$top/build/zpm"
    echo "$output" | grep -q libcurl
    ! echo "$output" | grep -E 'libarchive|libedit'
}

@test "a plain zvm session maps no optional library; one with an image maps libarchive" {
    manifest "$fx/hello.wasm"
    run loaded "$zvm" "$tmp/m"
    [ "$status" -eq 0 ]
    [ -n "$output" ]                                   # the log works: libc is in it
    echo "$output" | grep -q '^libc\.so'
    ! echo "$output" | grep -E 'libarchive|libcrypto|libedit'
    image_manifest
    run loaded "$zvm" "$tmp/m"
    echo "$output" | grep -q '^libarchive\.so\.13$'
}

@test "zvsh maps libarchive only for an image and libedit never without a terminal" {
    run loaded "$zvsh" "$fx/hello.wasm"
    echo "$output" | grep -q '^libc\.so'
    ! echo "$output" | grep -E 'libarchive|libcrypto|libedit'
    mkdir "$tmp/i2" && cp "$fx/hello.wasm" "$tmp/i2/hello" && tar -C "$tmp/i2" -cf "$tmp/hello.tar" hello
    run loaded "$zvsh" --zvm-image "$tmp/hello.tar" hello
    echo "$output" | grep -q '^libarchive\.so\.13$'
    ! echo "$output" | grep -q libedit
}

# lib_path SONAME: where the dynamic loader finds SONAME (empty when it is not installed).
lib_path() { ldconfig -p | sed -n "s/^\t$1 (libc6,x86-64) => //p" | head -1; }

# need_without SONAME: skips the test unless `without` can hide SONAME here (call it outside `run`).
need_without() {
    [ -n "$(lib_path "$1")" ] || skip "$1 is not installed"
    unshare -m true 2> /dev/null || skip "no mount namespaces here (unshare -m needs root)"
}

# without SONAME CMD...: runs CMD where the library SONAME cannot be loaded (an empty file bound
# over it in a mount namespace of its own).
without() {
    lib=$(lib_path "$1")
    shift
    unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$lib" "$@"
}
without_libarchive() { without libarchive.so.13 "$@"; }

# python3 -c "$PTY_RUN" CMD...: runs CMD on a new pseudo-terminal (its stdin, stdout, stderr and
# controlling terminal, in the foreground), prints what it wrote there, exits with its status.
# Nothing is typed (script(1) sends an end of file when its own stdin ends, and zvsh's line
# editor takes that as a key).
PTY_RUN='
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
'

@test "without libarchive an image session fails with exit 5 and the reason; a plain one still runs" {
    need_without libarchive.so.13
    image_manifest
    run without_libarchive "$zvm" "$tmp/m"
    [ "$status" -eq 5 ]
    echo "$output" | grep -q "image /dev/image.tar: cannot load libarchive.so.13 (needed for tar images): .*; install Debian's libarchive13 package"
    manifest "$fx/hello.wasm"
    run without_libarchive "$zvm" "$tmp/m"
    [ "$status" -eq 0 ]
    grep -q "hello, world" "$tmp/out"
}

@test "without libarchive zvsh refuses an image by its path and runs a .wasm" {
    need_without libarchive.so.13
    mkdir "$tmp/i2" && cp "$fx/hello.wasm" "$tmp/i2/hello" && tar -C "$tmp/i2" -cf "$tmp/hello.tar" hello
    run without_libarchive "$zvsh" --zvm-image "$tmp/hello.tar" hello
    [ "$status" -eq 5 ]
    echo "$output" | grep -q "$tmp/hello.tar.*cannot load libarchive.so.13 (needed for tar images)"
    run without_libarchive "$zvsh" "$fx/hello.wasm"
    [ "$status" -eq 0 ]
    echo "$output" | grep -q "hello, world"
}

@test "at a terminal zvsh loads libedit; without it, it says so and runs without line editing" {
    run python3 -c "$PTY_RUN" env LD_DEBUG=files LD_DEBUG_OUTPUT="$tmp/ld" "$zvsh" "$fx/hello.wasm"
    [ "$status" -eq 0 ]
    cat "$tmp"/ld.* | grep -q 'file=libedit\.so\.2 '
    need_without libedit.so.2
    run without libedit.so.2 python3 -c "$PTY_RUN" "$zvsh" "$fx/hello.wasm"
    [ "$status" -eq 0 ]
    echo "$output" | grep -q "zvsh: no line editing: cannot load libedit.so.2 (needed for line editing at a terminal): .*; install Debian's libedit2 package"
    echo "$output" | grep -q "hello, world"
}
