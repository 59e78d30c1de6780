# image_helpers.bash — shared by the bats files that run guests from build/images (python.tar,
# lua.tar): the images made once, a scratch directory per test.

# image_setup_file: makes the images (make sees them up to date after the first time), or fails
# with the build's last lines.
image_setup_file() {
    top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    mkdir -p "$top/build/test-logs"
    if ! make -s -C "$top" images > "$top/build/test-logs/images.log" 2>&1; then
        tail -20 "$top/build/test-logs/images.log" >&3
        echo "# make images failed (see build/test-logs/images.log)" >&3
        return 1
    fi
}

# image_setup NAME.tar: $top, $zvsh, $zvm, $image (build/images/NAME.tar); a fresh scratch
# directory $tmp as the working directory; no zvsh.cfg of the host.
image_setup() {
    top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    zvsh=$top/build/zvsh
    zvm=$top/build/zvm
    image=$top/build/images/$1
    tmp=$(mktemp -d)
    cd "$tmp"
    export ZVSH_CONFIG=$tmp/none.cfg      # no host config leaks into the tests
}

image_teardown() { cd /; rm -rf "$tmp"; }
