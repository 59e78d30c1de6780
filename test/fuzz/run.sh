#!/bin/sh
# make fuzz — builds every test/fuzz/fuzz_*.c as a libFuzzer target, with libzvm (every
# libzvm/**/*.c, into an archive a target takes only what it needs from) compiled the same
# way, into build/fuzz/; seeds each target's corpus; runs each target FUZZ_SECONDS seconds
# (default 60), one after the other.
#   make fuzz FUZZ_SECONDS=600        FUZZ_TARGETS="fuzz_validate diff" to run only some
#   FUZZ_SEEDS=dir adds the .wasm files under dir to the engine targets' seeds
# Seeds: the engine targets (fuzz_run, fuzz_validate*) get the wasm fixtures and spec-test
# modules; fuzz_manifest, fuzz_nvram and fuzz_image get small valid inputs made here.
# Last, "diff": the differential fuzzer (diff.py) runs valid modules on the checking build
# (make CHECK=1) and on node's V8 and compares every result, trap and logged value.
# A finding stops that target, leaves its input in build/fuzz/ (crash-*, leak-*, timeout-*)
# and makes this script exit non-zero.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build/fuzz
seconds=${FUZZ_SECONDS:-60}
CC=${CC_FUZZ:-clang-19}
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DZVM_EXPLICIT_BOUNDS -DZVM_CHECK_TRANSLATION"
CFLAGS="-std=gnu11 -D_GNU_SOURCE -DZVM_VERSION=\"fuzz\" -Ilibzvm -fno-strict-aliasing $FLAGS"
mkdir -p "$out/obj"

# libzvm, compiled once per change (any header change recompiles everything).
newest_header=$(find libzvm -name '*.h' -o -name '*.def' | xargs ls -t | head -1)
objs=""
for src in $(find libzvm -name '*.c' | sort); do
    obj="$out/obj/$(echo "$src" | tr '/' '_' | sed 's/\.c$/.o/')"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
        $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || { echo "fuzz: cannot compile $src"; exit 1; }
    fi
    objs="$objs $obj"
done
rm -f "$out/libzvm-fuzz.a"
ar rcs "$out/libzvm-fuzz.a" $objs
libs=$(pkg-config --libs libarchive libcurl jansson yaml-0.1 libcrypto 2>/dev/null)

# Seeds for the engine targets: fixtures (built if they are not) and spec-test modules, if any.
make -s fixtures >/dev/null 2>&1 || echo "fuzz: note: make fixtures failed; seeding from what exists"
seeds="$out/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
for f in build/fixtures/*.wasm $(find build/spec ${FUZZ_SEEDS:-} -name '*.wasm' 2>/dev/null); do
    [ -f "$f" ] && cp "$f" "$seeds/$(echo "$f" | tr '/' '_')"
done

# Seeds for the text and archive parsers: one valid input of each form they take.
seed_text() {
    d="$out/seeds-$1"
    rm -rf "$d"
    mkdir -p "$d"
    shift
    i=0
    for text in "$@"; do i=$((i + 1)); printf '%s\n' "$text" > "$d/seed$i"; done
}
seed_text fuzz_manifest "Version = 20130611
Program = /p.wasm
Memory = 0x4000000,0
Timeout = 010
Node = 1
Channel = /dev/stdin,/dev/stdin,0,0,1,1,0,0
Channel = /dev/stdout,/dev/stdout,0,0,0,0,1,1
Channel = /dev/stderr,/dev/stderr,0,0,0,0,1,1
Channel = /tmp/x.tar,/dev/1.x.tar,3,1,10,100,0,0
# a comment
Timout = 3"
seed_text fuzz_nvram "[args]
args = python -c print(1)\\x20x
[env]
name=HOME, value=/
[fstab]
channel=/dev/1.python.tar, mountpoint=/, access=ro, removable=no
[mapping]
channel=/dev/stdin, mode=pipe
[debug]
verbosity=2
[time]
seconds=1400000000
[random]
seed=0x2014"
d="$out/seeds-fuzz_image"
rm -rf "$d"
mkdir -p "$d/tree/dir/sub"
echo hello > "$d/tree/dir/a.txt"
ln -sf ../a.txt "$d/tree/dir/sub/link"
ln -f "$d/tree/dir/a.txt" "$d/tree/dir/hard"
(cd "$d/tree" && tar --format=ustar -cf ../plain.tar dir && tar --format=pax -czf ../pax.tgz dir && tar --format=gnu -cJf ../gnu.txz dir)
rm -rf "$d/tree"
echo "fuzz: $(ls "$seeds" | wc -l) seed modules, $seconds s per target"

status=0
for src in test/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    case " ${FUZZ_TARGETS:-$name} " in *" $name "*) ;; *) continue;; esac
    bin="$out/$name"
    $CC $CFLAGS "$src" "$out/libzvm-fuzz.a" -o "$bin" $libs -lm -lpthread || { echo "fuzz: cannot build $name"; status=1; continue; }
    corpus="$out/corpus-$name"
    mkdir -p "$corpus"
    target_seeds=seeds
    [ -d "$out/seeds-$name" ] && target_seeds="seeds-$name"
    echo "fuzz: $name for $seconds s (corpus $corpus, seeds $out/$target_seeds)"
    if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1 \
            "./$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 "corpus-$name" "$target_seeds" > "$name.log" 2>&1); then
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
