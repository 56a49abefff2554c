#!/bin/sh
# Install the Debian packages mallapi needs to build, test and benchmark, once.
# Idempotent: asks apt only for what is missing; uses sudo when not root.
set -e
PKGS="build-essential pkg-config lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev
libcurl4-openssl-dev libssl-dev openssl lua-cjson lua-busted lua-dkjson lua-socket
luarocks lua-argparse lua-check lua-luaossl lua-curl nginx-core libnginx-mod-http-lua lua-nginx-redis
redis-server libhiredis-dev valgrind wrk util-linux procps"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
