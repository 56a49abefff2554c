#!/bin/sh
# Build and install mallapi with luarocks into a temporary tree (from a copy of the
# sources, so no object files land in src/), then load it from that tree.
set -e
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r ./*.rockspec src lua "$tmp/"
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
# Debian keeps curl/curl.h under the multiarch include directory.
(cd "$tmp" && luarocks --lua-version=5.4 make --tree "$tmp/tree" CURL_INCDIR="/usr/include/$multiarch" \
  >"$tmp/build.log" 2>&1) || { cat "$tmp/build.log"; exit 1; }
LUA_PATH="$tmp/tree/share/lua/5.4/?.lua;$tmp/tree/share/lua/5.4/?/init.lua" \
LUA_CPATH="$tmp/tree/lib/lua/5.4/?.so" \
  lua5.4 -e 'local m = require "mallapi"; print("loaded mallapi " .. m.version)'
