#!/bin/sh
# test/spec/official.sh [--exceptions] DIR — runs the official WebAssembly testsuite's core
# scripts through zvm-spec and prints per-file and total counts.  Not part of make check.
#
# DIR is a checkout of https://github.com/WebAssembly/testsuite at a commit whose core files
# wabt 1.0.32's wast2json reads; 3a04b2c (2022-11-09, the 2.0 era) is the one we use:
#     git clone https://github.com/WebAssembly/testsuite && git -C testsuite checkout 3a04b2c
# Runs DIR/*.wast (proposals/ is skipped).  simd_*.wast are skipped too, as the engine has no
# SIMD yet; ZVM_SPEC_SIMD=1 includes them.  Converted files and one log per script go to
# build/spec-official/; ZVM_SPEC_SHOW=N prints the first N failures of each file as well.
#
# --exceptions: DIR holds the exception-handling proposal's legacy tests (the form clang-19
# emits, which the engine implements), converted with wast2json --enable-exceptions; we use
# commit af287a73d8f3bf7ea216c10592f9e350b947c4f2 (2025-03-20) of the proposal's repository:
#     git clone https://github.com/WebAssembly/exception-handling eh
#     git -C eh checkout af287a73d8f3bf7ea216c10592f9e350b947c4f2
#     sh test/spec/official.sh --exceptions eh/test/legacy/exceptions/core
# (its test/core/tag.wast, the tag section alone, reads the same way; the rest of test/core is
# WebAssembly 3.0's try_table/throw_ref, which the engine does not implement).
set -u
wast2json_flags=
if [ "${1:-}" = --exceptions ]; then
    wast2json_flags="--enable-tail-call --enable-exceptions"
    shift
fi
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: test/spec/official.sh [--exceptions] TESTSUITE-DIR  (a checkout of github.com/WebAssembly/testsuite)" >&2
    exit 2
fi
suite=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
runner=${ZVM_SPEC:-build/zvm-spec}
out=build/spec-official
show=${ZVM_SPEC_SHOW:-0}
if [ ! -x "$runner" ]; then
    echo "official.sh: $runner is not built (run make first)" >&2
    exit 2
fi
mkdir -p "$out"

files=0 clean=0 passed=0 failed=0 skipped=0 broken=0
for wast in "$suite"/*.wast; do
    name=$(basename "$wast" .wast)
    case $name in simd_*) [ "${ZVM_SPEC_SIMD:-0}" = 1 ] || continue;; esac
    files=$((files + 1))
    rm -f "$out/$name".*
    if ! wast2json $wast2json_flags "$wast" -o "$out/$name.json" > "$out/$name.log" 2>&1; then
        printf '%-28s wast2json cannot read it (see %s)\n' "$name.wast" "$out/$name.log"
        broken=$((broken + 1))
        continue
    fi
    timeout 600 "$runner" "$out/$name.json" > "$out/$name.log" 2>&1
    rc=$?
    last=$(tail -n 1 "$out/$name.log")
    # "N passed, M failed" or "N passed, M failed, K skipped"
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    s=$(echo "$last" | sed -n 's/.* failed, \([0-9]*\) skipped$/\1/p')
    if [ -z "$p" ]; then
        if [ $rc -eq 124 ]; then why="timed out"; else why="zvm-spec died (status $rc)"; fi
        printf '%-28s %s, no summary (see %s)\n' "$name.wast" "$why" "$out/$name.log"
        broken=$((broken + 1))
        continue
    fi
    printf '%-28s %s\n' "$name.wast" "$last"
    [ "$show" -gt 0 ] && [ "$f" -gt 0 ] && sed '$d' "$out/$name.log" | grep -v '^called host' | head -n "$show" | sed 's/^/    /'
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    [ "$f" -eq 0 ] && clean=$((clean + 1))
done
echo "total: $files files ($clean without failures, $broken not run to the end): $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $broken -eq 0 ]
