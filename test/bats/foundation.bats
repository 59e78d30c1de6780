#!/usr/bin/env bats
# The foundation: the guest compiler wrapper, the man pages, the commands' --version.

setup() {
    cd "$BATS_TEST_DIRNAME/../.."
    tmp=$(mktemp -d)
}
teardown() { rm -rf "$tmp"; }

@test "zvm-cc builds a C guest that wasm-validate accepts" {
    printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' > "$tmp/h.c"
    run pkg/sdk/zvm-cc -O2 "$tmp/h.c" -o "$tmp/h.wasm"
    [ "$status" -eq 0 ]
    wasm-validate "$tmp/h.wasm"
    # a WASI command: it exports _start and imports from wasi_snapshot_preview1
    wasm-objdump -x "$tmp/h.wasm" | grep -q '_start'
    wasm-objdump -x "$tmp/h.wasm" | grep -q 'wasi_snapshot_preview1'
}

@test "zvm-cc links without DWARF unless -g is given when linking; the name section stays" {
    printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' > "$tmp/h.c"
    sections() { wasm-objdump -h "$1" | sed -n 's/.*Custom.*"\(.*\)"$/\1/p' | tr '\n' ' '; }
    pkg/sdk/zvm-cc -O2 "$tmp/h.c" -o "$tmp/plain.wasm"
    [[ "$(sections "$tmp/plain.wasm")" == *name* ]]
    [[ "$(sections "$tmp/plain.wasm")" != *.debug_* ]]
    pkg/sdk/zvm-cc -O2 -g "$tmp/h.c" -o "$tmp/g.wasm"                  # -g: DWARF kept
    [[ "$(sections "$tmp/g.wasm")" == *.debug_info* ]]
    pkg/sdk/zvm-cc -O2 -g -c "$tmp/h.c" -o "$tmp/h.o"                  # -g when compiling only
    pkg/sdk/zvm-cc "$tmp/h.o" -o "$tmp/o.wasm"
    [[ "$(sections "$tmp/o.wasm")" != *.debug_* ]]
    pkg/sdk/zvm-cc -g "$tmp/h.o" -o "$tmp/og.wasm"
    [[ "$(sections "$tmp/og.wasm")" == *.debug_info* ]]
    pkg/sdk/zvm-cc -O2 -g -g0 "$tmp/h.c" -o "$tmp/g0.wasm"              # the last -g option wins
    [[ "$(sections "$tmp/g0.wasm")" != *.debug_* ]]
}

@test "zvm-cc never takes glibc headers from /usr/include" {
    # <gnu/stubs.h> exists only in glibc's headers: a clean sysroot cannot find it
    printf '#include <gnu/stubs.h>\nint main(void){return 0;}\n' > "$tmp/g.c"
    run pkg/sdk/zvm-cc -c "$tmp/g.c" -o "$tmp/g.o"
    [ "$status" -ne 0 ]
    [[ "$output" == *"gnu/stubs.h"* ]]
}

@test "zvm-cc reports a missing clang clearly" {
    ZVM_CLANG=clang-does-not-exist run pkg/sdk/zvm-cc -c "$tmp/x.c"
    [ "$status" -eq 1 ]
    [[ "$output" == *"clang-does-not-exist not found"* ]]
}

@test "every man page renders without warnings" {
    for page in man/*.[15]; do
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
        [ -z "$out" ] || { echo "$page: $out"; return 1; }
    done
}

@test "each command answers --version" {
    for c in zvm zvsh zpm; do
        run build/$c --version
        [ "$status" -eq 0 ]
        [[ "$output" == "$c "* ]]
    done
}
