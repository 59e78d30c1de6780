#!/usr/bin/env bats
# The SDK beyond plain C: setjmp/longjmp in zvm-cc, zvm-c++ (C++ against Debian's libc++ for
# WASI) and Debian's rustc for wasm32-wasi.  Each guest (build/fixtures/c_setjmp.wasm,
# cxx_shapes.wasm, rs_words.wasm, built by make) runs in zvm and its output is compared with the
# same source built natively on the host.

load zvm_helpers

# Debian's rustc by its path: a rustup rustc first on PATH may lack the wasm32-wasi std.
rustc=/usr/bin/rustc

setup_file() {
    cd "$BATS_TEST_DIRNAME/../.."
    # The native builds, once for the file.  Same source paths as make's, so Rust's panic
    # message names the same file and line.
    clang++-19 -O2 -w test/fixtures/cxx_shapes.cpp -o "$BATS_FILE_TMPDIR/cxx_shapes"
    clang-19 -O2 -w test/fixtures/c_setjmp.c -o "$BATS_FILE_TMPDIR/c_setjmp"
    $rustc --edition 2021 -O test/fixtures/rs_words.rs -o "$BATS_FILE_TMPDIR/rs_words"
}

setup() {
    zvm_setup
    native=$BATS_FILE_TMPDIR
    unset RUST_BACKTRACE # the native panic then prints what the wasm one does
    printf 'The cat and the dog\nthe END of it, All!\n\nzebra crossing the road\n' > "$tmp/in"
}
teardown() { zvm_teardown; }

# guest NAME ARGS...: runs build/fixtures/NAME.wasm in zvm with argv NAME ARGS (no blanks inside
# an argument) and $tmp/in on stdin; the report in $tmp/report, the guest's output in $tmp/out/err.
guest() {
    name=$1; shift
    printf '[args]\nargs = %s\n' "$name $*" > "$tmp/nvram"
    manifest "$fx/$name.wasm" "Channel = $tmp/nvram,/dev/nvram,0,0,100,100000,0,0"
    zvm_run "$tmp/m"
}

# cxx SOURCE-TEXT: builds $tmp/t.wasm from C++ source given on stdin.
cxx() { cat > "$tmp/t.cpp" && pkg/sdk/zvm-c++ -O2 "$tmp/t.cpp" -o "$tmp/t.wasm"; }

@test "zvm-cc: setjmp/longjmp across frames, nested, longjmp(env, 0), an error stack: what the native build prints" {
    run guest c_setjmp
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    [ "$(report_line 3)" = 0 ]
    "$native/c_setjmp" > "$tmp/native.out"
    diff -u "$tmp/native.out" "$tmp/out"
    grep -qx "across frames: setjmp returned 42 after 2 tries, deepest frame 0" "$tmp/out"
    grep -qx "longjmp(env, 0): setjmp returned 1" "$tmp/out"
    grep -qx "nested: outer setjmp returned 7 at stage 2" "$tmp/out"
    grep -qx "error stack: sum of statuses 150015000" "$tmp/out"
    [ ! -s "$tmp/err" ]
}

@test "zvm-cc links the setjmp runtime only into programs that use setjmp" {
    # the runtime defines the exception tag longjmp throws: a tag section says it is there
    wasm-objdump -h "$fx/c_setjmp.wasm" | grep -q '^ *Tag '
    wasm-objdump -x "$fx/c_setjmp.wasm" | grep -q '__wasm_longjmp'
    printf '#include <stdio.h>\nint main(void) { puts("plain"); return 0; }\n' > "$tmp/p.c"
    pkg/sdk/zvm-cc -O2 "$tmp/p.c" -o "$tmp/p.wasm"
    ! wasm-objdump -h "$tmp/p.wasm" | grep -q '^ *Tag '
    ! wasm-objdump -x "$tmp/p.wasm" | grep -q '__wasm_longjmp\|__wasm_setjmp'
}

@test "zvm-cc: a longjmp to a setjmp whose function returned ends the run as an uncaught exception" {
    # undefined in C; in zvm the exception finds no handler, and the trap says so where it was thrown
    cat > "$tmp/s.c" <<'EOF'
#include <setjmp.h>
#include <stdio.h>
static jmp_buf jb;
static __attribute__((noinline)) int set(void) { return setjmp(jb); }
int main(void) {
    if (set() == 0) { puts("set"); fflush(stdout); longjmp(jb, 1); }
    return 0;
}
EOF
    pkg/sdk/zvm-cc -O2 "$tmp/s.c" -o "$tmp/s.wasm"
    manifest "$tmp/s.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 4 ]
    [[ "$(state)" =~ ^trap:\ uncaught\ exception\ \(tag\ [0-9]+\)\ in\ function\ [0-9]+\ \(__wasm_longjmp\)\ at\ byte\ 0x[0-9a-f]+$ ]]
    [ "$(cat "$tmp/out")" = set ]
}

@test "zvm-c++: classes, templates, std::string/vector/map, sort and iostream print what the native build prints" {
    run guest cxx_shapes one two
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    [ "$(report_line 3)" = 0 ]
    "$native/cxx_shapes" one two < "$tmp/in" > "$tmp/native.out"
    diff -u "$tmp/native.out" "$tmp/out"
    # the comparison is not of two empty files: the program got through all its parts
    grep -qx "args: one two" "$tmp/out"
    grep -q "^s1: area 9.000, perimeter 12.000 (square, diagonal 4.24264)$" "$tmp/out"
    grep -qx "the          4" "$tmp/out"
    grep -qx "constructed: registry c1 r1 s1 c2" "$tmp/out"
    [ ! -s "$tmp/err" ]
}

@test "zvm-c++: the same source gives the same bytes twice, names kept, with wasm-opt on PATH" {
    command -v wasm-opt # binaryen (make deps) is installed: clang-19 would run it if zvm-cc let it
    mkdir "$tmp/a" "$tmp/b"
    pkg/sdk/zvm-c++ -O2 test/fixtures/cxx_shapes.cpp -o "$tmp/a/p.wasm"
    pkg/sdk/zvm-c++ -O2 test/fixtures/cxx_shapes.cpp -o "$tmp/b/p.wasm"
    cmp "$tmp/a/p.wasm" "$tmp/b/p.wasm"
    # wasm-opt drops the name section; zvm names functions in traps from it
    wasm-objdump -h "$tmp/a/p.wasm" | grep -q '"name"'
    wasm-validate "$tmp/a/p.wasm"
}

@test "zvm-c++ refuses -fexceptions and says why; --help says exceptions are off" {
    printf 'int main() { return 0; }\n' > "$tmp/e.cpp"
    for flag in -fexceptions -fcxx-exceptions -fwasm-exceptions; do
        run pkg/sdk/zvm-c++ "$flag" "$tmp/e.cpp" -o "$tmp/e.wasm"
        [ "$status" -eq 1 ]
        [ "$output" = "zvm-c++: $flag: C++ exceptions need a libc++abi built with them, and Debian's for WASI is not (no __cxa_throw); build with -fno-exceptions (the default) and handle errors without throw" ]
        [ ! -e "$tmp/e.wasm" ]
    done
    run pkg/sdk/zvm-c++ --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: zvm-c++ "* ]]
    [[ "$output" == *"-fno-exceptions"* ]]
    [[ "$output" == *"libc++abi"*"built without exceptions"* ]]
    # without the flag the same file builds
    pkg/sdk/zvm-c++ "$tmp/e.cpp" -o "$tmp/e.wasm"
    wasm-validate "$tmp/e.wasm"
}

@test "zvm-c++: a throw inside libc++ aborts with libc++'s message and an unreachable trap in abort" {
    cxx <<'EOF'
#include <cstdio>
#include <vector>
int main(int argc, char **) {
    std::vector<int> v(2);
    std::puts("before");
    std::fflush(stdout);
    return v.at(argc + 5);
}
EOF
    manifest "$tmp/t.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 4 ]
    [[ "$(state)" =~ ^trap:\ unreachable\ in\ function\ [0-9]+\ \(abort\)\ at\ byte\ 0x[0-9a-f]+$ ]]
    [ "$(cat "$tmp/out")" = before ]
    grep -q 'out_of_range was thrown in -fno-exceptions mode with message "vector"' "$tmp/err"
}

@test "zvm-c++ reports a missing libc++ for WASI clearly" {
    mkdir -p "$tmp/sysroot/lib/wasm32-wasi"
    ZVM_SYSROOT=$tmp/sysroot run pkg/sdk/zvm-c++ "$tmp/x.cpp"
    [ "$status" -eq 1 ]
    [ "$output" = "zvm-c++: libc++ for WASI is not installed (no $tmp/sysroot/lib/wasm32-wasi/libc++.a); run 'make deps' or apt-get install libc++-19-dev-wasm32 libc++abi-19-dev-wasm32" ]
}

@test "make install puts zvm-c++ beside zvm-cc, with the man page; the installed one builds C++" {
    make -s install DESTDIR="$tmp/d" PREFIX=/opt/zvm > "$tmp/install.log" 2>&1
    bin=$tmp/d/opt/zvm/bin
    [ -x "$bin/zvm-c++" ] && [ -x "$bin/zvm-cc" ]
    man1=$tmp/d/opt/zvm/share/man/man1
    [ "$(readlink "$man1/zvm-c++.1")" = zvm-cc.1 ]
    cmp "$man1/zvm-c++.1" man/zvm-cc.1
    HOME=$tmp/home "$bin/zvm-c++" -O2 test/fixtures/cxx_shapes.cpp -o "$tmp/cxx_shapes.wasm"
    # the installed sysroot served, not a private one under HOME; the bytes are make's
    [ ! -e "$tmp/home/.cache/zvm-cc" ]
    cmp "$tmp/cxx_shapes.wasm" "$fx/cxx_shapes.wasm"
}

@test "Rust: collections, formatting, args and stdin print what the native build prints" {
    run guest rs_words x y
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    [ "$(report_line 3)" = 0 ]
    "$native/rs_words" x y < "$tmp/in" > "$tmp/native.out"
    diff -u "$tmp/native.out" "$tmp/out"
    grep -qx 'args: \["x", "y"\]' "$tmp/out"
    grep -qx "14 words, 11 distinct, mean length 3.429" "$tmp/out"
    grep -qx "the       |   4|0x03fc" "$tmp/out"
    grep -qx "c => cat,crossing" "$tmp/out"
    [ ! -s "$tmp/err" ]
}

@test "Rust: std::process::exit's code is the guest's return code (zvm report, zvsh status)" {
    run guest rs_words exit3
    [ "$status" -eq 0 ]
    [ "$(state)" = ok ]
    [ "$(report_line 3)" = 3 ]
    run "$top/build/zvsh" "$fx/rs_words.wasm" exit3 < /dev/null
    [ "$status" -eq 3 ]
}

@test "Rust: a panic prints the native message on stderr, then traps (unreachable): zvm exit 4, zvsh 64" {
    run "$native/rs_words" panic
    [ "$status" -eq 101 ]
    native_msg=$(printf '%s\n' "$output" | grep "^thread 'main' panicked at")
    [ "$native_msg" = "thread 'main' panicked at 'asked to panic after 1 arguments, depth [1, 2, 3]', test/fixtures/rs_words.rs:35:9" ]

    run guest rs_words panic
    [ "$status" -eq 4 ]
    [[ "$(state)" =~ ^trap:\ unreachable\ in\ function\ [0-9]+\ \(__rust_start_panic\)\ at\ byte\ 0x[0-9a-f]+$ ]]
    [ "$(head -1 "$tmp/err")" = "$native_msg" ]
    [ "$(cat "$tmp/out")" = 'args: ["panic"]' ]

    run "$top/build/zvsh" "$fx/rs_words.wasm" panic < /dev/null
    [ "$status" -eq 64 ] # zvm's 4, shifted by zvsh (guest | zvm << 4)
    [[ "$output" == *"$native_msg"* ]]
    [[ "$output" == *"trap: unreachable in function "*" (__rust_start_panic) at byte 0x"* ]]
    [[ "$output" == *"ERROR: ZeroVM return code is 4"* ]]
}
