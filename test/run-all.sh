#!/bin/sh
# make check — runs every suite, each as TAP, and ends with one line "N passed, M failed".
#   suites: unit (cmocka), unit under ASan+UBSan, spec (.wast through zvm-spec), cli (bats), format
# Logs of each suite go to build/test-logs/; failures are echoed here.
# ZVM_CHECK_ONLY="unit bats" runs a subset.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logs=build/test-logs
mkdir -p $logs
# The tests' zvm cache (snapshots, extracted programs): fresh for every run, never the user's.
ZVM_CACHE_DIR=$top/build/test-cache
rm -rf "$ZVM_CACHE_DIR" && mkdir -m 700 "$ZVM_CACHE_DIR"
export ZVM_CACHE_DIR
passed=0 failed=0 skipped=0

# run_suite NAME COMMAND...: runs it, counts its TAP lines, shows its failures.
run_suite() {
    name=$1; shift
    log=$logs/$name.log
    "$@" > "$log" 2>&1
    rc=$?
    p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
    s=$(grep -cE '^ok [0-9]+.*# ?(skip|SKIP)' "$log" | head -1)
    f=$(grep -cE '^not ok [0-9]+' "$log" | head -1)
    p=$((p - s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - suite $name exited with status $rc (see $log)"
        tail -20 "$log"
    fi
    grep -E -A15 '^not ok [0-9]+' "$log" | head -200
    printf '%-12s %5d passed, %d failed, %d skipped\n' "$name:" "$p" "$f" "$s"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

wanted() { [ -z "${ZVM_CHECK_ONLY:-}" ] || case " $ZVM_CHECK_ONLY " in *" $1 "*) return 0;; *) return 1;; esac; }

wanted unit && run_suite unit sh test/unit/run.sh build/test/unit
if wanted asan; then
    if make -s SAN=1 unit-bin build/asan/zvm-spec > $logs/asan-build.log 2>&1; then
        run_suite asan env ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh test/unit/run.sh build/asan/test/unit
        # the spec suite again, on the sanitized engine (explicit bounds checks, no signal handler)
        wanted spec && [ -x test/spec/run.sh ] && run_suite asan-spec env ZVM_SPEC=build/asan/zvm-spec \
            ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh test/spec/run.sh
    else
        echo "not ok - the ASan+UBSan build failed (see $logs/asan-build.log)"; tail -20 $logs/asan-build.log; failed=$((failed + 1))
    fi
fi
wanted spec && [ -x test/spec/run.sh ] && run_suite spec sh test/spec/run.sh
wanted bats && run_suite bats bats --tap test/bats
# the house style: every C file as .clang-format lays it out (make format rewrites them)
wanted format && run_suite format sh test/format-check.sh

if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
