#!/bin/sh
# make fuzz — builds every test/fuzz/fuzz_*.c as a libFuzzer target, with the engine
# (libzvm/wasm/*.c) compiled the same way, into build/fuzz/; seeds a corpus from the wasm
# fixtures and any spec-test modules; runs each target FUZZ_SECONDS seconds (default 60).
#   make fuzz FUZZ_SECONDS=600        FUZZ_TARGETS="fuzz_validate diff" to run only some
# Last, "diff": the differential fuzzer (diff.py) runs valid modules on the checking build
# (make CHECK=1) and on node's V8 and compares every result, trap and logged value.
#   FUZZ_SEEDS=dir adds the .wasm files under dir to the seeds
# A finding stops that target, leaves its input in build/fuzz/ (crash-*, leak-*, timeout-*)
# and makes this script exit non-zero.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/fuzz
seconds=${FUZZ_SECONDS:-60}
CC=${CC_FUZZ:-clang-19}
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DZVM_EXPLICIT_BOUNDS -DZVM_CHECK_TRANSLATION"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -Ilibzvm -fno-strict-aliasing $FLAGS"
mkdir -p "$out/obj"

# The engine, compiled once per change.
objs=""
for src in libzvm/wasm/*.c; do
    obj="$out/obj/$(basename "$src" .c).o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find libzvm/wasm -name '*.h' -newer "$obj" -o -name '*.def' -newer "$obj")" ]; then
        $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || { echo "fuzz: cannot compile $src"; exit 1; }
    fi
    objs="$objs $obj"
done
# Whatever else of libzvm a target needs (the run target: runtime pieces outside wasm/).
libs=$(pkg-config --libs libarchive libcurl jansson yaml-0.1 libcrypto 2>/dev/null)

# The seed corpus: fixtures (built if they are not) and spec-test modules, if any.
make -s fixtures >/dev/null 2>&1 || echo "fuzz: note: make fixtures failed; seeding from what exists"
seeds="$out/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
for f in build/fixtures/*.wasm $(find build/spec ${FUZZ_SEEDS:-} -name '*.wasm' 2>/dev/null); do
    [ -f "$f" ] && cp "$f" "$seeds/$(echo "$f" | tr '/' '_')"
done
echo "fuzz: $(ls "$seeds" | wc -l) seed modules, $seconds s per target"

status=0
for src in test/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    case " ${FUZZ_TARGETS:-$name} " in *" $name "*) ;; *) continue;; esac
    bin="$out/$name"
    $CC $CFLAGS "$src" $objs -o "$bin" $libs -lm -lpthread || { echo "fuzz: cannot build $name"; status=1; continue; }
    corpus="$out/corpus-$name"
    mkdir -p "$corpus"
    echo "fuzz: $name for $seconds s (corpus $corpus)"
    if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
            "./$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 "corpus-$name" seeds > "$name.log" 2>&1); then
        echo "not ok - $name found a problem: see $out/$name.log"
        grep -E 'ERROR|SUMMARY|Test unit written' "$out/$name.log" | head -5
        status=1
    else
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|cov: ' "$out/$name.log" | tail -3
        echo "ok - $name"
    fi
done
# The differential stage: valid modules on the checking build against node's V8 (diff.py).
case " ${FUZZ_TARGETS:-diff} " in
*" diff "*)
    if make -s CHECK=1 build/check/zvm-fuzz-exec > "$out/check-build.log" 2>&1; then
        echo "fuzz: diff (zvm against V8, valid modules) for $seconds s"
        if python3 test/fuzz/diff.py --seconds "$seconds" --engine build/check/zvm-fuzz-exec --out "$out/diff"; then
            echo "ok - diff"
        else
            echo "not ok - diff: findings in $out/diff/findings (each with its V8 and zvm logs)"
            status=1
        fi
    else
        echo "not ok - diff: the checking build failed (see $out/check-build.log)"
        status=1
    fi
    ;;
esac
exit $status
