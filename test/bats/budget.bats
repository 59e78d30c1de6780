#!/usr/bin/env bats
# Memory is one budget: linear memory plus the guest's in-memory files (docs/GuestABI.md, "The file system").

setup() {
    top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export ZVSH_CONFIG=/dev/null
}

@test "with no files, memory grows up to Memory" {
    run "$top/build/zvsh" --zvm-memory 8388608 "$top/build/fixtures/budget.wasm" 0 5
    [ "$status" -eq 0 ]
    [ "$output" = "malloc 5 MiB: ok" ]
}

@test "what files hold, memory.grow can no longer take" {
    run "$top/build/zvsh" --zvm-memory 8388608 "$top/build/fixtures/budget.wasm" 4 5
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "file 4 MiB written" ]
    [ "${lines[1]}" = "malloc 5 MiB: failed" ]
}

@test "and files cannot take what memory holds" {
    run "$top/build/zvsh" --zvm-memory 8388608 "$top/build/fixtures/budget.wasm" 9 0
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "file "*" failed" ]]
}
