#!/usr/bin/env bats
# soundness.bats — modules that tried to break out of the sandbox through the translator (issue 12).
# The engine-level variants live in test/spec/soundness.wast; this runs the escape through zvm.

load zvm_helpers

setup() { zvm_setup; }
teardown() { zvm_teardown; }

@test "zvm: the drop/local.set escape module calls the real function (exit code 42, no crash)" {
    manifest "$fx/s_escape.wasm"
    run zvm_run "$tmp/m"
    [ "$status" -eq 0 ]
    [ "$(report_line 3)" = 42 ]
    [ "$(state)" = ok ]
}
