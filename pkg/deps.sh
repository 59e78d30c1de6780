#!/bin/sh
# make deps — install from Debian's packages everything the build, the tests and the images need.
# Idempotent: when every package is present it only checks (a second or two).
# As non-root it prints the exact command to run instead.
set -eu

PKGS="build-essential pkg-config make git ca-certificates
 clang-19 lld-19 llvm-19 libclang-rt-19-dev wasi-libc libclang-rt-19-dev-wasm32 wabt binaryen clang-format-19
 libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 rustc libstd-rust-dev-wasm32 lld-14
 libarchive-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev zlib1g-dev
 libcmocka-dev bats man-db groff-base curl libedit-dev tmux
 python3 python3.11 dpkg-dev tcl pyflakes3 lua5.4
 swift swift-proxy swift-account swift-container swift-object memcached python3-swiftclient
 keystone python3-keystonemiddleware uwsgi uwsgi-plugin-python3"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done

# Debian source packages (python3.11, zlib, sqlite3, lua5.4 for the images) need a deb-src entry.
need_src=0
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    need_src=1
fi

if [ -z "$missing" ] && [ $need_src -eq 0 ]; then
    echo "deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: not root; run as root:"
    [ $need_src -eq 1 ] && echo "  (add a deb-src line for your Debian suite to /etc/apt/sources.list.d/zvm-src.list)"
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
    exit 1
fi

if [ $need_src -eq 1 ]; then
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "deps: adding deb-src entries for Debian $suite in /etc/apt/sources.list.d/zvm-src.sources"
    cat > /etc/apt/sources.list.d/zvm-src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

# Packages must not start their services on this machine (the tests start their own).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy && made_policy=1
fi
trap '[ $made_policy -eq 1 ] && rm -f $policy' EXIT

echo "deps: installing:$missing"
apt-get update -q
[ -n "$missing" ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "deps: done"
