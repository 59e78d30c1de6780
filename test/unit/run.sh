#!/bin/sh
# Runs every cmocka program in DIR (default build/test/unit) with TAP output.
dir=${1:-build/test/unit}
status=0
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    echo "# $t"
    CMOCKA_MESSAGE_OUTPUT=TAP "$t" || status=1
done
exit $status
