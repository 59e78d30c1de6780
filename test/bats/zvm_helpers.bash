# zvm_helpers.bash — shared by test/bats/zvm*.bats: a scratch dir, a manifest writer, a runner.

zvm_setup() {
    cd "$BATS_TEST_DIRNAME/../.."
    top=$PWD
    zvm=$top/build/zvm
    fx=$top/build/fixtures
    tmp=$(mktemp -d)
    : > "$tmp/in"
}

zvm_teardown() { rm -rf "$tmp"; }

# manifest PROGRAM [LINE...]: writes $tmp/m — the four keys (MEM, TIMEOUT override), std channels
# on $tmp/in, $tmp/out, $tmp/err (ETAG=1 turns their etags on, OUT_PUTS/OUT_BYTES limit stdout),
# then the extra lines as given.
manifest() {
    prog=$1; shift
    {
        echo "Version = 20130611"
        echo "Program = $prog"
        echo "Memory = ${MEM:-67108864},0"
        echo "Timeout = ${TIMEOUT:-10}"
        echo "Channel = $tmp/in,/dev/stdin,0,${ETAG:-0},1000000,1000000000000,0,0"
        echo "Channel = $tmp/out,/dev/stdout,0,${ETAG:-0},0,0,${OUT_PUTS:-1000000},${OUT_BYTES:-1000000000000}"
        echo "Channel = $tmp/err,/dev/stderr,0,0,0,0,1000000,1000000000"
        for line in "$@"; do echo "$line"; done
    } > "$tmp/m"
}

# zvm_run ARGS...: runs zvm with its stdout (the report) in $tmp/report and stderr in $tmp/stderr.
zvm_run() { "$zvm" "$@" > "$tmp/report" 2> "$tmp/stderr"; }

# report_line N: line N of the last report.
report_line() { sed -n "${1}p" "$tmp/report"; }

# state: the report's exit state line.
state() { report_line 6; }
