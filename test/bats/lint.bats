#!/usr/bin/env bats
# Linters over the parts the C compiler does not see: the Python (ZeroCloud's Swift middleware
# and its tests, the zapp template, the bench generator) through Debian's pyflakes3.

setup() {
    cd "$BATS_TEST_DIRNAME/../.."
    tmp=$(mktemp -d)
}
teardown() { rm -rf "$tmp"; }

@test "pyflakes3 finds nothing in the project's Python" {
    run pyflakes3 share/zerocloud share/zapp test/bench
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "pyflakes3 does report a finding (the check above can fail)" {
    printf 'import os\n\ndef f():\n    return undefined_name\n' > "$tmp/bad.py"
    run pyflakes3 "$tmp/bad.py"
    [ "$status" -eq 1 ]
    [[ "$output" == *"'os' imported but unused"* ]]
    [[ "$output" == *"undefined name 'undefined_name'"* ]]
}
